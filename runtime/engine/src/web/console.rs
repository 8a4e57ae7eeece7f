//! `console.*`, formatted by boa_runtime and routed into the server's log through `tracing`.
//!
//! Messages go to the `edgeshim::console` target at the level their method implies; the
//! request span the worker entered names the request they belong to. Positions boa_runtime
//! adds (`(FILE:LINE:COLUMN)`) are the TypeScript file's own, as in error reports.

use boa_engine::{Context, Finalize, JsResult, Trace};
use boa_runtime::console::{ConsoleState, Logger};

#[derive(Debug, Trace, Finalize)]
struct TracingLogger;

const TARGET: &str = "edgeshim::console";

impl Logger for TracingLogger {
    fn debug(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        tracing::debug!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }

    fn log(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        tracing::info!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }

    fn info(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        self.log(msg, state, context)
    }

    fn warn(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        tracing::warn!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }

    fn error(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        tracing::error!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }
}

/// The global `console`, as a boa_runtime extension.
pub fn extension() -> impl boa_runtime::RuntimeExtension {
    boa_runtime::extensions::ConsoleExtension(TracingLogger)
}
