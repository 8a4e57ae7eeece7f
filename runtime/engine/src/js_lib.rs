//! Built-ins written in JavaScript (`js-lib/`), embedded from one table and installed as
//! lazily evaluated globals. Being built: see the streams work.

use boa_engine::{Context, JsResult};

/// Installs the JS-written globals.
pub fn register(_context: &mut Context) -> JsResult<()> {
    Ok(())
}
