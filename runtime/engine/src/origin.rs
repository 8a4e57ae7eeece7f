//! The host side of `fetch()`: HTTP/1.1 and HTTP/2 to backends, with a connection pool per
//! backend, TLS by rustls (the system's roots plus the backend's `ca_certificate`) and
//! Compute's three timeouts. Nothing here knows Boa.
//!
//! Bodies stream both ways through bounded channels ([`BodyChunks`]), so a proxied
//! upload or download holds a few chunks, never the whole body.
//!
//! Reference: <https://www.fastly.com/documentation/reference/api/services/backend/>
//! (timeouts, TLS options) and Viceroy's `upstream.rs` (path prefix, `Host`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{HttpConnector, HttpInfo};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::sync::mpsc;

use crate::host_call::{BackendHead, BackendRequest, BackendResponse, BackendSpec, SendError};
use crate::web::body_stream::{BodyChunks, Chunk, HostBody};

type OutBody = BoxBody<Bytes, std::io::Error>;
type OriginClient = Client<HttpsConnector<HttpConnector>, OutBody>;

/// The clients of the backends requests went to, one per backend (its connection pool).
#[derive(Default)]
pub struct Origins {
    clients: Mutex<HashMap<BackendSpec, OriginClient>>,
    /// The system's trust roots, read once.
    roots: std::sync::OnceLock<Arc<rustls::RootCertStore>>,
}

impl std::fmt::Debug for Origins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origins")
            .field("backends", &self.clients.lock().len())
            .finish()
    }
}

impl Origins {
    fn system_roots(&self) -> Arc<rustls::RootCertStore> {
        self.roots
            .get_or_init(|| {
                let mut roots = rustls::RootCertStore::empty();
                let found = rustls_native_certs::load_native_certs();
                for error in &found.errors {
                    tracing::debug!("a system certificate was skipped: {error}");
                }
                let (added, _) = roots.add_parsable_certificates(found.certs);
                tracing::debug!("{added} system trust roots");
                Arc::new(roots)
            })
            .clone()
    }

    fn client(&self, backend: &BackendSpec) -> Result<OriginClient, SendError> {
        if let Some(client) = self.clients.lock().get(backend) {
            return Ok(client.clone());
        }
        let client = self.build(backend)?;
        self.clients.lock().insert(backend.clone(), client.clone());
        Ok(client)
    }

    fn build(&self, backend: &BackendSpec) -> Result<OriginClient, SendError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(backend.connect_timeout));
        let mut roots = (*self.system_roots()).clone();
        if let Some(pem) = &backend.ca_certificate {
            let certs: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|e| SendError::TlsError(format!("ca_certificate is not PEM: {e}")))?;
            roots.add_parsable_certificates(certs);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SendError::TlsError(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.enable_sni = backend.use_sni;
        let name = backend
            .cert_host
            .clone()
            .or_else(|| backend.sni_host.clone())
            .unwrap_or_else(|| backend.host.clone());
        let name = ServerName::try_from(name.clone())
            .map_err(|_| SendError::TlsError(format!("{name:?} is not a valid server name")))?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            .enable_all_versions()
            .wrap_connector(http);
        let mut builder = Client::builder(TokioExecutor::new());
        builder.pool_idle_timeout(Duration::from_secs(30));
        builder.http2_only(backend.http2_only);
        Ok(builder.build(connector))
    }

    /// Sends `request` to its backend. Resolves once the response head arrived; its body
    /// then streams, failing if a gap between chunks exceeds the between-bytes timeout.
    pub async fn send(
        &self,
        request: BackendRequest,
        body: HostBody,
    ) -> Result<BackendResponse, SendError> {
        let backend = &request.backend;
        let client = self.client(backend)?;
        let outgoing = build_request(&request, body)?;
        let started = std::time::Instant::now();
        let sent = tokio::time::timeout(backend.first_byte_timeout, client.request(outgoing)).await;
        let response = match sent {
            Err(_) => return Err(SendError::FirstByteTimeout),
            Ok(Err(e)) => return Err(classify(&e, backend)),
            Ok(Ok(response)) => response,
        };
        let remote = response
            .extensions()
            .get::<HttpInfo>()
            .map(HttpInfo::remote_addr);
        let status = response.status().as_u16();
        tracing::debug!(
            target: "edgeshim::backend",
            "{} {} -> {status} in {:.1} ms",
            request.method,
            request.url,
            started.elapsed().as_secs_f64() * 1000.0
        );
        // As Viceroy does it: only a gzip response is decoded, and it loses the headers
        // that described the encoded bytes.
        let gunzip = request.decompress_gzip
            && response
                .headers()
                .get(hyper::header::CONTENT_ENCODING)
                .is_some_and(|e| e.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| {
                !gunzip
                    || (*name != hyper::header::CONTENT_ENCODING
                        && *name != hyper::header::CONTENT_LENGTH)
            })
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        // The origin's length, unless the body arrives decoded.
        let length = (!gunzip)
            .then(|| hyper::body::Body::size_hint(response.body()).exact())
            .flatten()
            // An empty one (a HEAD response's) says nothing of the resource's length.
            .filter(|&n| n > 0);
        let (sender, chunks) = BodyChunks::channel();
        let chunks = chunks.with_length(length);
        tokio::spawn(pump_response(
            response.into_body(),
            sender,
            backend.between_bytes_timeout,
            gunzip.then(|| flate2::write::GzDecoder::new(Vec::new())),
        ));
        Ok(BackendResponse {
            head: BackendHead {
                status,
                headers,
                remote,
                cache: None,
            },
            body: HostBody::Stream(chunks),
        })
    }
}

