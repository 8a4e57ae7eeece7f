//! An origin server for the backend tests, on a free loopback port (plain HTTP, or TLS with
//! a certificate from a CA the test generates). Its routes misbehave on purpose; all but
//! `/cacheable/` answer with `Cache-Control: no-store`, so the readthrough cache keeps none:
//!
//! | path          | answer                                                           |
//! |---------------|------------------------------------------------------------------|
//! | `/echo…`      | JSON: method, path and query, Host, CDN-Loop, Cookie, X-Forwarded-Host, X-Cache-Key, body length, HTTP version |
//! | `/fail`       | 503                                                              |
//! | `/gzip`       | `hello gzip` gzip-encoded, with Content-Encoding and Content-Length |
//! | `/count`      | JSON: the streamed body's length and byte sum, read as it arrives |
//! | `/big?bytes=N`| N bytes (`i % 251`) in 64 KiB chunks                             |
//! | `/slow-head`  | its head only after 3 s                                          |
//! | `/stall`      | `part`, then nothing for 3 s                                     |
//! | `/redirect`   | 302 to `/echo`                                                   |
//! | `/cacheable/NAME?…` | `NAME #N` (N: this NAME's requests so far), with the caching headers the query asks for: `cc` Cache-Control, `sc` Surrogate-Control, `sk` Surrogate-Key, `vary`, `cookie` (a Set-Cookie), `status`, `delay` (ms before the head); `x-lang` echoed |

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

type Body = BoxBody<Bytes, Infallible>;

/// Requests of each `/cacheable/NAME` so far (names are unique per test).
static CACHEABLE_COUNTS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, usize>>,
> = std::sync::LazyLock::new(Default::default);

pub struct Origin {
    pub addr: SocketAddr,
    /// Requests received so far.
    pub requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A certificate authority and a certificate it issued for `localhost` and 127.0.0.1.
pub struct Tls {
    pub ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

impl Tls {
    pub fn generate() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf = params.signed_by(&key, &issuer).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
        let mut config = config;
        // HTTP/2 when the client offers it, as origins behind TLS usually do.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self {
            ca_pem: ca.pem(),
            config: Arc::new(config),
        }
    }
}

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).boxed()
}

/// Every answer but `/cacheable/`'s says `Cache-Control: no-store`: those routes are
/// dynamic, and the tests that use them count or inspect each request.
async fn route(request: Request<Incoming>) -> Response<Body> {
    let cacheable = request.uri().path().starts_with("/cacheable/");
    let mut response = answer(request).await;
    if !cacheable && !response.headers().contains_key("cache-control") {
        response.headers_mut().insert(
            "cache-control",
            hyper::header::HeaderValue::from_static("no-store"),
        );
    }
    response
}

async fn answer(request: Request<Incoming>) -> Response<Body> {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (host, cdn_loop) = (header("host"), header("cdn-loop"));
    let (cookie, forwarded_host, cache_key) = (
        header("cookie"),
        header("x-forwarded-host"),
        header("x-cache-key"),
    );
    let method = request.method().to_string();
    let version = format!("{:?}", request.version());
    if path.starts_with("/echo") {
        let body = request.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::json!({
            "method": method, "path": path, "host": host, "cdnLoop": cdn_loop, "length": body.len(),
            "cookie": cookie, "forwardedHost": forwarded_host, "cacheKey": cache_key,
            "version": version,
        });
        return Response::new(full(json.to_string()));
    }
    if let Some(page) = path.strip_prefix("/page/") {
        // An origin's HTML page, with absolute links to itself and an ad to strip.
        let html = format!(
            "<!doctype html><html><head><title>{page}</title></head><body>\
             <h1>{page}</h1><a href=\"http://origin.test/about\">About</a>\
             <p class=\"ad\">Buy now</p><p>Text &amp; more</p></body></html>"
        );
        return Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(full(html))
            .unwrap();
    }
    if path == "/count" {
        let mut body = request.into_body();
        let (mut length, mut sum) = (0u64, 0u64);
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                length += data.len() as u64;
                sum += data.iter().map(|b| u64::from(*b)).sum::<u64>();
            }
        }
        let json = serde_json::json!({ "length": length, "sum": sum });
        return Response::new(full(json.to_string()));
    }
    if let Some(bytes) = path.strip_prefix("/big?bytes=") {
        let total: usize = bytes.parse().unwrap();
        let chunks = (0..total).step_by(64 * 1024).map(move |start| {
            let end = (start + 64 * 1024).min(total);
            let chunk: Vec<u8> = (start..end).map(|i| (i % 251) as u8).collect();
            Ok::<_, Infallible>(Frame::data(Bytes::from(chunk)))
        });
        return Response::new(StreamBody::new(futures_util::stream::iter(chunks)).boxed());
    }
    if path == "/slow-head" {
        tokio::time::sleep(Duration::from_secs(3)).await;
        return Response::new(full("late"));
    }
    if path == "/stall" {
        let stream = futures_util::stream::unfold(0, |step| async move {
            match step {
                0 => Some((Ok::<_, Infallible>(Frame::data(Bytes::from("part"))), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    Some((Ok(Frame::data(Bytes::from("rest"))), 2))
                }
                _ => None,
            }
        });
        return Response::new(StreamBody::new(stream).boxed());
    }
    if path == "/gzip" {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"hello gzip").unwrap();
        let encoded = encoder.finish().unwrap();
        return Response::builder()
            .header("content-encoding", "gzip")
            .header("content-length", encoded.len())
            .body(full(encoded))
            .unwrap();
    }
    if path == "/fail" {
        return Response::builder()
            .status(503)
            .header("server", "origin")
            .body(full("down"))
            .unwrap();
    }
    if let Some(rest) = path.strip_prefix("/cacheable/") {
        let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
        let params: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        let n = {
            let mut counts = CACHEABLE_COUNTS.lock().unwrap();
            let n = counts.entry(name.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        if let Some(ms) = params.get("delay").and_then(|d| d.parse().ok()) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let status = params
            .get("status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        let mut response = Response::builder().status(status);
        for (param, header) in [
            ("cc", "cache-control"),
            ("sc", "surrogate-control"),
            ("sk", "surrogate-key"),
            ("vary", "vary"),
            ("cookie", "set-cookie"),
        ] {
            if let Some(value) = params.get(param) {
                response = response.header(header, value);
            }
        }
        let lang = header("x-lang")
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        return response.body(full(format!("{name} #{n}{lang}"))).unwrap();
    }
    if path == "/redirect" {
        return Response::builder()
            .status(302)
            .header("location", "/echo")
            .body(full(""))
            .unwrap();
    }
    Response::builder()
        .status(404)
        .body(full("no route"))
        .unwrap()
}

impl Origin {
    /// A plain HTTP origin.
    pub async fn start() -> Self {
        Self::serve(None).await
    }

    /// An HTTPS origin presenting `tls`'s certificate.
    pub async fn start_tls(tls: &Tls) -> Self {
        Self::serve(Some(tokio_rustls::TlsAcceptor::from(tls.config.clone()))).await
    }

    async fn serve(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let counter = counter.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        async move { Ok::<_, Infallible>(route(request).await) }
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            requests,
            task,
        }
    }
}
