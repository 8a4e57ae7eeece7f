//! Compatibility warnings: where an app relies on behaviour that Fastly's docs and its
//! production runtime disagree on, or that only the local server tolerates.
//!
//! The contract (`shared/reference/kv-store.md`, "Which source wins", rule 4) asks for a
//! one-line warning rather than silence. Each warning is logged once per call site
//! (`file:line` of the app code that made the call, taken from Boa's stack) for the life of
//! the process. With `--strict`  each one also fails the request: the
//! instance turns the recorded [`CompatViolation`] into a 500 once the handler is done.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::OnceLock;

use boa_engine::{js_string, Context, JsValue};
use parking_lot::Mutex;

/// One kind of reliance on disputed behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompatWarning {
    /// `KVStore.list()` without options: the docs call them optional, production throws.
    ListWithoutOptions,
    /// `put(..., { mode })` with a mode the docs do not list: production silently overwrites.
    UnknownMode(String),
    /// `put` metadata over the docs' 1000 bytes: production does not check it in JS.
    MetadataTooLong(usize),
    /// `put(key, new ReadableStream(...))`: the docs accept any ReadableStream, production
    /// refuses content-provided streams.
    ContentProvidedStream,
    /// `fetch(url, { imageOptimizerOptions })`: production sends the request to Fastly's
    /// image service with this query string; edgeshim has none and passes the image through.
    /// A notice ([`note`]), not a `--strict` failure: the app is right, edgeshim lacks the
    /// service.
    ImageOptimizerPassThrough { url: String, query: String },
    /// `fetch(request)` where `request` carries `imageOptimizerOptions`: js-compute's
    /// `fetch` copies the request without them (`Request::create` sets them from `init`
    /// only), so production fetches the image untransformed, as edgeshim does.
    ImageOptimizerOptionsDropped,
}

/// The docs' limit on `put` metadata, in bytes.
pub const DOCS_METADATA_LIMIT: usize = 1000;

impl std::fmt::Display for CompatWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ListWithoutOptions => f.write_str(
                "KVStore.list() called without options: the docs say they are optional, but \
                 production throws TypeError 'KVStore.list: options must be an object'; pass {}",
            ),
            Self::UnknownMode(mode) => write!(
                f,
                "KVStore.put mode '{mode}' is not one of overwrite, add, append, prepend: \
                 production silently overwrites"
            ),
            Self::MetadataTooLong(len) => write!(
                f,
                "KVStore.put metadata is {len} bytes: the docs allow at most \
                 {DOCS_METADATA_LIMIT}, production does not check it in JavaScript"
            ),
            Self::ContentProvidedStream => f.write_str(
                "KVStore.put was given a ReadableStream the app made: the docs accept it, \
                 production rejects it ('Content-provided streams are not yet supported for \
                 streaming into KVStore'); pass the bytes, or a request or response body",
            ),
            Self::ImageOptimizerPassThrough { url, query } => write!(
                f,
                "fetch({url}) with imageOptimizerOptions: edgeshim has no image service and \
                 returns the backend's image unchanged; on Compute, Fastly's image service \
                 fetches it and transforms it with '{query}'"
            ),
            Self::ImageOptimizerOptionsDropped => f.write_str(
                "fetch() was given a Request made with imageOptimizerOptions: js-compute's \
                 fetch copies the request without them, so production fetches the image \
                 untransformed too; pass imageOptimizerOptions in fetch's init to transform it",
            ),
        }
    }
}

/// A warning that failed the request because the server runs with `--strict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatViolation {
    pub warning: CompatWarning,
    /// `file:line` of the app code that made the call, when the stack tells.
    pub call_site: Option<String>,
}

impl std::fmt::Display for CompatViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.call_site {
            Some(site) => write!(f, "{site}: {}", self.warning),
            None => write!(f, "{}", self.warning),
        }
    }
}

/// Per-context state: whether warnings are fatal, and those recorded for this request.
#[derive(Debug, Default)]
pub struct Compat {
    strict: bool,
    violations: RefCell<Vec<CompatViolation>>,
}

