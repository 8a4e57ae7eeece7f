//! `crypto`: not yet provided (Web Crypto is being added).

use boa_engine::{Context, JsResult};

pub fn register(_context: &mut Context) -> JsResult<()> {
    Ok(())
}
