//! Every error `fastly:html-rewriter` can raise, and the one place that turns them into JS
//! errors. Call sites decide only when an error surfaces; its class and text are decided here.

use boa_engine::{JsError, JsNativeError};

use super::messages as msg;
use crate::class_util::{not_constructible, too_few_arguments, wrong_receiver};

/// What the rewriting thread reports (no engine types: [`super::rewriter`] is plain Rust).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// lol_html's own error text (a stopped handler's included).
    #[error("{0}")]
    Html(String),
    /// A call after the document ended or failed, or a worker that vanished.
    #[error("{}", msg::REWRITER_GONE)]
    Closed,
    /// The OS refused the worker thread.
    #[error("cannot start the rewriter thread: {0}")]
    Thread(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtmlRewriterError {
    #[error("{}", wrong_receiver(.method, .class))]
    WrongReceiver {
        method: &'static str,
        class: &'static str,
    },
    #[error("{}", too_few_arguments(.what, *.required, *.passed))]
    TooFewArguments {
        what: &'static str,
        required: usize,
        passed: usize,
    },
    #[error("{}", msg::SYMBOL_TO_STRING)]
    SymbolToString,
    #[error("{}", not_constructible("Element"))]
    ElementNotConstructible,
    #[error("{}", msg::ALREADY_USED)]
    AlreadyUsed,
    #[error("{}", msg::HANDLER_NOT_FUNCTION)]
    HandlerNotFunction,
    /// lol_html's `SelectorError` text.
    #[error("{}", msg::invalid_selector(.0))]
    InvalidSelector(String),
    #[error("{}", msg::ELEMENT_OUTSIDE_HANDLER)]
    ElementOutsideHandler,
    /// lol_html's `AttributeNameError` text. On Compute this failure ends the handler
    /// uncatchably; here it throws, and the rewriting stops all the same.
    #[error("{0}")]
    AttributeName(String),
    #[error("{}", msg::CHUNK_NOT_BYTES)]
    ChunkNotBytes,
    #[error("{}", msg::processing(&.0.to_string()))]
    Processing(RewriteError),
    #[error("{}", msg::OUTSIDE_REQUEST)]
    OutsideRequest,
}

impl HtmlRewriterError {
    /// The JS error class the platform uses: TypeError for the engine's own checks, a plain
    /// Error (`JS_ReportError*`) for every check of the rewriter's.
    fn native(&self) -> JsNativeError {
        match self {
            Self::WrongReceiver { .. }
            | Self::TooFewArguments { .. }
            | Self::SymbolToString
            | Self::ElementNotConstructible
            | Self::ChunkNotBytes => JsNativeError::typ(),
            Self::AlreadyUsed
            | Self::HandlerNotFunction
            | Self::InvalidSelector(_)
            | Self::ElementOutsideHandler
            | Self::AttributeName(_)
            | Self::Processing(_)
            | Self::OutsideRequest => JsNativeError::error(),
        }
    }
}

impl From<HtmlRewriterError> for JsError {
    fn from(err: HtmlRewriterError) -> Self {
        let message = err.to_string();
        err.native().with_message(message).into()
    }
}

impl From<RewriteError> for HtmlRewriterError {
    fn from(err: RewriteError) -> Self {
        Self::Processing(err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use boa_engine::Context;

    /// `(name, message)` of the JS error `err` becomes.
    fn js(err: HtmlRewriterError) -> (String, String) {
        let context = &mut Context::default();
        let error = JsError::from(err).into_opaque(context).unwrap();
        let object = error.as_object().unwrap();
        let text = |key: &str, context: &mut Context| {
            object
                .get(boa_engine::JsString::from(key), context)
                .unwrap()
                .to_string(context)
                .unwrap()
                .to_std_string_escaped()
        };
        (text("name", context), text("message", context))
    }

    #[test]
    fn each_error_has_the_platform_class_and_text() {
        let cases = [
            (
                HtmlRewriterError::WrongReceiver {
                    method: "onElement",
                    class: "HTMLRewritingStream",
                },
                "TypeError",
                "Method 'onElement' called on receiver that's not an instance of HTMLRewritingStream",
            ),
            (
                HtmlRewriterError::TooFewArguments {
                    what: "setAttribute",
                    required: 2,
                    passed: 1,
                },
                "TypeError",
                "setAttribute: At least 2 arguments required, but only 1 passed",
            ),
            (
                HtmlRewriterError::SymbolToString,
                "TypeError",
                "can't convert symbol to string",
            ),
            (
                HtmlRewriterError::ElementNotConstructible,
                "TypeError",
                "Element builtin can't be instantiated directly",
            ),
            (
                HtmlRewriterError::ChunkNotBytes,
                "TypeError",
                "HTMLRewritingStream transform: chunks must be of type ArrayBuffer or ArrayBufferView",
            ),
            (
                HtmlRewriterError::AlreadyUsed,
                "Error",
                "HTMLRewriter: cannot add handlers after the rewriter has been used",
            ),
            (
                HtmlRewriterError::HandlerNotFunction,
                "Error",
                "HTMLRewriter: element handler must be a function",
            ),
            (
                HtmlRewriterError::InvalidSelector("Unexpected token in selector.".into()),
                "Error",
                "HTMLRewriter: invalid selector - Unexpected token in selector.",
            ),
            (
                HtmlRewriterError::ElementOutsideHandler,
                "Error",
                "Element objects are only valid within onElement handlers",
            ),
            (
                HtmlRewriterError::AttributeName("Attribute name can't be empty.".into()),
                "Error",
                "Attribute name can't be empty.",
            ),
            (
                RewriteError::Html("The rewriter has been stopped.".into()).into(),
                "Error",
                "Error processing HTML: The rewriter has been stopped.",
            ),
            (
                RewriteError::Closed.into(),
                "Error",
                "Error processing HTML: the rewriter is no longer running",
            ),
        ];
        for (error, class, message) in cases {
            assert_eq!(js(error), (class.to_owned(), message.to_owned()));
        }
    }
}