impl Compat {
    /// Installs the state in `context`; `strict` makes every warning fail its request.
    pub fn install(strict: bool, context: &mut Context) {
        context.insert_data(Self {
            strict,
            violations: RefCell::default(),
        });
    }

    /// The first violation recorded since the last call, if any (the rest are dropped: one
    /// is enough to fail the request, and each was logged).
    pub fn take_violation(context: &Context) -> Option<CompatViolation> {
        let compat = context.get_data::<Self>()?;
        let mut violations = compat.violations.borrow_mut();
        let first = violations.first().cloned();
        violations.clear();
        first
    }
}

/// Call sites already warned about in this process, as `kind|file:line`.
fn seen() -> &'static Mutex<HashSet<String>> {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    SEEN.get_or_init(Mutex::default)
}

/// Whether this is the first time `warning` is raised from `call_site` in this process.
fn first_time(warning: &CompatWarning, call_site: Option<&str>) -> bool {
    let kind = match warning {
        CompatWarning::ListWithoutOptions => "list-without-options",
        CompatWarning::UnknownMode(_) => "unknown-mode",
        CompatWarning::MetadataTooLong(_) => "metadata-too-long",
        CompatWarning::ContentProvidedStream => "content-provided-stream",
        CompatWarning::ImageOptimizerPassThrough { .. } => "image-optimizer",
        CompatWarning::ImageOptimizerOptionsDropped => "image-optimizer-dropped",
    };
    // Without a call site, each distinct set of image options is warned about once.
    let site = match (call_site, warning) {
        (Some(site), _) => site,
        (None, CompatWarning::ImageOptimizerPassThrough { query, .. }) => query.as_str(),
        (None, _) => "",
    };
    seen().lock().insert(format!("{kind}|{site}"))
}

/// Whether a copy's compatibility line (already once per call site in that copy) is new to
/// this server: each request runs in a fresh copy of the snapshot, which starts with no
/// call site seen.
pub fn first_line(message: &str) -> bool {
    let mut seen = seen().lock();
    // Lines carry their details (a URL, a length): a long-running server stops remembering
    // at some point rather than grow without bound, and logs every line from then on.
    if seen.len() >= SEEN_LIMIT {
        return true;
    }
    seen.insert(format!("line|{message}"))
}

/// How many distinct warnings the server remembers (to log each once).
const SEEN_LIMIT: usize = 10_000;

/// `file:line` of the innermost app (bytecode) frame, from a fresh `Error`'s stack.
///
/// Boa keeps a shadow stack for `Error.prototype.stack`; its lines read
/// `    at name (path:line:column)` for JS frames and `    at name (native)` for built-ins.
pub fn call_site(context: &mut Context) -> Option<String> {
    let constructor = context.intrinsics().constructors().error().constructor();
    let error = constructor.construct(&[], None, context).ok()?;
    let stack = error.get(js_string!("stack"), context).ok()?;
    parse_call_site(&stack.as_string()?.to_std_string_lossy())
}

/// The first `path:line` in a Boa stack string, skipping native frames.
fn parse_call_site(stack: &str) -> Option<String> {
    stack.lines().find_map(|line| {
        let inner = line.trim().strip_prefix("at ")?;
        let open = inner.rfind(" (")?;
        let location = inner[open + 2..].strip_suffix(')')?;
        if location.starts_with("native") {
            return None;
        }
        // `path:line:column`; the path itself may contain ':'.
        let (rest, _column) = location.rsplit_once(':')?;
        let (path, line) = rest.rsplit_once(':')?;
        line.parse::<u32>().ok()?;
        Some(format!("{path}:{line}"))
    })
}

/// Raises `warning`: logs it once per call site and, with `--strict`, records it so that the
/// request fails.
pub fn warn(warning: CompatWarning, context: &mut Context) {
    let call_site = log_once(&warning, context);
    if let Some(compat) = context.get_data::<Compat>() {
        if compat.strict {
            compat
                .violations
                .borrow_mut()
                .push(CompatViolation { warning, call_site });
        }
    }
}

