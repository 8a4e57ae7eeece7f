//! `fastly:html-rewriter`: `HTMLRewritingStream` on lol_html (the version js-compute-runtime
//! pins), and the `Element` its handlers receive.
//!
//! | file            | what                                                           |
//! |-----------------|----------------------------------------------------------------|
//! | `binding.rs`    | the rewriter object behind the JS class, and `Element`         |
//! | `rewriter.rs`   | lol_html on its own thread, driven by the JS thread (no engine types) |
//! | `validation.rs` | handler selectors and new attribute names as lol_html checks them |
//! | `error.rs`      | every failure, and the one mapping to JS error classes         |
//! | `messages.rs`   | the platform's message texts, verbatim                         |
//!
//! The `HTMLRewritingStream` class itself (a `TransformStream` with the platform's shape) is
//! in `js-lib/fastly.js`; it reaches [`new_rewriter`] as the host helper `htmlRewriter`.
//!
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/html-rewriter/HTMLRewritingStream/>;
//! behaviour and messages follow js-compute-runtime's `runtime/fastly/builtins/html-rewriter.cpp`.

mod binding;
pub mod error;
pub mod messages;
pub mod rewriter;
pub mod validation;

pub use binding::{end_request, new_rewriter};
