//! `URL`. For now boa_runtime's, which lacks `URLSearchParams` (and its `searchParams`
//! throws); being replaced by the project's own (WHATWG URL).

use boa_engine::{Context, JsResult};
use boa_runtime::RuntimeExtension;

pub fn register(context: &mut Context) -> JsResult<()> {
    boa_runtime::extensions::UrlExtension.register(None, context)
}
