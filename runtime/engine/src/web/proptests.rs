//! Property tests of the web APIs that parse what a client or an app sends (issue 14), run
//! through JavaScript as an app calls them: `URL` either throws a `TypeError` or gives an href
//! that parses to itself; `URLSearchParams` serializes to what it parses back to; a header
//! `Headers` accepts reads back trimmed, and one it refuses is a `TypeError`. Nothing panics.
//! Bounded case counts keep them in CI's time; proptest keeps a failing case in
//! `proptest-regressions/` and replays it first from then on.
#![allow(clippy::unwrap_used)]

use boa_engine::{Context, JsString, JsValue, Source};
use proptest::prelude::*;

fn context() -> Context {
    let mut context = Context::default();
    super::headers::register(&mut context).unwrap();
    super::url::register(&mut context).unwrap();
    context
}

/// Runs `code` with the strings `args` as the globals `arg0`, `arg1`…; its string result.
/// (Passed as values, never spliced into the source: any text is safe.)
fn run(context: &mut Context, code: &str, args: &[&str]) -> String {
    let global = context.global_object();
    for (i, arg) in args.iter().enumerate() {
        global
            .set(
                JsString::from(format!("arg{i}").as_str()),
                JsValue::from(JsString::from(*arg)),
                false,
                context,
            )
            .unwrap();
    }
    let value = context.eval(Source::from_bytes(code)).unwrap();
    value.to_string(context).unwrap().to_std_string_escaped()
}

const URL_CHECK: &str = r#"(() => {
  let url;
  try { url = arg1 === "" ? new URL(arg0) : new URL(arg0, arg1); }
  catch (e) { return e instanceof TypeError ? "refused" : "other: " + e; }
  const again = new URL(url.href).href;
  return again === url.href ? "ok" : "unstable: " + url.href + " -> " + again;
})()"#;

const PARAMS_CHECK: &str = r#"(() => {
  const once = new URLSearchParams(arg0).toString();
  const twice = new URLSearchParams(once).toString();
  return once === twice ? "ok" : "unstable: " + once + " -> " + twice;
})()"#;

const HEADER_CHECK: &str = r#"(() => {
  const headers = new Headers();
  try { headers.append(arg0, arg1); }
  catch (e) { return e instanceof TypeError ? "refused" : "other: " + e; }
  const want = arg1.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  const got = headers.get(arg0);
  return got === want ? "ok" : "different: " + JSON.stringify([got, want]);
})()"#;

/// URL-ish text: schemes, separators, escapes, hosts, IPv6 brackets, ports, and anything.
fn url_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,24}",
        "(https?|file|data|mailto|ws|web\\+x|a)?:?(//)?[a-z0-9.%@:\\[\\]/?#\\\\ -]{0,24}",
        "(https?://)?(\\[[0-9a-f:.]{0,12}\\]|[0-9.]{0,15}|xn--[a-z0-9-]{0,8}|[a-zé.]{0,8})(:[0-9]{0,6})?(/[./a-z%0-9]{0,10})?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn a_url_is_refused_or_parses_back_to_itself(
        input in url_text(),
        base in prop_oneof![Just(String::new()), Just("http://a/b/c?d#e".to_owned()), url_text()],
    ) {
        let mut context = context();
        let result = run(&mut context, URL_CHECK, &[&input, &base]);
        prop_assert!(result == "ok" || result == "refused", "{result}");
    }

    #[test]
    fn search_params_serialize_to_what_they_parse_back_to(input in "[a-z=&+%0-9é ?#;]{0,24}|\\PC{0,16}") {
        let mut context = context();
        let result = run(&mut context, PARAMS_CHECK, &[&input]);
        prop_assert_eq!(result, "ok");
    }

    #[test]
    fn a_header_is_refused_or_reads_back_trimmed(
        name in "[!-~]{0,8}|\\PC{0,4}|[a-z]{1,4}[\\x00-\\x20()<>@,;:\"/\\[\\]?={}]",
        value in "[\\t -~]{0,12}|\\PC{0,6}|[ \\t]*[a-z]{0,3}[\\x00\\r\\n]?[a-z]{0,3}[ \\t\\r\\n]*",
    ) {
        let mut context = context();
        let result = run(&mut context, HEADER_CHECK, &[&name, &value]);
        prop_assert!(result == "ok" || result == "refused", "{result}");
    }
}
