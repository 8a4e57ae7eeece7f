//! The JS-facing `Backend` class, `setDefaultBackend`, `enforceExplicitBackends`,
//! `setDefaultDynamicBackendConfig`, and the registry of backends an instance can name.
//!
//! Options are read in js-compute-runtime's order (`builtins/backend.cpp`,
//! `apply_backend_config`), each with its message.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsValue, NativeFunction,
    Trace,
};

use super::error::BackendError;
use crate::class_util::{getter, require_args, this_as};
use crate::host::Phase;
use crate::host_call::BackendSpec;

const CLASS: &str = "Backend";

/// Timeouts are below 2^32 ms (about a month and a half).
const MAX_TIMEOUT: u64 = 0x1_0000_0000;

/// Compute's defaults for a backend without explicit timeouts.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_millis(15_000);
pub const DEFAULT_BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_millis(10_000);

/// Compute's limit on backend requests per client request.
pub const MAX_BACKEND_REQUESTS: usize = 32;

/// A backend the app can name, with what its accessors report beyond the spec.
#[derive(Debug, Clone)]
pub struct BackendEntry {
    pub spec: BackendSpec,
    pub dynamic: bool,
    tls_min: Option<f64>,
    tls_max: Option<f64>,
    http_keepalive_ms: u32,
    tcp_keepalive: bool,
}

impl BackendEntry {
    pub fn fixed(spec: BackendSpec) -> Self {
        Self {
            spec,
            dynamic: false,
            tls_min: None,
            tls_max: None,
            http_keepalive_ms: 0,
            tcp_keepalive: false,
        }
    }
}

/// The options of `new Backend()` and `setDefaultDynamicBackendConfig`, as given.
#[derive(Debug, Clone, Default)]
struct Options {
    host_override: Option<String>,
    connect_timeout: Option<u32>,
    first_byte_timeout: Option<u32>,
    between_bytes_timeout: Option<u32>,
    tls_min: Option<f64>,
    tls_max: Option<f64>,
    cert_host: Option<String>,
    use_ssl: Option<bool>,
    ca_certificate: Option<String>,
    sni_host: Option<String>,
    grpc: Option<bool>,
    http_keepalive_ms: Option<u32>,
    tcp_keepalive: Option<bool>,
}

impl Options {
    /// `self` with the options `over` sets replacing its own.
    fn merged(&self, over: Options) -> Options {
        Options {
            host_override: over.host_override.or(self.host_override.clone()),
            connect_timeout: over.connect_timeout.or(self.connect_timeout),
            first_byte_timeout: over.first_byte_timeout.or(self.first_byte_timeout),
            between_bytes_timeout: over.between_bytes_timeout.or(self.between_bytes_timeout),
            tls_min: over.tls_min.or(self.tls_min),
            tls_max: over.tls_max.or(self.tls_max),
            cert_host: over.cert_host.or(self.cert_host.clone()),
            use_ssl: over.use_ssl.or(self.use_ssl),
            ca_certificate: over.ca_certificate.or(self.ca_certificate.clone()),
            sni_host: over.sni_host.or(self.sni_host.clone()),
            grpc: over.grpc.or(self.grpc),
            http_keepalive_ms: over.http_keepalive_ms.or(self.http_keepalive_ms),
            tcp_keepalive: over.tcp_keepalive.or(self.tcp_keepalive),
        }
    }

    fn entry(&self, name: String, target: &str) -> BackendEntry {
        let (host, port) = split_target(target);
        let tls = self.use_ssl.unwrap_or(false);
        let ms = |v: Option<u32>, default: Duration| {
            v.map_or(default, |ms| Duration::from_millis(u64::from(ms)))
        };
        BackendEntry {
            spec: BackendSpec {
                name,
                host: host.to_owned(),
                port: port.unwrap_or(if tls { 443 } else { 80 }),
                tls,
                path_prefix: String::new(),
                override_host: self.host_override.clone(),
                cert_host: self.cert_host.clone(),
                sni_host: self.sni_host.clone(),
                use_sni: true,
                ca_certificate: self.ca_certificate.clone(),
                http2_only: self.grpc.unwrap_or(false),
                connect_timeout: ms(self.connect_timeout, DEFAULT_CONNECT_TIMEOUT),
                first_byte_timeout: ms(self.first_byte_timeout, DEFAULT_FIRST_BYTE_TIMEOUT),
                between_bytes_timeout: ms(
                    self.between_bytes_timeout,
                    DEFAULT_BETWEEN_BYTES_TIMEOUT,
                ),
            },
            dynamic: true,
            tls_min: self.tls_min,
            tls_max: self.tls_max,
            http_keepalive_ms: self.http_keepalive_ms.unwrap_or(0),
            tcp_keepalive: self.tcp_keepalive.unwrap_or(false),
        }
    }
}

