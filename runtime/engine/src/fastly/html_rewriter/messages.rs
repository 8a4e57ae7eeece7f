//! The platform's error texts for `fastly:html-rewriter`, verbatim.
//!
//! Copied from js-compute-runtime's `runtime/fastly/builtins/html-rewriter.cpp` (and, for
//! the chunk check, StarlingMonkey's `value_to_buffer`); apps compare them exactly, so they
//! are never reworded. The few texts of edgeshim's own say so.

pub const ALREADY_USED: &str = "HTMLRewriter: cannot add handlers after the rewriter has been used";
pub const HANDLER_NOT_FUNCTION: &str = "HTMLRewriter: element handler must be a function";
pub const ELEMENT_OUTSIDE_HANDLER: &str =
    "Element objects are only valid within onElement handlers";
pub const CHUNK_NOT_BYTES: &str =
    "HTMLRewritingStream transform: chunks must be of type ArrayBuffer or ArrayBufferView";
/// SpiderMonkey's ToString of a Symbol.
pub const SYMBOL_TO_STRING: &str = "can't convert symbol to string";

/// `HTMLRewriter: invalid selector - REASON` (REASON: lol_html's `SelectorError` text).
pub fn invalid_selector(reason: &str) -> String {
    format!("HTMLRewriter: invalid selector - {reason}")
}

/// `Error processing HTML: REASON` (REASON: lol_html's `RewritingError` text; for a handler
/// that threw, `The rewriter has been stopped.`).
pub fn processing(reason: &str) -> String {
    format!("Error processing HTML: {reason}")
}

/// edgeshim's own: the rewriter's thread cannot exist in the instance that is copied by fork.
pub const OUTSIDE_REQUEST: &str = "HTMLRewritingStream is not emulated by edgeshim during \
     initialization: it rewrites only while a request is handled. Start the rewriting from \
     the fetch handler.";

/// edgeshim's own: the rewriter's thread is gone (it could not start, or it panicked).
pub const REWRITER_GONE: &str = "the rewriter is no longer running";
