//! Log lines of a copy travel to the server, which writes them in the span of the request
//! they belong to (`request{id method path}`), as in-process instances' lines are.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::protocol::{LogLevel, Up};

/// Sends every event of the copy's JS thread to the server.
pub(super) struct Forward(pub fn(&Up) -> bool);

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

impl<S: Subscriber> Layer<S> for Forward {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut message = Message::default();
        event.record(&mut message);
        let level = match *event.metadata().level() {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            Level::TRACE => LogLevel::Trace,
        };
        (self.0)(&Up::Log {
            level,
            target: event.metadata().target().to_owned(),
            message: message.0,
        });
    }
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
        "edgeshim::compat" => at_level!("edgeshim::compat", message),
        "edgeshim::kv" => at_level!("edgeshim::kv", message),
        "edgeshim::js" => at_level!("edgeshim::js", message),
        other => at_level!("edgeshim::engine", format_args!("{other}: {message}")),
    }
}