/// `host:port`, `host`, `[v6]:port` or a bare IPv6 address.
fn split_target(target: &str) -> (&str, Option<u16>) {
    if let Some(rest) = target.strip_prefix('[') {
        if let Some((host, port)) = rest.split_once("]:") {
            return (host, port.parse().ok());
        }
        return (rest.trim_end_matches(']'), None);
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (target, None),
    }
}

/// The platform's `is_valid_host` (RFC 1123 names with an optional port) or an IP address.
fn is_valid_target(target: &str) -> bool {
    if target == "::" {
        return false;
    }
    is_valid_host(target) || target.parse::<std::net::IpAddr>().is_ok()
}

fn is_valid_host(host: &str) -> bool {
    if !host.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    if name.len() > 253 || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return false;
    }
    let labels_ok = name.split('.').all(|label| {
        label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let port_ok = port.is_none_or(|port| {
        !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p > 0 && p < 65_536)
    });
    labels_ok && port_ok
}

/// The backends of an instance and the switches that choose one (context data).
#[derive(Debug, Clone)]
pub struct Backends(Rc<RefCell<Registry>>);

#[derive(Debug)]
struct Registry {
    by_name: BTreeMap<String, BackendEntry>,
    default_backend: Option<String>,
    dynamic_allowed: bool,
    dynamic_defaults: Options,
    /// Backend requests made by the current client request.
    sent: usize,
}

impl Backends {
    /// The registry of an instance whose fastly.toml declares `statics`. Dynamic backends
    /// are allowed until the app says otherwise, as in js-compute 3.46.
    pub fn new(statics: &[BackendSpec]) -> Self {
        let by_name = statics
            .iter()
            .map(|spec| (spec.name.clone(), BackendEntry::fixed(spec.clone())))
            .collect();
        Self(Rc::new(RefCell::new(Registry {
            by_name,
            default_backend: None,
            dynamic_allowed: true,
            dynamic_defaults: Options::default(),
            sent: 0,
        })))
    }

    /// A new client request: its count of backend requests starts again.
    pub fn start_request(&self) {
        self.0.borrow_mut().sent = 0;
    }

