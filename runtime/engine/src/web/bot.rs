//! Bot detection of the client request (`Request` `botAnalyzed`, `botDetected`, `botName`,
//! `botCategory`, `botVerified`), as Viceroy emulates it: from the `x-fastly-bot-*` headers
//! of the request as it arrived (`src/component/compute/http_downstream.rs`), so a test can
//! play a bot by sending them. Requests the app makes answer `false`/`null`, as js-compute's
//! `is_downstream` checks make them (`request-response.cpp`).

use boa_engine::{JsString, JsValue};

use super::headers::first_value as header;

/// What the platform says of the client request, read once from its original headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bot {
    analyzed: bool,
    detected: bool,
    name: Option<String>,
    category: Option<String>,
    /// Viceroy reads this from `x-fastly-bot-analyzed` (not a `-verified` header).
    verified: Option<bool>,
}

/// Viceroy's category names and numbers, as js-compute names the kinds.
fn category_kind(value: &str) -> &'static str {
    const KINDS: [(&str, &str, &str); 15] = [
        ("none", "0", "none"),
        ("suspected", "1", "suspected"),
        ("accessibility", "2", "accessibility"),
        ("ai-crawler", "3", "ai-crawler"),
        ("ai-fetcher", "4", "ai-fetcher"),
        ("content-fetcher", "5", "content-fetcher"),
        ("monitoring-site-tools", "6", "monitoring-site-tools"),
        ("online-marketing", "7", "online-marketing"),
        ("page-preview", "8", "page-preview"),
        ("platform-integration", "9", "platform-integrations"),
        ("research", "10", "research"),
        ("search-engine-crawler", "11", "search-engine-crawler"),
        (
            "search-engine-optimization",
            "12",
            "search-engine-specialization",
        ),
        ("security-tools", "13", "security-tools"),
        ("headless", "14", "headless"),
    ];
    let value = value.to_ascii_lowercase();
    KINDS
        .iter()
        .find(|(name, number, _)| value == *name || value == *number)
        .map_or("unknown", |(_, _, kind)| kind)
}

impl Bot {
    /// From the client request's headers.
    pub fn of(headers: &[(String, String)]) -> Self {
        let analyzed = header(headers, "x-fastly-bot-analyzed");
        Self {
            analyzed: analyzed == Some("true"),
            detected: header(headers, "x-fastly-bot-detected") == Some("true"),
            name: header(headers, "x-fastly-bot-name").map(str::to_owned),
            category: header(headers, "x-fastly-bot-category").map(|c| category_kind(c).to_owned()),
            verified: analyzed.map(|a| a == "true"),
        }
    }

    /// The value of the getter `name` for a request with `bot` (`None`: not the client's).
    pub fn get(bot: Option<&Self>, name: &str) -> JsValue {
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map_or(JsValue::null(), |v| JsString::from(v).into())
        };
        match (bot, name) {
            (None, "botAnalyzed" | "botDetected") => false.into(),
            (None, _) => JsValue::null(),
            (Some(bot), "botAnalyzed") => bot.analyzed.into(),
            (Some(bot), "botDetected") => bot.detected.into(),
            (Some(bot), "botName") => text(&bot.name),
            (Some(bot), "botCategory") => text(&bot.category),
            (Some(bot), _) => bot.verified.map_or(JsValue::null(), JsValue::from),
        }
    }
}

/// The getters' names, in js-compute's order.
pub const GETTERS: [&str; 5] = [
    "botAnalyzed",
    "botDetected",
    "botName",
    "botCategory",
    "botVerified",
];

#[cfg(test)]
mod tests {
    use super::*;
    use boa_engine::js_string;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn viceroys_headers_and_js_computes_names() {
        let bot = Bot::of(&h(&[
            ("X-Fastly-Bot-Analyzed", "true"),
            ("x-fastly-bot-detected", "true"),
            ("x-fastly-bot-name", "GoogleBot"),
            ("x-fastly-bot-category", "Search-Engine-Optimization"),
        ]));
        let get = |name| Bot::get(Some(&bot), name);
        assert_eq!(get("botAnalyzed"), JsValue::from(true));
        assert_eq!(get("botDetected"), JsValue::from(true));
        assert_eq!(get("botName"), JsValue::from(js_string!("GoogleBot")));
        assert_eq!(
            get("botCategory"),
            JsValue::from(js_string!("search-engine-specialization"))
        );
        assert_eq!(get("botVerified"), JsValue::from(true));
        let plain = Bot::of(&[]);
        assert_eq!(Bot::get(Some(&plain), "botAnalyzed"), JsValue::from(false));
        assert!(Bot::get(Some(&plain), "botVerified").is_null());
        assert!(Bot::get(Some(&plain), "botCategory").is_null());
        assert_eq!(category_kind("9"), "platform-integrations");
        assert_eq!(category_kind("99"), "unknown");
        assert_eq!(Bot::get(None, "botDetected"), JsValue::from(false));
        assert!(Bot::get(None, "botName").is_null());
    }
}
