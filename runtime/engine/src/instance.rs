//! One instance of the app: a Boa context with the web and `fastly:*` globals, the app module
//! evaluated, and the steps that turn one request into one response.
//!
//! On Compute every request runs in a fresh instance; [`Instance::boot`] builds one and
//! [`Instance::handle`] serves a request with it.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::web::body_stream::HostBody;
use boa_engine::builtins::promise::PromiseState;
use boa_engine::context::ContextBuilder;
use boa_engine::object::builtins::JsPromise;
use boa_engine::object::JsObject;
use boa_engine::{js_string, Context, JsError, JsValue};
use edgeshim_store::cache::Cache;
use edgeshim_store::{Clock, Stores, SystemClock};

use crate::event_loop::{EventLoop, RunOutcome};
use crate::fastly::compat::Compat;
use crate::fastly::env::Env;
use crate::fastly::kv_store::{self, KvStoreNames};
use crate::host::Phase;
use crate::host_call::{Edge, Host, HostHandle, LocalHost};
use crate::limits::{Limit, RECURSION_LIMIT, VALUE_STACK_LIMIT};
use crate::loader::{AppLoader, SourceCache, SourceError};
use crate::web::request::JsRequest;
use crate::web::response::{JsResponse, ResponseParts};
use crate::web::{
    self, fetch_event::FetchEventState, fetch_event::FetchListeners, fetch_event::JsFetchEvent,
};

/// How long work given to `waitUntil` may run after the response (a `setInterval` would
/// otherwise keep an instance, and shutdown, waiting forever).
const WAIT_UNTIL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long the app may take to settle the promise given to `respondWith` (Compute's
/// wall-clock limit; the snapshot copy enforces it on the whole request).
const RESPONSE_LIMIT: std::time::Duration = crate::limits::WALL_LIMIT;

/// How long the app's top-level code may take to evaluate.
const BOOT_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// What every instance of one app shares: the app's path, its source texts, the host that
/// answers its host calls and the names of the stores that host serves.
#[derive(Debug, Clone)]
pub struct App {
    path: PathBuf,
    sources: Arc<SourceCache>,
    stores: Stores,
    store_names: Vec<String>,
    host: Arc<dyn Host>,
    /// The edge caches of `host`, when it is this process's [`LocalHost`].
    caches: Arc<[Arc<Cache>]>,
    settings: AppSettings,
}

/// Per-app settings from the command line.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AppSettings {
    /// Variables `fastly:env`'s `env(name)` returns (`--env`), ahead of the `FASTLY_*` ones.
    pub env: Vec<(String, String)>,
    /// `--strict`: a compatibility warning fails its request with a 500.
    pub strict: bool,
    /// `--enable-http-cache`: the app was built with js-compute's guest HTTP cache
    /// (`fetch()` runs `CacheOverride` hooks; `docs/http-cache-guest-api.md`).
    #[serde(default)]
    pub enable_http_cache: bool,
    /// The static backends of fastly.toml (`[local_server.backends]`).
    pub backends: Vec<crate::host_call::BackendSpec>,
    /// The config stores of fastly.toml (`[local_server.config_stores]` or
    /// `dictionaries`): name to entries.
    pub config_stores:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// The secret stores of fastly.toml (`[local_server.secret_stores]`): name to secrets.
    pub secret_stores:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>>,
    /// `[local_server.geolocation]`.
    pub geolocation: crate::fastly::geolocation::Geolocation,
    /// `[local_server.acls]`: name to entries.
    pub acls: std::collections::BTreeMap<String, Vec<crate::fastly::acl::AclEntry>>,
    /// `[local_server.device_detection]`: user agent to its data (a JSON object).
    pub user_agents: std::collections::BTreeMap<String, String>,
}

/// Why an instance could not be built.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum BootError {
    #[error("cannot read the app {path}: {message}")]
    Read { path: PathBuf, message: String },
    /// The app does not parse. `message` names the file, line and column.
    #[error("{message}")]
    Syntax { message: String },
    /// The app threw (or an import failed) while its top-level code ran.
    #[error("the app failed while loading: {report}")]
    Evaluation { report: String },
    #[error("the app's top-level code never finished (it awaits something that never settles)")]
    EvaluationStalled,
    #[error("the app's top-level code was still running after {0:?}")]
    EvaluationTimedOut(std::time::Duration),
    #[error("the engine could not set up a context: {0}")]
    Setup(String),
}