    /// Counts one backend request, refusing the one over Compute's limit.
    pub fn count_request(&self) -> Result<(), BackendError> {
        let mut registry = self.0.borrow_mut();
        if registry.sent >= MAX_BACKEND_REQUESTS {
            return Err(BackendError::TooManyRequests(MAX_BACKEND_REQUESTS));
        }
        registry.sent += 1;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<BackendEntry> {
        self.0.borrow().by_name.get(name).cloned()
    }

    /// The backend a request with no `backend` goes to: the default one, else a dynamic
    /// backend for the URL's host (named after it) when dynamic backends are allowed.
    pub fn implicit(&self, url: &url::Url) -> Result<BackendEntry, BackendError> {
        let mut registry = self.0.borrow_mut();
        if !registry.dynamic_allowed {
            return match &registry.default_backend {
                Some(name) => registry
                    .by_name
                    .get(name)
                    .cloned()
                    .ok_or_else(|| BackendError::DoesNotExist(name.clone())),
                None => Err(BackendError::NoBackend(url.to_string())),
            };
        }
        let host = url.host_str().unwrap_or_default();
        let name = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        if let Some(existing) = registry.by_name.get(&name) {
            return Ok(existing.clone());
        }
        if !is_valid_target(&name) {
            return Err(BackendError::TargetInvalid);
        }
        let tls = url.scheme() == "https";
        let options = registry.dynamic_defaults.merged(Options {
            host_override: Some(name.clone()),
            use_ssl: Some(tls),
            sni_host: tls.then(|| host.to_owned()),
            ..Options::default()
        });
        let mut entry = options.entry(name.clone(), &name);
        if url.port().is_none() {
            entry.spec.port = url.port_or_known_default().unwrap_or(80);
        }
        registry.by_name.insert(name, entry.clone());
        Ok(entry)
    }
}

/// The instance's backends.
pub fn registry(context: &Context) -> JsResult<Backends> {
    context
        .get_data::<Backends>()
        .cloned()
        .ok_or_else(|| crate::class_util::type_error("backends are not available here"))
}

fn throw(error: BackendError, context: &mut Context) -> boa_engine::JsError {
    match error.into_js(context) {
        Ok(error) | Err(error) => error,
    }
}

/// A JS value's ToString, as the platform's `JS::ToString` (a Symbol throws).
fn string(value: &JsValue, context: &mut Context) -> JsResult<String> {
    Ok(value.to_string(context)?.to_std_string_lossy())
}

/// `parse_and_validate_name`.
fn validate_name(value: &JsValue, context: &mut Context) -> JsResult<String> {
    if value.is_null_or_undefined() {
        return Err(throw(BackendError::NameNotSet, context));
    }
    let name = value.to_string(context)?;
    if name.len() > 254 {
        return Err(throw(BackendError::NameTooLong, context));
    }
    if name.is_empty() {
        return Err(throw(BackendError::NameEmpty, context));
    }
    Ok(name.to_std_string_lossy())
}

/// `parse_and_validate_timeout`.
fn timeout(
    value: &JsValue,
    subsystem: &'static str,
    property: &'static str,
    context: &mut Context,
) -> JsResult<u32> {
    let n = value.to_number(context)?;
    let error = if n.is_nan() {
        BackendError::TimeoutNan {
            subsystem,
            property,
        }
    } else if n < 0.0 {
        BackendError::TimeoutNegative {
            subsystem,
            property,
        }
    } else if n >= MAX_TIMEOUT as f64 {
        BackendError::TimeoutTooBig {
            subsystem,
            property,
            max: MAX_TIMEOUT,
        }
    } else {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Ok(n.round() as u32);
    };
    Err(throw(error, context))
}

fn tls_version(value: &JsValue, invalid: BackendError, context: &mut Context) -> JsResult<f64> {
    let n = value.to_number(context)?;
    if [1.0, 1.1, 1.2, 1.3].contains(&n) {
        Ok(n)
    } else {
        Err(throw(invalid, context))
    }
}

/// A non-empty string option, or the given error.
fn non_empty(value: &JsValue, empty: BackendError, context: &mut Context) -> JsResult<String> {
    let text = string(value, context)?;
    if text.is_empty() {
        return Err(throw(empty, context));
    }
    Ok(text)
}

/// `apply_backend_config`: the options present on `config`, in the platform's order.
fn read_options(config: &JsObject, context: &mut Context) -> JsResult<Options> {
    let mut options = Options::default();
    let present = |name: &str, context: &mut Context| -> JsResult<Option<JsValue>> {
        let key = JsString::from(name);
        if config.has_property(key.clone(), context)? {
            Ok(Some(config.get(key, context)?))
        } else {
            Ok(None)
        }
    };
    const CTOR: &str = "Backend constructor";
    if let Some(v) = present("hostOverride", context)? {
        options.host_override = Some(non_empty(&v, BackendError::HostOverrideEmpty, context)?);
    }
    if let Some(v) = present("connectTimeout", context)? {
        options.connect_timeout = Some(timeout(&v, CTOR, "connectTimeout", context)?);
    }
    if let Some(v) = present("firstByteTimeout", context)? {
        options.first_byte_timeout = Some(timeout(&v, CTOR, "firstByteTimeout", context)?);
    }
    if let Some(v) = present("betweenBytesTimeout", context)? {
        options.between_bytes_timeout = Some(timeout(&v, CTOR, "betweenBytesTimeout", context)?);
    }
    if let Some(v) = present("tlsMinVersion", context)? {
        options.tls_min = Some(tls_version(&v, BackendError::TlsMinInvalid, context)?);
    }
    if let Some(v) = present("tlsMaxVersion", context)? {
        options.tls_max = Some(tls_version(&v, BackendError::TlsMaxInvalid, context)?);
    }
    if let (Some(min), Some(max)) = (options.tls_min, options.tls_max) {
        if min > max {
            return Err(throw(BackendError::TlsMinGreaterThanMax, context));
        }
    }
    if let Some(v) = present("certificateHostname", context)? {
        options.cert_host = Some(non_empty(
            &v,
            BackendError::CertificateHostnameEmpty,
            context,
        )?);
    }
    if let Some(v) = present("useSSL", context)? {
        options.use_ssl = Some(v.to_boolean());
    }
    // `dontPool` is accepted; connections are pooled per backend either way.
    present("dontPool", context)?;
    if let Some(v) = present("caCertificate", context)? {
        options.ca_certificate = Some(non_empty(&v, BackendError::CaCertificateEmpty, context)?);
    }
    if let Some(v) = present("ciphers", context)? {
        // rustls picks from its own safe suites; only the platform's emptiness check applies.
        non_empty(&v, BackendError::CiphersEmpty, context)?;
    }
    if let Some(v) = present("sniHostname", context)? {
        options.sni_host = Some(non_empty(&v, BackendError::SniHostnameEmpty, context)?);
    }
    if let Some(v) = present("clientCertificate", context)? {
        let Some(certificate) = v.as_object() else {
            return Err(throw(BackendError::ClientCertificateNotObject, context));
        };
        let cert = certificate.get(js_string!("certificate"), context)?;
        if !cert.is_string() {
            return Err(throw(BackendError::ClientCertificateNoCertificate, context));
        }
        if string(&cert, context)?.is_empty() {
            return Err(throw(BackendError::ClientCertificateEmpty, context));
        }
        // The key must be a SecretStoreEntry; edgeshim has no secret stores yet.
        return Err(throw(BackendError::ClientCertificateKeyInvalid, context));
    }
    if let Some(v) = present("grpc", context)? {
        options.grpc = Some(v.to_boolean());
    }
    if let Some(v) = present("httpKeepalive", context)? {
        // The platform passes its two names swapped here; its messages read that way.
        options.http_keepalive_ms = Some(timeout(&v, "httpKeepalive", CTOR, context)?);
    }
    if let Some(v) = present("tcpKeepalive", context)? {
        if let Some(b) = v.as_boolean() {
            options.tcp_keepalive = Some(b);
        } else if let Some(object) = v.as_object() {
            let probes = object.get(js_string!("probes"), context)?;
            if !probes.is_undefined() {
                let n = probes.to_number(context)?;
                if n.fract() != 0.0 || n <= 0.0 {
                    return Err(throw(BackendError::TcpKeepaliveInvalidProbes, context));
                }
            }
            options.tcp_keepalive = Some(true);
        } else {
            return Err(throw(BackendError::TcpKeepaliveNotObjectOrBool, context));
        }
    }
    Ok(options)
}

/// A `Backend` object: the name of an entry in the instance's [`Backends`].
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsBackend {
    #[unsafe_ignore_trace]
    name: String,
}

impl JsBackend {
    /// A `Backend` object for the backend named `name` (which exists).
    pub fn object(name: &str, context: &mut Context) -> JsResult<JsObject> {
        Self::from_data(
            Self {
                name: name.to_owned(),
            },
            context,
        )
    }

