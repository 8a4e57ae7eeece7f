//! `console.*`, formatted by boa_runtime and routed into the server's log through `tracing`.
//!
//! Messages go to the `edgeshim::console` target at the level their method implies; the
//! request span the worker entered names the request they belong to. Positions boa_runtime
//! adds (`(FILE:LINE:COLUMN)`) are the TypeScript file's own, as in error reports.
//! `configureConsole({ prefixing: true })` (`fastly:logger`) adds the platform's `Log: `
//! style prefixes.

use boa_engine::{Context, Finalize, JsResult, Trace};
use boa_runtime::console::{ConsoleState, Logger};

use crate::fastly::logger::{ConsoleLevel, ConsoleOptions};

#[derive(Debug, Trace, Finalize)]
struct TracingLogger;

const TARGET: &str = "edgeshim::console";

impl Logger for TracingLogger {
    fn debug(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        let msg = ConsoleOptions::format(context, ConsoleLevel::Debug, msg);
        tracing::debug!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }

    fn log(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        let msg = ConsoleOptions::format(context, ConsoleLevel::Log, msg);
        tracing::info!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }

    fn info(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        let msg = ConsoleOptions::format(context, ConsoleLevel::Info, msg);
        tracing::info!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }

    fn warn(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        let msg = ConsoleOptions::format(context, ConsoleLevel::Warn, msg);
        tracing::warn!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }

    fn error(&self, msg: String, state: &ConsoleState, context: &mut Context) -> JsResult<()> {
        let msg = crate::loader::original_positions(msg, context);
        let msg = ConsoleOptions::format(context, ConsoleLevel::Error, msg);
        tracing::error!(target: TARGET, "{:indent$}{msg}", "", indent = state.indent());
        Ok(())
    }
}

/// The global `console`, as a boa_runtime extension.
pub fn extension() -> impl boa_runtime::RuntimeExtension {
    boa_runtime::extensions::ConsoleExtension(TracingLogger)
}
