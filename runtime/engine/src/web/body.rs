//! Bytes in and out of JS: converting body and value inputs to bytes, and reading bytes back
//! as text, JSON or an `ArrayBuffer`. Shared by `Request`, `Response` and `KVStoreEntry`.
//!
//! Follows the "extract a body" and "consume body" steps of the Fetch standard:
//! <https://fetch.spec.whatwg.org/#concept-bodyinit-extract>.

use boa_engine::object::builtins::{
    AlignedVec, JsArrayBuffer, JsDataView, JsSharedArrayBuffer, JsTypedArray, JsUint8Array,
};
use boa_engine::{js_string, Context, JsNativeError, JsObject, JsResult, JsString, JsValue};
use std::borrow::Cow;

use bytes::Bytes;

/// The bytes of an `ArrayBuffer`, `SharedArrayBuffer`, TypedArray or `DataView` (exactly the
/// viewed range), or `None` if `value` is none of these.
pub fn buffer_source_bytes(value: &JsValue, context: &mut Context) -> JsResult<Option<Vec<u8>>> {
    let Some(object) = value.as_object() else {
        return Ok(None);
    };
    if let Ok(buffer) = JsArrayBuffer::from_object(object.clone()) {
        return Ok(Some(buffer.to_vec().unwrap_or_default()));
    }
    if let Ok(buffer) = JsSharedArrayBuffer::from_object(object.clone()) {
        return Ok(Some(buffer.to_vec()));
    }
    let (buffer, offset, length) = if let Ok(view) = JsTypedArray::from_object(object.clone()) {
        (
            view.buffer(context)?,
            view.byte_offset(context)?,
            view.byte_length(context)?,
        )
    } else if let Ok(view) = JsDataView::from_object(object.clone()) {
        let offset = usize::try_from(view.byte_offset(context)?).unwrap_or(usize::MAX);
        let length = usize::try_from(view.byte_length(context)?).unwrap_or(usize::MAX);
        (view.buffer(context)?, offset, length)
    } else {
        return Ok(None);
    };
    let whole = match buffer.as_object() {
        Some(b) => match JsArrayBuffer::from_object(b.clone()) {
            Ok(ab) => ab.to_vec().unwrap_or_default(),
            Err(_) => JsSharedArrayBuffer::from_object(b.clone())?.to_vec(),
        },
        None => Vec::new(),
    };
    Ok(Some(
        whole
            .get(offset..offset.saturating_add(length))
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
    ))
}

/// ToString of `value` as UTF-8, lone surrogates replaced by U+FFFD (as the platform does).
pub fn to_utf8_string(value: &JsValue, context: &mut Context) -> JsResult<String> {
    Ok(value.to_string(context)?.to_std_string_lossy())
}

/// A new `ArrayBuffer` holding `bytes`.
pub fn array_buffer(bytes: &[u8], context: &mut Context) -> JsResult<JsObject> {
    let block = AlignedVec::from_slice(0, bytes);
    Ok(JsArrayBuffer::from_byte_block(block, context)?.into())
}

/// A new `Uint8Array` holding `bytes`.
pub fn uint8_array(bytes: &[u8], context: &mut Context) -> JsResult<JsObject> {
    let buffer = JsArrayBuffer::from_byte_block(AlignedVec::from_slice(0, bytes), context)?;
    Ok(JsUint8Array::from_array_buffer(buffer, context)?.into())
}

/// How text is decoded from bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf8Mode {
    /// Invalid sequences become U+FFFD (WHATWG "UTF-8 decode", used by Request/Response).
    Replace,
    /// Invalid sequences are an error naming the byte offset (the KV store's entries).
    Strict,
}

/// Decodes `bytes` as UTF-8. The replacing mode removes a leading BOM, as the Encoding
/// standard's "UTF-8 decode" does; the strict mode keeps every byte (the KV store's entries).
///
/// # Errors
/// In [`Utf8Mode::Strict`], the offset of the first invalid byte.
pub fn decode_utf8(bytes: &[u8], mode: Utf8Mode) -> Result<JsString, usize> {
    let text = match mode {
        Utf8Mode::Replace => {
            String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        }
        Utf8Mode::Strict => std::str::from_utf8(bytes)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| e.valid_up_to())?,
    };
    Ok(JsString::from(&*text))
}

/// `JSON.parse` of a string; bad input is a SyntaxError with SpiderMonkey's message, line and
/// column ([`super::json_error`]), as the platform's `json()` rejects.
pub fn parse_json(text: JsString, context: &mut Context) -> JsResult<JsValue> {
    let json = context.intrinsics().objects().json();
    let parse = json.get(js_string!("parse"), context)?;
    let parse = parse
        .as_callable()
        .ok_or_else(|| JsNativeError::typ().with_message("JSON.parse is not callable"))?;
    parse
        .call(&json.into(), &[text.clone().into()], context)
        .map_err(|error| {
            match super::json_error::spidermonkey_message(&text.to_std_string_lossy()) {
                Some(message) => JsNativeError::syntax().with_message(message).into(),
                None => error,
            }
        })
}