    /// The backend name of `value` if it is a `Backend` object.
    pub fn name_of(value: &JsValue) -> Option<String> {
        value
            .as_object()
            .and_then(|o| o.downcast_ref::<JsBackend>().map(|b| b.name.clone()))
    }
}

fn entry_of(this: &JsValue, what: &str, context: &mut Context) -> JsResult<Option<BackendEntry>> {
    let backend = this_as::<JsBackend>(this, what, CLASS)?;
    let name = backend.borrow().data().name.clone();
    Ok(registry(context)?.get(&name))
}

/// A read-only accessor reporting one field of the backend's entry (`undefined` for a
/// `Backend` whose entry is gone).
macro_rules! accessor {
    ($class:expr, $name:literal, |$e:ident| $read:expr) => {
        getter($class, $name, |this, _, context| {
            Ok(entry_of(this, $name, context)?.map_or(JsValue::undefined(), |$e| $read))
        })
    };
}

fn millis(d: Duration) -> JsValue {
    #[allow(clippy::cast_precision_loss)]
    JsValue::from(d.as_millis() as f64)
}

impl Class for JsBackend {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        if !Phase::in_request(context) {
            return Err(throw(
                BackendError::RequestHandlerOnly("The Backend builtin"),
                context,
            ));
        }
        require_args(args, "Backend constructor", 1)?;
        let Some(config) = args[0].as_object() else {
            return Err(throw(BackendError::ParameterNotObject, context));
        };
        let name = validate_name(&config.get(js_string!("name"), context)?, context)?;
        let target = config.get(js_string!("target"), context)?;
        if target.is_null_or_undefined() {
            return Err(throw(BackendError::TargetNotSet, context));
        }
        let target = string(&target, context)?;
        if target.is_empty() {
            return Err(throw(BackendError::TargetEmpty, context));
        }
        if !is_valid_target(&target) {
            return Err(throw(BackendError::TargetInvalid, context));
        }
        let given = read_options(&config, context)?;
        let backends = registry(context)?;
        let entry = backends
            .0
            .borrow()
            .dynamic_defaults
            .merged(given)
            .entry(name.clone(), &target);
        let mut registry = backends.0.borrow_mut();
        if registry.by_name.contains_key(&name) {
            drop(registry);
            return Err(throw(BackendError::NameInUse(name), context));
        }
        registry.by_name.insert(name.clone(), entry);
        Ok(Self { name })
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        getter(class, "name", |this, _, _| {
            let backend = this_as::<JsBackend>(this, "name", CLASS)?;
            let name = JsString::from(backend.borrow().data().name.as_str());
            Ok(name.into())
        });
        accessor!(class, "isDynamic", |e| e.dynamic.into());
        accessor!(class, "target", |e| JsString::from(e.spec.host.as_str())
            .into());
        accessor!(class, "hostOverride", |e| e
            .spec
            .override_host
            .as_deref()
            .map_or(JsValue::undefined(), |h| JsString::from(h).into()));
        accessor!(class, "port", |e| e.spec.port.into());
        accessor!(class, "connectTimeout", |e| millis(e.spec.connect_timeout));
        accessor!(class, "firstByteTimeout", |e| millis(
            e.spec.first_byte_timeout
        ));
        accessor!(class, "betweenBytesTimeout", |e| millis(
            e.spec.between_bytes_timeout
        ));
        accessor!(class, "httpKeepaliveTime", |e| e.http_keepalive_ms.into());
        accessor!(class, "tcpKeepalive", |e| e.tcp_keepalive.into());
        accessor!(class, "isSSL", |e| e.spec.tls.into());
        accessor!(class, "tlsMinVersion", |e| e
            .tls_min
            .map_or(JsValue::undefined(), JsValue::from));
        accessor!(class, "tlsMaxVersion", |e| e
            .tls_max
            .map_or(JsValue::undefined(), JsValue::from));
        class.static_method(js_string!("exists"), 1, NativeFunction::from_fn_ptr(exists));
        class.static_method(
            js_string!("fromName"),
            1,
            NativeFunction::from_fn_ptr(from_name),
        );
        class.static_method(
            js_string!("health"),
            1,
            NativeFunction::from_fn_ptr(health_of),
        );
        Ok(())
    }
}

