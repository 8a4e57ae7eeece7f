//! Every error `fastly:backend` and `fetch()` can raise, and the one place that turns them
//! into JS errors (the platform's classes: TypeError, RangeError, Error, or the
//! `NetworkError` DOMException a failed send rejects with).

use boa_engine::{Context, JsError, JsNativeError, JsResult};

use super::messages as msg;
use crate::host_call::SendError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    #[error("{}", msg::request_handler_only(.0))]
    RequestHandlerOnly(&'static str),
    #[error("{}", msg::PARAMETER_NOT_OBJECT)]
    ParameterNotObject,
    #[error("{}", msg::NAME_NOT_SET)]
    NameNotSet,
    #[error("{}", msg::NAME_TOO_LONG)]
    NameTooLong,
    #[error("{}", msg::NAME_EMPTY)]
    NameEmpty,
    #[error("{}", msg::TARGET_NOT_SET)]
    TargetNotSet,
    #[error("{}", msg::TARGET_EMPTY)]
    TargetEmpty,
    #[error("{}", msg::TARGET_INVALID)]
    TargetInvalid,
    #[error("{}", msg::CIPHERS_EMPTY)]
    CiphersEmpty,
    #[error("{}", msg::HOST_OVERRIDE_EMPTY)]
    HostOverrideEmpty,
    #[error("{}", msg::CERTIFICATE_HOSTNAME_EMPTY)]
    CertificateHostnameEmpty,
    #[error("{}", msg::SNI_HOSTNAME_EMPTY)]
    SniHostnameEmpty,
    #[error("{}", msg::CA_CERTIFICATE_EMPTY)]
    CaCertificateEmpty,
    #[error("{}", msg::TLS_MIN_INVALID)]
    TlsMinInvalid,
    #[error("{}", msg::TLS_MAX_INVALID)]
    TlsMaxInvalid,
    #[error("{}", msg::TLS_MIN_GREATER_THAN_MAX)]
    TlsMinGreaterThanMax,
    #[error("{}", msg::CLIENT_CERTIFICATE_NOT_OBJECT)]
    ClientCertificateNotObject,
    #[error("{}", msg::CLIENT_CERTIFICATE_NO_CERTIFICATE)]
    ClientCertificateNoCertificate,
    #[error("{}", msg::CLIENT_CERTIFICATE_CERTIFICATE_EMPTY)]
    ClientCertificateEmpty,
    #[error("{}", msg::CLIENT_CERTIFICATE_KEY_INVALID)]
    ClientCertificateKeyInvalid,
    #[error("{}", msg::TCP_KEEPALIVE_NOT_OBJECT_OR_BOOL)]
    TcpKeepaliveNotObjectOrBool,
    #[error("{}", msg::TCP_KEEPALIVE_INVALID_PROBES)]
    TcpKeepaliveInvalidProbes,
    #[error("{}", msg::timeout_nan(.subsystem, .property))]
    TimeoutNan {
        subsystem: &'static str,
        property: &'static str,
    },
    #[error("{}", msg::timeout_negative(.subsystem, .property))]
    TimeoutNegative {
        subsystem: &'static str,
        property: &'static str,
    },
    #[error("{}", msg::timeout_too_big(.subsystem, .property, *.max))]
    TimeoutTooBig {
        subsystem: &'static str,
        property: &'static str,
        max: u64,
    },
    /// A second `new Backend()` with a name in use (Viceroy: the host's generic error).
    #[error("Backend constructor: a backend named '{0}' already exists")]
    NameInUse(String),
    #[error("{}", msg::from_name_missing(.0))]
    FromNameMissing(String),
    #[error("{}", msg::health_missing(.0))]
    HealthMissing(String),
    #[error("enforceExplicitBackends: defaultBackend must be undefined or a string")]
    DefaultBackendNotString,
    #[error("{}", msg::backend_does_not_exist(.0))]
    DoesNotExist(String),
    #[error("{}", msg::no_backend(.0))]
    NoBackend(String),
    /// Compute refuses the 33rd backend request of one client request.
    #[error(
        "Too many backend requests: a request may make at most {0} (Compute's limit on backend requests per client request)"
    )]
    TooManyRequests(usize),
    /// The request would reach edgeshim itself again, through too many hops.
    #[error(
        "Loop detected: the request to backend '{backend}' has already passed through edgeshim {hops} times (CDN-Loop); a backend pointing at this server makes every request fetch itself again"
    )]
    Loop { backend: String, hops: usize },
    #[error("{0}")]
    Send(SendError),
}

impl BackendError {
    /// The JS error the platform raises for this failure.
    pub fn into_js(self, context: &mut Context) -> JsResult<JsError> {
        use BackendError as E;
        let message = self.to_string();
        Ok(match self {
            E::Send(error) => {
                crate::web::dom_exception::create(&send_message(&error), "NetworkError", context)?
            }
            E::TlsMinInvalid
            | E::TlsMaxInvalid
            | E::TlsMinGreaterThanMax
            | E::TimeoutNan { .. }
            | E::TimeoutNegative { .. }
            | E::TimeoutTooBig { .. } => JsNativeError::range().with_message(message).into(),
            E::RequestHandlerOnly(_)
            | E::FromNameMissing(_)
            | E::HealthMissing(_)
            | E::NoBackend(_)
            | E::NameInUse(_)
            | E::TooManyRequests(_)
            | E::Loop { .. } => JsNativeError::error().with_message(message).into(),
            _ => JsNativeError::typ().with_message(message).into(),
        })
    }
}

/// The message production gives a send error (`FastlySendError::message`).
pub fn send_message(error: &SendError) -> String {
    match error {
        SendError::DnsError(_) => "DNS error (rcode=3, info_code=0)",
        SendError::ConnectionRefused(_) => "Connection refused",
        SendError::ConnectionTimeout(_) => "Connection timeout",
        SendError::FirstByteTimeout => "HTTP response timeout",
        SendError::TlsError(_) => "TLS certificate error",
        SendError::ConnectionFailure(_) => "Connection terminated",
        SendError::InvalidResponse(_) => "HTTP protocol error",
        SendError::InvalidRequest(_) => "HTTP request URI invalid",
    }
    .to_owned()
}
