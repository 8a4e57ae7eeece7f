//! The Fetch "Body" mixin shared by `Request` and `Response`: `bodyUsed`, `text()`, `json()`,
//! `arrayBuffer()`. See <https://fetch.spec.whatwg.org/#body-mixin>.

use boa_engine::class::ClassBuilder;
use boa_engine::object::builtins::JsPromise;
use boa_engine::object::NativeObject;
use boa_engine::{js_string, Context, JsResult, JsValue, NativeFunction};
use bytes::Bytes;

use super::body::{read_as, ReadAs, Utf8Mode};
use crate::class_util::{getter, this_as, type_error};

/// A complete body and whether it was read.
#[derive(Debug, Default, Clone)]
pub struct BodyState {
    pub bytes: Option<Bytes>,
    pub used: bool,
}

impl BodyState {
    pub fn new(bytes: Option<Bytes>) -> Self {
        Self { bytes, used: false }
    }

    /// Marks the body read and hands out its bytes (empty for a null body).
    fn take(&mut self) -> Result<Bytes, &'static str> {
        if self.used {
            return Err("Body has already been consumed");
        }
        if self.bytes.is_some() {
            self.used = true;
        }
        Ok(self.bytes.clone().unwrap_or_default())
    }
}

/// Implemented by the classes that have a body.
pub trait HasBody: NativeObject + Sized {
    const CLASS: &'static str;
    fn body(&mut self) -> &mut BodyState;
}

fn read<T: HasBody>(
    this: &JsValue,
    method: &str,
    how: ReadAs,
    context: &mut Context,
) -> JsResult<JsValue> {
    let object = this_as::<T>(this, method, T::CLASS)?;
    let taken = object.borrow_mut().data_mut().body().take();
    let result = match taken {
        Ok(bytes) => read_as(
            &bytes,
            how,
            Utf8Mode::Replace,
            |_| type_error("invalid UTF-8"),
            context,
        ),
        Err(message) => Err(type_error(message)),
    };
    // Reading is asynchronous in the platform even when the body is already complete.
    Ok(match result {
        Ok(value) => JsPromise::resolve(value, context)?,
        Err(err) => JsPromise::reject(err, context)?,
    }
    .into())
}

/// Adds `bodyUsed`, `text()`, `json()` and `arrayBuffer()` to a class.
pub fn add_body_members<T: HasBody>(class: &mut ClassBuilder<'_>) {
    getter(class, "bodyUsed", |this, _, _| {
        let object = this_as::<T>(this, "bodyUsed", T::CLASS)?;
        let used = object.borrow_mut().data_mut().body().used;
        Ok(used.into())
    });
    class
        .method(
            js_string!("text"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| read::<T>(this, "text", ReadAs::Text, ctx)),
        )
        .method(
            js_string!("json"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| read::<T>(this, "json", ReadAs::Json, ctx)),
        )
        .method(
            js_string!("arrayBuffer"),
            0,
            NativeFunction::from_fn_ptr(|this, _, ctx| {
                read::<T>(this, "arrayBuffer", ReadAs::ArrayBuffer, ctx)
            }),
        );
}