/// The prototype's methods, enumerable as the platform's are.
pub fn define_methods(prototype: &JsObject, context: &mut Context) -> JsResult<()> {
    use crate::class_util::define_enumerable_method;
    define_enumerable_method(prototype, "health", 0, health, context)?;
    define_enumerable_method(prototype, "toString", 0, to_name, context)?;
    define_enumerable_method(prototype, "toName", 0, to_name, context)
}

fn health(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    entry_of(this, "health", context)?;
    Ok(js_string!("unknown").into())
}

fn to_name(this: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let backend = this_as::<JsBackend>(this, "toString", CLASS)?;
    let name = JsString::from(backend.borrow().data().name.as_str());
    Ok(name.into())
}

fn exists(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "Backend.exists", 1)?;
    let name = validate_name(&args[0], context)?;
    Ok(registry(context)?.get(&name).is_some().into())
}

fn from_name(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "Backend.fromName", 1)?;
    let name = validate_name(&args[0], context)?;
    if registry(context)?.get(&name).is_none() {
        return Err(throw(BackendError::FromNameMissing(name), context));
    }
    Ok(JsBackend::object(&name, context)?.into())
}

/// `Backend.health(name)`: edgeshim runs no health checks, so every backend is "unknown",
/// as on Viceroy.
fn health_of(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "Backend.health", 1)?;
    let name = validate_name(&args[0], context)?;
    if registry(context)?.get(&name).is_none() {
        return Err(throw(BackendError::HealthMissing(name), context));
    }
    Ok(js_string!("unknown").into())
}