/// Why a request got no response from the app.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum HandleError {
    #[error("the app registered no fetch event listener; add addEventListener(\"fetch\", (event) => event.respondWith(...))")]
    NoListener,
    #[error("the fetch event handler returned without calling event.respondWith(); call it synchronously in the handler, with a Response or a Promise of one")]
    NoResponse,
    #[error("uncaught exception in the fetch event handler: {report}")]
    Exception { report: String },
    #[error("the promise given to respondWith() was rejected: {report}")]
    Rejected { report: String },
    #[error("respondWith() was given {what}, not a Response")]
    NotAResponse { what: String },
    #[error("the promise given to respondWith() never settled: nothing left that could settle it")]
    NeverSettled,
    #[error("the app did not respond within {0:?}")]
    TimedOut(std::time::Duration),
    /// `--strict`: the app relied on behaviour that Fastly's docs and production disagree on.
    #[error("--strict: {0}")]
    Incompatible(String),
    #[error("the instance could not be built: {0}")]
    Boot(#[from] BootError),
    /// The request went over one of Compute's limits and was stopped.
    #[error("{limit}{}", at.as_ref().map(|at| format!(" (at {at})")).unwrap_or_default())]
    Limit { limit: Limit, at: Option<String> },
    /// The copy of the instance running the request ended without answering.
    #[error("the instance running the request ended without a response: {0}")]
    Crashed(String),
}

/// A request in plain data, as the server hands it to the engine.
#[derive(Debug)]
pub struct IncomingRequest {
    pub method: String,
    /// Absolute URL (`http://host/path?query`).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: HostBody,
    /// The simulated edge location serving the request (`--pops`); 0 when there is one.
    pub pop: usize,
    /// The client's address (`event.client.address`), when there is a connection.
    pub client: Option<std::net::SocketAddr>,
    /// Stop the request this long after it starts, as if its instance died (`edgeshim
    /// test`'s `app(path, { killAfter })`); only copies of the snapshot can be stopped.
    pub kill_after: Option<std::time::Duration>,
    /// Answers this request's host calls instead of the app's host: the server passes a
    /// wrapper of [`App::host`] to see which calls a request makes (`serve --inspect`).
    pub host: Option<Arc<dyn Host>>,
}

impl App {
    /// # Errors
    /// The app file cannot be found or read.
    pub fn new(path: &Path, stores: Stores) -> Result<Self, BootError> {
        let read_error = |e: std::io::Error| BootError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let path = std::fs::canonicalize(path).map_err(read_error)?;
        let sources = Arc::new(SourceCache::default());
        sources.get(&path).map_err(|e| match e {
            SourceError::Read(e) => read_error(e),
            SourceError::Syntax(message) => BootError::Syntax { message },
        })?;
        let store_names = stores.names().map(str::to_owned).collect();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let edge = Edge::new(1, edgeshim_store::cache::DEFAULT_CAPACITY, &clock);
        let host = LocalHost::new(stores.clone(), Vec::new(), edge);
        Ok(Self {
            path,
            sources,
            caches: host.caches(),
            host: Arc::new(host),
            stores,
            store_names,
            settings: AppSettings::default(),
        })
    }

    /// The app at `path` whose host calls go to `host`, which serves the stores `store_names`.
    pub(crate) fn with_host(
        path: &Path,
        store_names: Vec<String>,
        host: Arc<dyn Host>,
    ) -> Result<Self, BootError> {
        let mut app = Self::new(path, Stores::new())?;
        app.store_names = store_names;
        app.host = host;
        // Its caches are the server's, reached through `host`.
        app.caches = Arc::new([]);
        Ok(app)
    }

    pub(crate) fn store_names(&self) -> &[String] {
        &self.store_names
    }

