//! The platform's messages for `Logger` and `configureConsole`, verbatim
//! (js-compute-runtime's `builtins/logger.cpp`, and `host-api/host_call.cpp` for the host's
//! invalid-argument error, which names the C++ function and ends in a newline).

pub const CONFIGURE_CONSOLE_OPTIONS: &str =
    "configureConsole requires an options object as its argument";
pub const PREFIXING_NOT_BOOLEAN: &str = "prefixing option must be a boolean";
pub const STDERR_NOT_BOOLEAN: &str = "stderr option must be a boolean";
pub const LOG_INVALID_ARGUMENT: &str = "log: Invalid argument.\n";