/// `setDefaultBackend(name)`: the backend of requests without one; dynamic backends off.
pub fn set_default_backend(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    require_args(args, "setDefaultBackend", 1)?;
    let name = string(&args[0], context)?;
    let backends = registry(context)?;
    let mut registry = backends.0.borrow_mut();
    registry.default_backend = Some(name);
    registry.dynamic_allowed = false;
    Ok(JsValue::undefined())
}

/// `fastly.defaultBackend`: the default backend's name (empty when none is set).
pub fn default_backend_get(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let name = registry(context)?.0.borrow().default_backend.clone();
    Ok(JsString::from(name.unwrap_or_default().as_str()).into())
}

/// `fastly.allowDynamicBackends`: whether `fetch()` may make dynamic backends.
pub fn allow_dynamic_backends_get(
    _: &JsValue,
    _: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    Ok(registry(context)?.0.borrow().dynamic_allowed.into())
}

/// `allowDynamicBackends(enabled)` (`fastly:experimental`).
pub fn allow_dynamic_backends(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    require_args(args, "allowDynamicBackends", 1)?;
    let value = &args[0];
    let allowed = match value.as_object() {
        // An object is a default dynamic backend configuration, and turns them on.
        Some(config) => {
            let options = read_options(&config, context)?;
            let backends = registry(context)?;
            let mut registry = backends.0.borrow_mut();
            registry.dynamic_defaults = registry.dynamic_defaults.merged(options);
            true
        }
        None => value.to_boolean(),
    };
    registry(context)?.0.borrow_mut().dynamic_allowed = allowed;
    Ok(JsValue::undefined())
}

fn enforce_explicit_backends(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    let default = args.first().cloned().unwrap_or_default();
    let default = if default.is_null_or_undefined() {
        None
    } else if default.is_string() {
        Some(string(&default, context)?)
    } else {
        return Err(throw(BackendError::DefaultBackendNotString, context));
    };
    let backends = registry(context)?;
    let mut registry = backends.0.borrow_mut();
    if default.is_some() {
        registry.default_backend = default;
    }
    registry.dynamic_allowed = false;
    Ok(JsValue::undefined())
}

fn set_default_dynamic_backend_config(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    require_args(args, "setDefaultDynamicBackendConfiguration", 1)?;
    let Some(config) = args[0].as_object() else {
        return Err(throw(BackendError::ParameterNotObject, context));
    };
    let options = read_options(&config, context)?;
    let backends = registry(context)?;
    let mut registry = backends.0.borrow_mut();
    registry.dynamic_defaults = registry.dynamic_defaults.merged(options);
    Ok(JsValue::undefined())
}

/// The module's function exports, with their lengths.
pub fn functions() -> [(&'static str, usize, NativeFunction); 3] {
    [
        (
            "enforceExplicitBackends",
            0,
            NativeFunction::from_fn_ptr(enforce_explicit_backends),
        ),
        (
            "setDefaultBackend",
            1,
            NativeFunction::from_fn_ptr(set_default_backend),
        ),
        (
            "setDefaultDynamicBackendConfig",
            1,
            NativeFunction::from_fn_ptr(set_default_dynamic_backend_config),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_checked_as_the_platform_checks_them() {
        for ok in [
            "example.com",
            "127.0.0.1",
            "127.0.0.1:8080",
            "a-b.c:1",
            "::1",
            "fe80::1",
        ] {
            assert!(is_valid_target(ok), "{ok}");
        }
        for bad in [
            "",
            "::",
            "-a.com",
            "a.com.",
            "a_b.com",
            "a.com:0",
            "a.com:65536",
            "a.com:x",
            "127.0.0.1:1/x",
        ] {
            assert!(!is_valid_target(bad), "{bad}");
        }
        assert_eq!(split_target("h:8080"), ("h", Some(8080)));
        assert_eq!(split_target("[::1]:81"), ("::1", Some(81)));
        assert_eq!(split_target("::1"), ("::1", None));
    }
}