/// `JSON.stringify(value)`; `None` when the result is `undefined` (e.g. for a function).
pub fn stringify_json(value: &JsValue, context: &mut Context) -> JsResult<Option<JsString>> {
    let json = context.intrinsics().objects().json();
    let stringify = json.get(js_string!("stringify"), context)?;
    let stringify = stringify
        .as_callable()
        .ok_or_else(|| JsNativeError::typ().with_message("JSON.stringify is not callable"))?;
    let result = stringify.call(&json.into(), std::slice::from_ref(value), context)?;
    Ok(result.as_string())
}

/// Which body-reading method was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAs {
    Text,
    Json,
    ArrayBuffer,
    /// `formData()`: handled by the body mixin, which can build a `FormData`.
    FormData,
}

/// Converts a complete body as `text()`, `json()` or `arrayBuffer()` would.
///
/// # Errors
/// A TypeError for invalid UTF-8 in strict mode (message from `malformed`), a SyntaxError from
/// JSON parsing.
pub fn read_as(
    bytes: &Bytes,
    how: ReadAs,
    mode: Utf8Mode,
    malformed: impl FnOnce(usize) -> boa_engine::JsError,
    context: &mut Context,
) -> JsResult<JsValue> {
    match how {
        ReadAs::ArrayBuffer => Ok(array_buffer(bytes, context)?.into()),
        ReadAs::Text => Ok(decode_utf8(bytes, mode).map_err(malformed)?.into()),
        ReadAs::Json => {
            let text = decode_utf8(bytes, mode).map_err(malformed)?;
            parse_json(text, context)
        }
        ReadAs::FormData => Err(boa_engine::JsNativeError::typ()
            .with_message("formData() is not available here")
            .into()),
    }
}

/// "Extract a body" for a `BodyInit`: the bytes and the `Content-Type` it implies.
/// `null`/`undefined` is no body.
pub fn extract_body(
    value: &JsValue,
    context: &mut Context,
) -> JsResult<(Option<Bytes>, Option<Cow<'static, str>>)> {
    if value.is_null_or_undefined() {
        return Ok((None, None));
    }
    if let Some(bytes) = buffer_source_bytes(value, context)? {
        return Ok((Some(Bytes::from(bytes)), None));
    }
    if let Some(blob) = blob_body(value, context)? {
        return Ok(blob);
    }
    if let Some(params) = value
        .as_object()
        .and_then(|o| super::url::serialize_params(&o))
    {
        return Ok((
            Some(Bytes::from(params)),
            Some(Cow::Borrowed(
                "application/x-www-form-urlencoded;charset=UTF-8",
            )),
        ));
    }
    let text = to_utf8_string(value, context)?;
    Ok((
        Some(Bytes::from(text)),
        Some(Cow::Borrowed("text/plain;charset=UTF-8")),
    ))
}

/// A `Blob` (its bytes and type) or a `FormData` (multipart) as a body, if `value` is one.
/// Neither can exist before the blob library was loaded, so it is not loaded to check.
type Extracted = (Option<Bytes>, Option<Cow<'static, str>>);

fn blob_body(value: &JsValue, context: &mut Context) -> JsResult<Option<Extracted>> {
    if value.as_object().is_none() || !crate::js_lib::is_loaded(context, "blob") {
        return Ok(None);
    }
    let internal = crate::js_lib::internal(context, "blob")?;
    let call = |name: &str, context: &mut Context| -> JsResult<JsValue> {
        let function = internal.get(js_string!(name), context)?;
        let function = function.as_callable().ok_or_else(|| {
            JsNativeError::typ().with_message(format!("blob internal {name} is missing"))
        })?;
        function.call(
            &internal.clone().into(),
            std::slice::from_ref(value),
            context,
        )
    };
    if call("isBlob", context)?.to_boolean() {
        let bytes = buffer_source_bytes(&call("blobBytes", context)?, context)?.unwrap_or_default();
        let kind = call("blobType", context)?
            .to_string(context)?
            .to_std_string_lossy();
        let kind = (!kind.is_empty()).then_some(Cow::Owned(kind));
        return Ok(Some((Some(Bytes::from(bytes)), kind)));
    }
    if call("isFormData", context)?.to_boolean() {
        let multipart = call("formDataToMultipart", context)?;
        let multipart = multipart
            .as_object()
            .ok_or_else(|| JsNativeError::typ().with_message("multipart serialization failed"))?;
        let bytes = multipart.get(js_string!("bytes"), context)?;
        let bytes = buffer_source_bytes(&bytes, context)?.unwrap_or_default();
        let boundary = multipart
            .get(js_string!("boundary"), context)?
            .to_string(context)?;
        let kind = format!(
            "multipart/form-data; boundary={}",
            boundary.to_std_string_lossy()
        );
        return Ok(Some((Some(Bytes::from(bytes)), Some(Cow::Owned(kind)))));
    }
    Ok(None)
}
