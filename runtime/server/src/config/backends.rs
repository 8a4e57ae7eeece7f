//! `[local_server.backends]`: the static backends `fetch()` can name, read as Viceroy reads
//! them (its `src/config/backends.rs`): `url` (required), `override_host`, `cert_host`,
//! `use_sni`, `grpc`, `ca_certificate` (a PEM string, `{ file = "..." }`, `{ value = "..." }`
//! or an array of those), `first_byte_timeout_ms`, `between_bytes_timeout_ms`, `health`.
//! An unknown key, a bad URL or a bad value stops the start with a message naming the file,
//! the backend and the fix; the wording after the backend's name is Viceroy's.
//!
//! ```toml
//! [local_server.backends.origin]
//! url = "https://127.0.0.1:8443/api"
//! override_host = "example.com"
//! ca_certificate = { file = "ca.pem" }
//! ```

use std::path::Path;
use std::time::Duration;

use edgeshim_engine::BackendSpec;

/// Compute's default timeouts (Viceroy's too, where fastly.toml sets none).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_millis(15_000);
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_millis(10_000);

/// What is wrong with one backend: Viceroy's `BackendConfigError` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendProblem {
    #[error("definition was not provided as a TOML table")]
    InvalidEntryType,
    #[error("missing 'url' field")]
    MissingUrl,
    #[error("'url' field was not a string")]
    InvalidUrlEntry,
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    #[error("'override_host' field is empty")]
    EmptyOverrideHost,
    #[error("'override_host' field was not a string")]
    InvalidOverrideHostEntry,
    #[error("'cert_host' field is empty")]
    EmptyCertHost,
    #[error("'cert_host' field was not a string")]
    InvalidCertHostEntry,
    #[error("'ca_certificate' field is empty")]
    EmptyCaCert,
    #[error("'ca_certificate' field was invalid: {0}")]
    InvalidCaCertEntry(String),
    #[error("'use_sni' field was not a boolean")]
    InvalidUseSniEntry,
    #[error("'grpc' field was not a boolean")]
    InvalidGrpcEntry,
    #[error("Illegal timeout value (must be an integer >= 0)")]
    InvalidTimeoutValue,
    #[error("invalid 'health' value: {0} (one of unknown, healthy, unhealthy)")]
    InvalidHealthEntry(String),
    #[error("unrecognized key '{0}' (the keys are url, override_host, cert_host, use_sni, grpc, ca_certificate, first_byte_timeout_ms, between_bytes_timeout_ms, health)")]
    UnrecognizedKey(String),
    #[error("client certificates are not supported by edgeshim yet; remove 'client_certificate'")]
    ClientCertificate,
}

/// Reads the `[local_server.backends]` table; `Err((backend, problem))` names the one that
/// is wrong. `base_dir` is where relative `ca_certificate` files resolve (the working
/// directory, as Viceroy resolves them).
pub fn parse(
    table: &toml::Table,
    base_dir: &Path,
) -> Result<Vec<BackendSpec>, (String, BackendProblem)> {
    table
        .iter()
        .map(|(name, value)| {
            backend(name, value, base_dir).map_err(|problem| (name.clone(), problem))
        })
        .collect()
}