/// Raises `warning` as a notice: logged once per call site, never failing the request (for
/// what edgeshim lacks, where the app is not at fault).
pub fn note(warning: &CompatWarning, context: &mut Context) {
    log_once(warning, context);
}

/// Logs `warning` the first time it comes from its call site; returns the call site.
fn log_once(warning: &CompatWarning, context: &mut Context) -> Option<String> {
    let call_site = call_site(context);
    if first_time(warning, call_site.as_deref()) {
        match &call_site {
            Some(site) => tracing::warn!(target: "edgeshim::compat", "{site}: {warning}"),
            None => tracing::warn!(target: "edgeshim::compat", "{warning}"),
        }
    }
    call_site
}

/// Whether `value` is `undefined` or absent: what the docs mean by an optional argument.
pub fn is_absent(value: Option<&JsValue>) -> bool {
    value.is_none_or(JsValue::is_undefined)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use boa_engine::{NativeFunction, Source};

    #[test]
    fn call_sites_skip_native_frames() {
        let stack = "    at <anonymous> (native)\n    at list (native)\n    at handler (/app/src/index.js:12:7)\n    at <main> (/app/src/index.js:40:1)\n";
        assert_eq!(
            parse_call_site(stack),
            Some("/app/src/index.js:12".to_owned())
        );
        assert_eq!(
            parse_call_site("    at f (C:\\app\\x.js:3:9)\n"),
            Some("C:\\app\\x.js:3".to_owned())
        );
        assert_eq!(parse_call_site("    at f (native)\n"), None);
        assert_eq!(parse_call_site(""), None);
    }

    #[test]
    fn the_stack_names_the_calling_line() {
        let mut context = Context::default();
        let probe = NativeFunction::from_fn_ptr(|_, _, context| {
            Ok(call_site(context).map_or(JsValue::null(), |s| js_string!(s).into()))
        })
        .to_js_function(context.realm());
        context
            .register_global_property(js_string!("probe"), probe, Default::default())
            .unwrap();
        let source = Source::from_bytes("\n\nfunction f() {\n  return probe();\n}\nf()")
            .with_path(std::path::Path::new("/app/index.js"));
        let site = context.eval(source).unwrap();
        assert_eq!(
            site.as_string().unwrap().to_std_string_lossy(),
            "/app/index.js:4"
        );
    }

    #[test]
    fn each_call_site_warns_once() {
        let w = CompatWarning::UnknownMode("x".into());
        assert!(first_time(&w, Some("/t/dedupe.js:1")));
        assert!(!first_time(&w, Some("/t/dedupe.js:1")));
        assert!(!first_time(
            &CompatWarning::UnknownMode("y".into()),
            Some("/t/dedupe.js:1")
        ));
        assert!(first_time(&w, Some("/t/dedupe.js:2")));
        assert!(first_time(
            &CompatWarning::ListWithoutOptions,
            Some("/t/dedupe.js:1")
        ));
        // Without a call site, image options are told apart by their query string.
        let image = |query: &str| CompatWarning::ImageOptimizerPassThrough {
            url: "https://example.com/a.png".into(),
            query: query.into(),
        };
        assert!(first_time(&image("region=asia&width=1"), None));
        assert!(!first_time(&image("region=asia&width=1"), None));
        assert!(first_time(&image("region=asia&width=2"), None));
        assert!(first_line("/t/a.js:1: x"));
        assert!(!first_line("/t/a.js:1: x"));
    }

    #[test]
    fn strict_records_violations() {
        let mut context = Context::default();
        Compat::install(true, &mut context);
        warn(CompatWarning::ListWithoutOptions, &mut context);
        warn(CompatWarning::MetadataTooLong(1001), &mut context);
        let first = Compat::take_violation(&context).unwrap();
        assert_eq!(first.warning, CompatWarning::ListWithoutOptions);
        assert_eq!(Compat::take_violation(&context), None);

        let mut lenient = Context::default();
        Compat::install(false, &mut lenient);
        warn(CompatWarning::ContentProvidedStream, &mut lenient);
        assert_eq!(Compat::take_violation(&lenient), None);
    }
}
