//! `TextEncoder` and `TextDecoder`. For now boa_runtime's, which lacks `encodeInto` and the
//! decoder options; being replaced by the project's own (WHATWG Encoding).

use boa_engine::{Context, JsResult};
use boa_runtime::RuntimeExtension;

pub fn register(context: &mut Context) -> JsResult<()> {
    boa_runtime::extensions::EncodingExtension.register(None, context)
}