    /// The same app with `settings` (`--env`, `--strict`).
    #[must_use]
    pub fn with_settings(mut self, settings: AppSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The same app where a request served by edge location `pop` opens its stores from
    /// `locations[pop]` (each location's view of [`App::stores`]) and uses `edge`'s cache and
    /// rate counters of that location.
    #[must_use]
    pub fn with_locations(mut self, locations: Vec<Stores>, edge: Edge) -> Self {
        let host = LocalHost::new(self.stores.clone(), locations, edge);
        self.caches = host.caches();
        self.host = Arc::new(host);
        self
    }

    /// The edge cache of each simulated location, in location order (for `serve --inspect`);
    /// empty in a snapshot copy, whose cache calls go to the server's.
    pub fn edge_caches(&self) -> Arc<[Arc<Cache>]> {
        self.caches.clone()
    }

    /// The host answering this app's host calls.
    pub fn host(&self) -> Arc<dyn Host> {
        self.host.clone()
    }

    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The readable form of a thrown value: `Name: message` and the stack, when there is one.
pub fn error_report(error: &JsError, context: &mut Context) -> String {
    // An engine error (a runtime limit) has no JS value to describe.
    if let Some(engine) = error.as_engine() {
        return engine.to_string();
    }
    let value = error.clone().into_opaque(context).unwrap_or_default();
    let text = value
        .to_string(context)
        .map(|s| s.to_std_string_lossy())
        .unwrap_or_else(|_| error.to_string());
    let stack = value
        .as_object()
        .and_then(|o| o.get(js_string!("stack"), context).ok())
        .and_then(|s| s.as_string())
        .map(|s| s.to_std_string_lossy())
        .filter(|s| !s.is_empty())
        .map(|s| crate::loader::original_positions(s, context));
    match stack {
        Some(stack) => format!("{text}\n{}", stack.trim_end()),
        None => text,
    }
}

/// What a JS error thrown out of the handler means for the request: a runtime limit, or the
/// app's own exception.
fn exception(error: &JsError, context: &mut Context) -> HandleError {
    use boa_engine::error::{EngineError, RuntimeLimitError};
    match error.as_engine() {
        Some(EngineError::RuntimeLimit(
            RuntimeLimitError::Recursion | RuntimeLimitError::StackSize,
        )) => HandleError::Limit {
            limit: Limit::Stack(RECURSION_LIMIT),
            at: None,
        },
        _ => HandleError::Exception {
            report: error_report(error, context),
        },
    }
}

fn describe(value: &JsValue, context: &mut Context) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    let type_name = value.type_of().to_owned();
    let text = value
        .to_string(context)
        .map(|s| s.to_std_string_lossy())
        .unwrap_or_default();
    format!("{type_name} {text}")
}

/// A live instance of the app.
pub struct Instance {
    context: Context,
    event_loop: Rc<EventLoop>,
    /// For a streamed response body: settles when it has been handed to the server, and
    /// the sending end, closed as failed if the instance ends first.
    body_sent: Option<(JsPromise, crate::web::body_stream::ResponseSender)>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").finish_non_exhaustive()
    }
}

