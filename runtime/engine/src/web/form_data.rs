//! `formData()` of a body: `application/x-www-form-urlencoded` parsed into a `FormData`
//! (from `js-lib/blob.js`). Multipart bodies are not parsed yet.

use boa_engine::object::builtins::JsArray;
use boa_engine::{js_string, Context, JsResult, JsString, JsValue};

use crate::class_util::type_error;

/// A `FormData` holding the pairs of an urlencoded body.
pub fn from_urlencoded(bytes: &[u8], context: &mut Context) -> JsResult<JsValue> {
    let pairs: Vec<JsValue> = url::form_urlencoded::parse(bytes)
        .map(|(name, value)| {
            JsArray::from_iter(
                [
                    JsString::from(&*name).into(),
                    JsString::from(&*value).into(),
                ],
                context,
            )
            .into()
        })
        .collect();
    let pairs = JsArray::from_iter(pairs, context);
    let internal = crate::js_lib::internal(context, "blob")?;
    let make = internal.get(js_string!("formDataFromPairs"), context)?;
    let make = make
        .as_callable()
        .ok_or_else(|| type_error("formDataFromPairs is missing"))?;
    make.call(&internal.into(), &[pairs.into()], context)
}
