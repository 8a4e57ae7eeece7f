//! Framing headers (`Content-Length`, `Transfer-Encoding`) of what leaves the app: the
//! response it answers with and the requests it sends. As on Compute and in Viceroy
//! (`src/http/framing.rs`): by default the host frames the message itself and drops the
//! app's framing headers; after `setManualFramingHeaders(true)` the app's headers are used
//! when they are valid (one all-digit `Content-Length`, or one `Transfer-Encoding: chunked`),
//! else the host falls back to framing itself, with a warning.

/// The headers to send, framed as the mode says; `what` names the message for the warning.
pub fn apply(headers: &mut Vec<(String, String)>, manual: bool, what: &str) {
    if manual {
        match manual_framing_problem(headers) {
            None => return,
            Some(problem) => tracing::warn!(
                target: "edgeshim::framing",
                "{what} has {problem}, falling back to automatic framing"
            ),
        }
    }
    headers.retain(|(name, _)| !is_framing(name));
}

fn is_framing(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding")
}

/// Why the app's framing headers cannot be used as they are, if they cannot.
fn manual_framing_problem(headers: &[(String, String)]) -> Option<&'static str> {
    let values = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let (lengths, encodings) = (values("content-length"), values("transfer-encoding"));
    let valid_length = match lengths.as_slice() {
        [] => true,
        [one] => !one.is_empty() && one.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    };
    if !valid_length {
        return Some("a malformed Content-Length header");
    }
    let supported = match encodings.as_slice() {
        [] => true,
        [one] => one.eq_ignore_ascii_case("chunked"),
        _ => false,
    };
    if !supported {
        return Some("an unsupported Transfer-Encoding header");
    }
    if lengths.is_empty() && encodings.is_empty() {
        return Some("neither Content-Length nor Transfer-Encoding header");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(pairs: &[(&str, &str)], manual: bool) -> Vec<(String, String)> {
        let mut headers = pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        apply(&mut headers, manual, "the response");
        headers
    }

    #[test]
    fn automatic_drops_the_apps_framing_and_manual_keeps_valid_framing() {
        let app = [("Content-Length", "5"), ("x", "y")];
        assert_eq!(framed(&app, false), [("x".to_owned(), "y".to_owned())]);
        assert_eq!(framed(&app, true).len(), 2);
        let chunked = [("transfer-encoding", "Chunked")];
        assert_eq!(framed(&chunked, true).len(), 1);
        for invalid in [
            &[("content-length", "5x")][..],
            &[("content-length", "5"), ("content-length", "5")],
            &[("transfer-encoding", "gzip")],
            &[("x", "no framing at all")],
        ] {
            let kept = framed(invalid, true);
            assert!(kept.iter().all(|(n, _)| !is_framing(n)), "{invalid:?}");
        }
    }
}