impl Instance {
    /// Builds a context, registers the globals and evaluates the app module.
    ///
    /// # Errors
    /// The app does not parse, throws at top level, or imports something that does not exist.
    pub async fn boot(app: &App) -> Result<Self, BootError> {
        let event_loop = EventLoop::new();
        let loader = Rc::new(AppLoader::new(app.sources.clone()));
        let mut context = ContextBuilder::new()
            .job_executor(event_loop.clone())
            .module_loader(loader.clone())
            .build()
            .map_err(|e| BootError::Setup(e.to_string()))?;
        Phase::install(&mut context);
        context.insert_data(crate::loader::LoaderHandle(loader.clone()));
        context.insert_data(crate::web::body_stream::EventLoopHandle(event_loop.clone()));
        context.insert_data(crate::web::body_stream::HostBodies::default());
        context.insert_data(crate::web::body_stream::HostStreams::default());
        context.insert_data(HostHandle(app.host.clone()));
        context.insert_data(crate::fastly::experimental::ProjectRoot::of(&app.path));
        let limits = context.runtime_limits_mut();
        limits.set_recursion_limit(RECURSION_LIMIT);
        limits.set_stack_size_limit(VALUE_STACK_LIMIT);
        crate::boa_fixes::register(&mut context).map_err(|e| BootError::Setup(e.to_string()))?;
        web::register(&mut context).map_err(|e| BootError::Setup(e.to_string()))?;
        kv_store::register(KvStoreNames(app.store_names.clone()), &mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        crate::fastly::backend::register(&app.settings.backends, &mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        crate::fastly::config_store::register(&app.settings.config_stores, &mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        crate::fastly::secret_store::register(&app.settings.secret_stores, &mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        crate::fastly::logger::register(&mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        crate::fastly::compute::RequestCpu::install(&mut context);
        context.insert_data(crate::fastly::experimental::BaseUrl::default());
        crate::fastly::global::register(&mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        crate::fastly::geolocation::install(&app.settings.geolocation, &mut context);
        crate::fastly::acl::register(&app.settings.acls, &mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        crate::fastly::device::register(&app.settings.user_agents, &mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        Env::install(&app.settings.env, &mut context);
        Compat::install(app.settings.strict, &mut context);
        crate::fastly::http_cache_api::install(app.settings.enable_http_cache, &mut context);
        // Last: every global is in place.
        crate::surface::conform_all_globals(&mut context)
            .map_err(|e| BootError::Setup(e.to_string()))?;
        // The built-ins written in JS (streams, …) are evaluated before any app code runs, as
        // they are part of js-compute's snapshot. Left to the first read of one of their
        // globals, that read would turn its accessor into a data property under a running
        // `TransformStream` lookup, and Boa 0.22 caches the lookup with the global object's
        // new shape but the slot found before the getter ran: the next read of that name in
        // the same code (another request of a reused instance, a loop) got another global.
        for library in crate::js_lib::LIBRARIES {
            crate::js_lib::internal(&mut context, library.name)
                .map_err(|e| BootError::Setup(format!("{}: {e}", library.name)))?;
        }

        let module = loader
            .load_file(&app.path, &mut context)
            .map_err(|e| BootError::Syntax {
                message: loader
                    .take_syntax_error()
                    .unwrap_or_else(|| error_report(&e, &mut context)),
            })?;
        let promise = module.load_link_evaluate(&mut context);
        let watched = promise.clone();
        let evaluated = event_loop.run_until(&mut context, move |_| {
            !matches!(watched.state(), PromiseState::Pending)
        });
        if tokio::time::timeout(BOOT_LIMIT, evaluated).await.is_err() {
            return Err(BootError::EvaluationTimedOut(BOOT_LIMIT));
        }
        match promise.state() {
            PromiseState::Fulfilled(_) => Ok(Self {
                context,
                event_loop,
                body_sent: None,
            }),
            PromiseState::Rejected(reason) => {
                // Syntax errors in imported files surface here, not at parse of the entry.
                if let Some(message) = loader.take_syntax_error() {
                    return Err(BootError::Syntax { message });
                }
                let report = error_report(&JsError::from_opaque(reason), &mut context);
                Err(BootError::Evaluation { report })
            }
            PromiseState::Pending => Err(BootError::EvaluationStalled),
        }
    }

    /// Dispatches a fetch event for `request`, calls `respond` with the app's response as soon
    /// as it is ready, then keeps running until the promises given to `waitUntil` settle.
    pub async fn handle(
        &mut self,
        request: IncomingRequest,
        respond: impl FnOnce(Result<ResponseParts, HandleError>),
    ) {
        let mut request = request;
        // The request's own host answers its calls, waitUntil work included; the instance
        // (reused, or dropped) gets the app's back at the end.
        let app_host = request.host.take().and_then(|host| {
            let app_host = self.context.get_data::<HostHandle>().map(|h| h.0.clone());
            self.context.insert_data(HostHandle(host));
            app_host
        });
        let (result, event) = self.respond(request).await;
        respond(result);
        if let Some(event) = event {
            self.finish(&event).await;
        }
        // Whatever is still open ends with the request: an unread upload is abandoned, and a
        // response body the app never finished is cut off (an error for the client, never a
        // body that looks complete).
        crate::web::body_stream::release_host_bodies(&self.context);
        crate::fastly::cache::host::end_request(&mut self.context);
        crate::fastly::html_rewriter::end_request(&mut self.context);
        if let Some((_, sender)) = self.body_sent.take() {
            crate::web::body_stream::abandon_response(
                &sender,
                "the app's response stream did not finish",
            );
        }
        if let Some(app_host) = app_host {
            self.context.insert_data(HostHandle(app_host));
        }
    }

    /// Runs until the streamed response body is sent and the `waitUntil` promises settle.
    async fn finish(&mut self, event: &JsObject<JsFetchEvent>) {
        let body_sent = self.body_sent.as_ref().map(|(sent, _)| sent.clone());
        let pending = |p: &JsPromise| matches!(p.state(), PromiseState::Pending);
        // Re-read on every check: `waitUntil` may be called after dispatch, from async code.
        let body_pending = move || body_sent.as_ref().is_some_and(pending);
        // `waitUntil` promises, and the guest HTTP cache's background revalidations.
        let wait_until_pending = |event: &JsObject<JsFetchEvent>, context: &Context| {
            event.borrow().data().wait_until().iter().any(pending)
                || crate::fastly::http_cache_api::background_pending(context)
        };
        if body_pending() || wait_until_pending(event, &self.context) {
            let watched = event.clone();
            let check = body_pending.clone();
            let settled = self
                .event_loop
                .run_until(&mut self.context, move |context| {
                    !check() && !wait_until_pending(&watched, context)
                });
            let outcome = tokio::time::timeout(WAIT_UNTIL_LIMIT, settled).await;
            let what = if body_pending() {
                "the response body stream"
            } else {
                "a promise given to event.waitUntil()"
            };
            match outcome {
                Ok(RunOutcome::Done) => {}
                Ok(RunOutcome::Idle) => tracing::warn!("{what} never finished"),
                Err(_) => tracing::warn!(
                    "{what} was still running after {WAIT_UNTIL_LIMIT:?}; stopped it"
                ),
            }
        }
        self.report_wait_until_rejections(event);
    }

    fn report_wait_until_rejections(&mut self, event: &JsObject<JsFetchEvent>) {
        let promises = event.borrow().data().wait_until().to_vec();
        for promise in promises {
            if let PromiseState::Rejected(reason) = promise.state() {
                let report = error_report(&JsError::from_opaque(reason), &mut self.context);
                tracing::error!("a promise given to event.waitUntil() was rejected: {report}");
            }
        }
    }

    /// Runs the fetch event up to the response. Returns the event (when one was dispatched)
    /// so that its `waitUntil` work can be awaited after the response is sent.
    async fn respond(
        &mut self,
        request: IncomingRequest,
    ) -> (
        Result<ResponseParts, HandleError>,
        Option<JsObject<JsFetchEvent>>,
    ) {
        let context = &mut self.context;
        Phase::enter_request(context);
        Env::begin_request(context);
        crate::fastly::compute::RequestCpu::begin_request(context);
        crate::fastly::config_store::Lookups::begin_request(context);
        // A warning raised before this request (top-level code, an earlier request's
        // waitUntil work) is not this request's.
        drop(Compat::take_violation(context));
        let listeners = context
            .get_data::<FetchListeners>()
            .map(|l| l.0.borrow().clone())
            .unwrap_or_default();
        if listeners.is_empty() {
            return (Err(HandleError::NoListener), None);
        }
        let IncomingRequest {
            method,
            url,
            headers,
            body,
            pop,
            client,
            kill_after,
            host: _,
        } = request;
        if kill_after.is_some() {
            tracing::warn!(
                "killAfter is ignored: only copies of the snapshot (the default instance \
                 model, on Linux and macOS) can be stopped midway"
            );
        }
        Phase::set_pop(context, pop);
        // Parsed once for `location` and the default `fastly.baseURL`.
        let parsed = url::Url::parse(&url).ok();
        crate::fastly::experimental::BaseUrl::begin_request(parsed.as_ref(), context);
        crate::web::global_scope::RequestUrl::begin_request(parsed, context);
        crate::web::fetch::IncomingLoop::begin_request(&headers, context);
        let event = match JsRequest::incoming(&method, url, headers, body, context)
            .and_then(|request| JsFetchEvent::create(request, client, context))
        {
            Ok(event) => event,
            Err(e) => {
                let report = error_report(&e, context);
                return (Err(HandleError::Exception { report }), None);
            }
        };
        let this = JsValue::from(context.global_object());
        let event_value = JsValue::from(event.clone().upcast());
        let mut thrown = None;
        for listener in listeners {
            if let Err(e) = listener.call(&this, std::slice::from_ref(&event_value), context) {
                thrown = Some(e);
                break;
            }
        }
        let state = event.borrow_mut().data_mut().finish_dispatch();
        let response = event.borrow().data().response();
        if let Some(e) = thrown {
            return (Err(exception(&e, context)), Some(event));
        }
        let Some(response) = response.filter(|_| state == FetchEventState::Responded) else {
            return (Err(HandleError::NoResponse), Some(event));
        };
        let watched = response.clone();
        let settled = self.event_loop.run_until(context, move |_| {
            !matches!(watched.state(), PromiseState::Pending)
        });
        if tokio::time::timeout(RESPONSE_LIMIT, settled).await.is_err() {
            return (Err(HandleError::TimedOut(RESPONSE_LIMIT)), Some(event));
        }
        if let Some(violation) = Compat::take_violation(context) {
            return (
                Err(HandleError::Incompatible(violation.to_string())),
                Some(event),
            );
        }
        let result = match response.state() {
            PromiseState::Fulfilled(value) => match JsResponse::outgoing(&value, context) {
                Ok(Some(outgoing)) => {
                    self.body_sent = outgoing.body_sent;
                    Ok(outgoing.parts)
                }
                Ok(None) => Err(HandleError::NotAResponse {
                    what: describe(&value, context),
                }),
                Err(e) => Err(HandleError::Exception {
                    report: error_report(&e, context),
                }),
            },
            PromiseState::Rejected(reason) => Err(HandleError::Rejected {
                report: error_report(&JsError::from_opaque(reason), context),
            }),
            PromiseState::Pending => Err(HandleError::NeverSettled),
        };
        (result, Some(event))
    }
}