/// The hyper request for `request`: to the backend's address, with the URL's path and query
/// after the backend's path prefix, and the `Host` the URL (or the backend) names.
fn build_request(
    request: &BackendRequest,
    body: HostBody,
) -> Result<hyper::Request<OutBody>, SendError> {
    let backend = &request.backend;
    let invalid = |e: &dyn std::fmt::Display| SendError::InvalidRequest(e.to_string());
    let url = url::Url::parse(&request.url).map_err(|e| invalid(&e))?;
    let scheme = if backend.tls { "https" } else { "http" };
    let host = if backend.host.contains(':') {
        format!("[{}]", backend.host)
    } else {
        backend.host.clone()
    };
    let mut target = format!(
        "{scheme}://{host}:{}{}{}",
        backend.port,
        backend.path_prefix.trim_end_matches('/'),
        url.path()
    );
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let host_header = backend.override_host.clone().unwrap_or_else(|| {
        let host = url.host_str().unwrap_or_default();
        match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    });
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(target);
    let mut has_host = false;
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("host") {
            has_host = true;
            // The backend's override wins over the app's header, as on Compute.
            if backend.override_host.is_some() {
                continue;
            }
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !has_host || backend.override_host.is_some() {
        builder = builder.header(hyper::header::HOST, host_header);
    }
    // A streamed body of known length (the client's upload, passed on) is framed with it.
    if let HostBody::Stream(chunks) = &body {
        let framed = request.headers.iter().any(|(name, _)| {
            name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
        });
        if let (Some(length), false) = (chunks.length(), framed) {
            builder = builder.header(hyper::header::CONTENT_LENGTH, length);
        }
    }
    let body: OutBody = match body {
        HostBody::Full(bytes) => Full::new(bytes).map_err(|never| match never {}).boxed(),
        HostBody::Stream(chunks) => {
            let stream = futures::stream::unfold(Some(chunks), |chunks| async move {
                let mut chunks = chunks?;
                match chunks.recv().await {
                    Some(Chunk::Data(bytes)) => Some((Ok(Frame::data(bytes)), Some(chunks))),
                    Some(Chunk::End) => None,
                    Some(Chunk::Error(why)) => Some((Err(std::io::Error::other(why)), None)),
                    None => Some((
                        Err(std::io::Error::other("the request body was cut off")),
                        None,
                    )),
                }
            });
            BodyExt::boxed(StreamBody::new(stream))
        }
    };
    builder.body(body).map_err(|e| invalid(&e))
}

/// Moves a backend's response body into `sender`, chunk by chunk, decoding it on the way
/// when `gunzip` is given.
async fn pump_response(
    mut body: hyper::body::Incoming,
    sender: mpsc::Sender<Chunk>,
    gap: Duration,
    mut gunzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
) {
    use std::io::Write;
    loop {
        let mut chunk = match tokio::time::timeout(gap, body.frame()).await {
            Err(_) => Chunk::Error(BETWEEN_BYTES_TIMEOUT.into()),
            Ok(None) => Chunk::End,
            Ok(Some(Err(e))) => Chunk::Error(format!("the backend's response body failed: {e}")),
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => Chunk::Data(data),
                // Trailers.
                Err(_) => continue,
            },
        };
        if let Some(decoder) = gunzip.as_mut() {
            let decoded = match &chunk {
                Chunk::Data(data) => decoder.write_all(data).map(|()| None),
                Chunk::End => decoder.try_finish().map(|()| Some(Chunk::End)),
                Chunk::Error(_) => Ok(None),
            };
            match decoded {
                Err(e) => chunk = Chunk::Error(format!("the gzip body is invalid: {e}")),
                Ok(then) => {
                    let out = std::mem::take(decoder.get_mut());
                    if !out.is_empty() && sender.send(Chunk::Data(out.into())).await.is_err() {
                        return;
                    }
                    match then {
                        Some(end) => chunk = end,
                        None if matches!(chunk, Chunk::Data(_)) => continue,
                        None => {}
                    }
                }
            }
        }
        let last = !matches!(chunk, Chunk::Data(_));
        if sender.send(chunk).await.is_err() || last {
            return;
        }
    }
}

/// The error a body read ends with when the backend stalls past its between-bytes timeout.
pub const BETWEEN_BYTES_TIMEOUT: &str = "HTTP response timeout";

/// Which of Compute's send errors a hyper client error is.
fn classify(error: &hyper_util::client::legacy::Error, backend: &BackendSpec) -> SendError {
    let address = format!("{}:{}", backend.host, backend.port);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut text = error.to_string();
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            // rustls reports handshake failures as an io::Error wrapping its own, which
            // hyper wraps again; io::Error::source skips the wrapped error itself.
            let mut inner = io.get_ref();
            while let Some(wrapped) = inner {
                if let Some(tls) = wrapped.downcast_ref::<rustls::Error>() {
                    return SendError::TlsError(tls.to_string());
                }
                inner = wrapped
                    .downcast_ref::<std::io::Error>()
                    .and_then(std::io::Error::get_ref);
            }
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return SendError::ConnectionRefused(address)
                }
                std::io::ErrorKind::TimedOut => return SendError::ConnectionTimeout(address),
                _ => {}
            }
        }
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return SendError::TlsError(tls.to_string());
        }
        if current.to_string().contains("dns error") {
            return SendError::DnsError(backend.host.clone());
        }
        if current.to_string().contains("connect timeout")
            || current.to_string().contains("timed out")
        {
            return SendError::ConnectionTimeout(address);
        }
        source = current.source();
        if let Some(next) = source {
            text = format!("{text}: {next}");
        }
    }
    if error.is_connect() {
        SendError::ConnectionFailure(text)
    } else {
        SendError::InvalidResponse(text)
    }
}