fn backend(
    name: &str,
    value: &toml::Value,
    base_dir: &Path,
) -> Result<BackendSpec, BackendProblem> {
    use toml::Value;
    let Value::Table(table) = value else {
        return Err(BackendProblem::InvalidEntryType);
    };
    let mut table = table.clone();
    let url = match table.remove("url") {
        None => return Err(BackendProblem::MissingUrl),
        Some(Value::String(url)) => url,
        Some(_) => return Err(BackendProblem::InvalidUrlEntry),
    };
    let parsed =
        url::Url::parse(&url).map_err(|e| BackendProblem::InvalidUrl(format!("{url}: {e}")))?;
    let tls = match parsed.scheme() {
        "https" => true,
        "http" => false,
        other => {
            return Err(BackendProblem::InvalidUrl(format!(
                "{url}: the scheme is {other}, not http or https"
            )))
        }
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| BackendProblem::InvalidUrl(format!("{url}: no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    let text = |key: &str,
                table: &mut toml::Table,
                empty: BackendProblem,
                invalid: BackendProblem|
     -> Result<Option<String>, BackendProblem> {
        match table.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
            Some(Value::String(_)) => Err(empty),
            Some(_) => Err(invalid),
        }
    };
    let override_host = text(
        "override_host",
        &mut table,
        BackendProblem::EmptyOverrideHost,
        BackendProblem::InvalidOverrideHostEntry,
    )?;
    let cert_host = text(
        "cert_host",
        &mut table,
        BackendProblem::EmptyCertHost,
        BackendProblem::InvalidCertHostEntry,
    )?;
    let flag = |key: &str, table: &mut toml::Table, invalid: BackendProblem| match table.remove(key)
    {
        None => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(b)),
        Some(_) => Err(invalid),
    };
    let use_sni = flag("use_sni", &mut table, BackendProblem::InvalidUseSniEntry)?.unwrap_or(true);
    if table.remove("client_certificate").is_some() {
        return Err(BackendProblem::ClientCertificate);
    }
    let ca_certificate = match table.remove("ca_certificate") {
        None => None,
        Some(value) => Some(ca_certificate(value, base_dir)?),
    };
    let grpc = flag("grpc", &mut table, BackendProblem::InvalidGrpcEntry)?.unwrap_or(false);
    let timeout = |key: &str, table: &mut toml::Table| match table.remove(key) {
        None => Ok(None),
        Some(Value::Integer(ms)) if ms >= 0 => Ok(Some(Duration::from_millis(ms.unsigned_abs()))),
        Some(_) => Err(BackendProblem::InvalidTimeoutValue),
    };
    let first_byte_timeout = timeout("first_byte_timeout_ms", &mut table)?;
    let between_bytes_timeout = timeout("between_bytes_timeout_ms", &mut table)?;
    match table.remove("health") {
        None => {}
        Some(Value::String(h))
            if ["unknown", "healthy", "unhealthy"].contains(&h.to_lowercase().as_str()) => {}
        Some(Value::String(h)) => return Err(BackendProblem::InvalidHealthEntry(h)),
        Some(_) => return Err(BackendProblem::InvalidHealthEntry("not a string".into())),
    }
    if let Some(key) = table.keys().next() {
        return Err(BackendProblem::UnrecognizedKey(key.clone()));
    }
    Ok(BackendSpec {
        name: name.to_owned(),
        host,
        port,
        tls,
        path_prefix: parsed.path().to_owned(),
        override_host,
        cert_host,
        sni_host: None,
        use_sni,
        ca_certificate,
        http2_only: grpc,
        connect_timeout: CONNECT_TIMEOUT,
        first_byte_timeout: first_byte_timeout.unwrap_or(FIRST_BYTE_TIMEOUT),
        between_bytes_timeout: between_bytes_timeout.unwrap_or(BETWEEN_BYTES_TIMEOUT),
    })
}

/// The PEM text of a `ca_certificate` value, in each form Viceroy accepts.
fn ca_certificate(value: toml::Value, base_dir: &Path) -> Result<String, BackendProblem> {
    use toml::Value;
    let invalid = |why: String| BackendProblem::InvalidCaCertEntry(why);
    match value {
        Value::String(pem) if !pem.trim().is_empty() => {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(invalid("Couldn't process certificate: no PEM certificate in the text".into()));
            }
            Ok(pem)
        }
        Value::String(_) => Err(BackendProblem::EmptyCaCert),
        Value::Array(items) => {
            let pems = items
                .into_iter()
                .map(|item| ca_certificate(item, base_dir))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(pems.join("\n"))
        }
        Value::Table(mut table) => match table.remove("file") {
            None => match table.remove("value") {
                None => Err(invalid(
                    "'ca_certificate' was a dictionary without a 'file' or 'value' field".into(),
                )),
                Some(text @ Value::String(_)) => ca_certificate(text, base_dir),
                Some(_) => Err(invalid("invalid format for 'value' field".into())),
            },
            Some(Value::String(file)) => {
                if !table.is_empty() {
                    return Err(invalid(format!(
                        "unknown ca_certificate keys: {:?}",
                        table.keys().collect::<Vec<_>>()
                    )));
                }
                let path = base_dir.join(&file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
                ca_certificate(Value::String(text), base_dir)
            }
            Some(_) => Err(invalid("invalid format for file reference".into())),
        },
        _ => Err(invalid("unknown format for 'ca_certificates' field; should be a certificate string, a dictionary with a file reference, or an array of the previous".into())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn one(text: &str) -> Result<BackendSpec, (String, BackendProblem)> {
        let table: toml::Table = toml::from_str(text).unwrap();
        parse(&table, Path::new(".")).map(|mut all| all.remove(0))
    }

    #[test]
    fn a_url_gives_address_scheme_and_path_prefix() {
        let b = one(
            "origin = { url = \"https://127.0.0.1:8443/api/\", override_host = \"example.com\" }",
        )
        .unwrap();
        assert_eq!((b.host.as_str(), b.port, b.tls), ("127.0.0.1", 8443, true));
        assert_eq!(b.path_prefix, "/api/");
        assert_eq!(b.override_host.as_deref(), Some("example.com"));
        assert!(b.use_sni);
        let plain =
            one("o = { url = \"http://example.com\", first_byte_timeout_ms = 200 }").unwrap();
        assert_eq!((plain.port, plain.tls), (80, false));
        assert_eq!(plain.first_byte_timeout, Duration::from_millis(200));
    }

    #[test]
    fn mistakes_name_the_backend_and_say_what_is_wrong() {
        let cases = [
            ("o = { }", "missing 'url' field"),
            ("o = { url = 5 }", "'url' field was not a string"),
            ("o = { url = \"http://h\", override_hots = \"x\" }", "unrecognized key 'override_hots' (the keys are url, override_host, cert_host, use_sni, grpc, ca_certificate, first_byte_timeout_ms, between_bytes_timeout_ms, health)"),
            ("o = { url = \"http://h\", override_host = \" \" }", "'override_host' field is empty"),
            ("o = { url = \"http://h\", use_sni = \"yes\" }", "'use_sni' field was not a boolean"),
            ("o = { url = \"http://h\", first_byte_timeout_ms = -1 }", "Illegal timeout value (must be an integer >= 0)"),
            ("o = { url = \"ftp://h\" }", "invalid url: ftp://h: the scheme is ftp, not http or https"),
            ("o = { url = \"http://h\", ca_certificate = \"\" }", "'ca_certificate' field is empty"),
            ("o = \"http://h\"", "definition was not provided as a TOML table"),
        ];
        for (text, message) in cases {
            let (name, problem) = one(text).unwrap_err();
            assert_eq!(
                (name.as_str(), problem.to_string().as_str()),
                ("o", message),
                "{text}"
            );
        }
    }
}
