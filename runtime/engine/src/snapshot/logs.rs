//! Log lines of a copy travel to the server, which writes them in the span of the request
//! they belong to (`request{id method path}`), as in-process instances' lines are.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use super::protocol::{LogLevel, Up};

/// Sends the copy's log events (the `edgeshim*` targets, at the server's level) to the
/// server. A plain `Subscriber`, not a registry: it is made in every copy, so it stays cheap.
pub(super) struct Forward {
    pub send: fn(&Up) -> bool,
    pub max: LevelFilter,
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Forward {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("edgeshim") && *metadata.level() <= self.max
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max)
    }

    // The copy's spans are not forwarded: its lines take the server's request span.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = Message::default();
        event.record(&mut message);
        let level = match *event.metadata().level() {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            Level::TRACE => LogLevel::Trace,
        };
        (self.send)(&Up::Log {
            level,
            target: event.metadata().target().to_owned(),
            message: message.0,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Writes a copy's log line on the server, in the current span. Targets are static in
/// `tracing`, so the engine's known ones are kept and any other is logged as
/// `edgeshim::engine` with its own name in front.
pub(super) fn emit(level: LogLevel, target: &str, message: &str) {
    macro_rules! at_level {
        ($target:literal, $message:expr) => {
            match level {
                LogLevel::Error => tracing::error!(target: $target, "{}", $message),
                LogLevel::Warn => tracing::warn!(target: $target, "{}", $message),
                LogLevel::Info => tracing::info!(target: $target, "{}", $message),
                LogLevel::Debug => tracing::debug!(target: $target, "{}", $message),
                LogLevel::Trace => tracing::trace!(target: $target, "{}", $message),
            }
        };
    }
    match target {
        "edgeshim::console" => at_level!("edgeshim::console", message),
        // Once per call site for the server, as in-process instances log them, though
        // every copy starts from the snapshot's empty set.
        "edgeshim::compat" => {
            if crate::fastly::compat::first_line(message) {
                at_level!("edgeshim::compat", message);
            }
        }
        "edgeshim::kv" => at_level!("edgeshim::kv", message),
        "edgeshim::js" => at_level!("edgeshim::js", message),
        "edgeshim::backend" => at_level!("edgeshim::backend", message),
        "edgeshim::cache" => at_level!("edgeshim::cache", message),
        "edgeshim::html_rewriter" => at_level!("edgeshim::html_rewriter", message),
        other => at_level!("edgeshim::engine", format_args!("{other}: {message}")),
    }
}
