//! `fastly:html-rewriter` over HTTP (`fixtures/html-rewriter`): js-compute-runtime's own
//! integration cases with their exact expected bytes, the platform's error texts and classes,
//! and a 10 MiB page rewritten as it streams, within bounded memory.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::process::ServerProcess;
use support::{request, serve};

const HEAD: &str = "<!DOCTYPE html><html><head><title>Test</title></head><body>";
const TAIL: &str = "</body></html>";

/// `(route, exact response body)`: the expectations of js-compute-runtime's
/// `integration-tests/js-compute/fixtures/app/src/html-rewriter.js`, plus edgeshim's own.
fn cases() -> Vec<(&'static str, String)> {
    let page = |body: &str| format!("{HEAD}{body}{TAIL}");
    vec![
        ("set-attribute", page("<h1 class=\"a-rewritten-class\" id=\"a-rewritten-id\" custom-attr=\"custom-value\">Hello, World!</h1>")),
        ("get-attribute", "a-class,an-id,null".into()),
        ("remove-attribute", page("<h1>Hello, World!</h1>")),
        ("replace-with", page("<h2>Goodbye, World!</h2>")),
        ("replace-children", page("<h1>Goodbye, World!</h1>")),
        ("insert", page("Before - <h1>Prefix - Hello, World! - Suffix</h1> - After")),
        ("insertion-order", page("First - Before - <h1>Prefix - Other Prefix - Hello, World! - Suffix - Other Suffix</h1> - After - Last")),
        ("complex-selector", page("<div class='a-class'><h1 id='an-id' custom-attr=\"custom-value\">Hello, World!</h1></div><div class='a-class'><h1 id='another-id' custom-attr=\"custom-value\">Hello again, World!</h1></div>")),
        ("no-match-rewritten-content", page("<div class=\"a-class\"><h1>Hello, World!</h1></div>")),
        ("multiple-handlers", page("<div class='a-class' custom-attr=\"custom-value\"><h1 id='an-id' another-attr=\"another-value\">Hello, World!</h1></div><div class='a-class' custom-attr=\"custom-value\"><h1 id='another-id' another-attr=\"another-value\">Hello again, World!</h1></div>")),
        ("escape-html", format!(
            "{}\n{}",
            page("<h1>Hello, <strong>Beautiful</strong> <em>World!</em></h1>"),
            page("<h1>Hello, &lt;strong&gt;Beautiful&lt;/strong&gt; <em>World!</em></h1>"),
        )),
        ("element-fields", "h1 div > H1\nh1 div > H1".into()),
        // lol_html passes text that is not HTML through unchanged.
        ("invalid-html", "This is not HTML content".into()),
        // The handler's own error is replaced, as the platform's JS_ReportErrorASCII does.
        ("throw-in-handler", "Error: Error processing HTML: The rewriter has been stopped.".into()),
        ("access-freed-element", "Error: Element objects are only valid within onElement handlers\n\
            Error: Element objects are only valid within onElement handlers".into()),
        ("sync-errors", "Error: HTMLRewriter: invalid selector - Invalid or unescaped class name in selector.\n\
            Error: HTMLRewriter: element handler must be a function\n\
            TypeError: onElement: At least 2 arguments required, but only 1 passed\n\
            TypeError: Method 'onElement' called on receiver that's not an instance of HTMLRewritingStream\n\
            TypeError: Method 'get readable' called on receiver that's not an instance of HTMLRewritingStream\n\
            true".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_cases_give_the_platform_bytes() {
    let server = serve("html-rewriter", false, 2).await;
    for (route, expected) in cases() {
        let response = server.get(&format!("/{route}")).await;
        assert_eq!(response.status, 200, "{route}: {}", response.text());
        assert_eq!(response.text(), expected, "{route}");
    }
    server.stop().await;
}

/// A page of `blocks` paragraphs with an `<h1>` every 1000th; and what `/stream` makes of it.
fn big_page(bytes: usize) -> (Vec<u8>, Vec<u8>) {
    let (mut page, mut expected) = (
        Vec::with_capacity(bytes + 100),
        Vec::with_capacity(bytes + 100),
    );
    page.extend_from_slice(HEAD.as_bytes());
    expected.extend_from_slice(HEAD.as_bytes());
    let mut i = 0;
    while page.len() < bytes {
        if i % 1000 == 0 {
            page.extend_from_slice(format!("<h1>Title {i}</h1>\n").as_bytes());
            expected.extend_from_slice(format!("<h1 data-seen=\"1\">Title {i}</h1>\n").as_bytes());
        } else {
            let p = format!(
                "<p class=\"c{}\">Paragraph {i} of the page, <a href=\"/x/{i}\">a link</a>.</p>\n",
                i % 7
            );
            page.extend_from_slice(p.as_bytes());
            expected.extend_from_slice(p.as_bytes());
        }
        i += 1;
    }
    page.extend_from_slice(TAIL.as_bytes());
    expected.extend_from_slice(TAIL.as_bytes());
    (page, expected)
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Peak growth (KiB) of the processes that existed before `exchange` ran (the server, the
/// snapshot process and the copy that serves the request), each against its own idle RSS,
/// sampled every 10 ms. Copies forked meanwhile for later requests are not counted.
async fn growth_during<F: std::future::Future<Output = support::HttpResponse>>(
    pid: u32,
    exchange: F,
) -> (u64, support::HttpResponse) {
    fn tree(pid: u32, out: &mut Vec<(u32, u64)>) {
        out.push((pid, status_kb(pid, "VmRSS:")));
        for child in children(pid) {
            tree(child, out);
        }
    }
    let mut idle = Vec::new();
    tree(pid, &mut idle);
    let stop = Arc::new(AtomicBool::new(false));
    let sampling = stop.clone();
    let sampler = std::thread::spawn(move || {
        let mut peak: Vec<(u32, u64)> = idle.iter().map(|&(p, _)| (p, 0)).collect();
        while !sampling.load(Ordering::Relaxed) {
            for (p, kb) in &mut peak {
                *kb = (*kb).max(status_kb(*p, "VmRSS:"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        idle.iter()
            .zip(&peak)
            .map(|(&(_, before), &(_, top))| top.saturating_sub(before))
            .sum::<u64>()
    });
    let response = exchange.await;
    stop.store(true, Ordering::Relaxed);
    (sampler.join().unwrap(), response)
}

/// 10 MiB rewritten while it streams: exact output, and the memory it costs over a 64 KiB
/// page (each request runs in a fresh copy, whose first use of the heap and the streams
/// costs the same whatever the page) stays under 64 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mib_page_streams_through_in_bounded_memory() {
    let app = support::fixture("html-rewriter/index.js");
    // An unoptimized build rewrites 10 MiB in seconds of CPU: no CPU limit here.
    let server = ServerProcess::start(
        &app,
        None,
        &["--ephemeral", "--cpu-limit", "0", "--workers", "1"],
    );
    let pid = server.pid();
    let settle = || tokio::time::sleep(Duration::from_millis(300));
    settle().await;

    let (small, small_expected) = big_page(64 << 10);
    let (small_kb, response) =
        growth_during(pid, request(server.addr, "POST", "/stream", &[], &small)).await;
    assert!(response.body == small_expected, "the small page differs");
    settle().await;

    let (page, expected) = big_page(10 << 20);
    let started = std::time::Instant::now();
    let (big_kb, response) =
        growth_during(pid, request(server.addr, "POST", "/stream", &[], &page)).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.body.len(), expected.len());
    assert!(response.body == expected, "the rewritten page differs");

    let mib = |kb: u64| kb as f64 / 1024.0;
    let cost = mib(big_kb.saturating_sub(small_kb));
    eprintln!(
        "10 MiB rewritten in {:.2} s (debug build); growth of server + copy: 64 KiB page {:.1} MiB, \
         10 MiB page {:.1} MiB; the 10 MiB page costs {cost:.1} MiB more",
        elapsed.as_secs_f64(),
        mib(small_kb),
        mib(big_kb),
    );
    assert!(
        cost < 64.0,
        "the 10 MiB page cost {cost:.1} MiB more than a 64 KiB one"
    );
}

/// The rewriter threads of this process (named `html-rewriter`; the server runs in this
/// process with --reuse-instances, while the other tests' rewriters run in copies).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task lists threads (Linux)")
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim() == "html-rewriter")
        })
        .count()
}

/// With --reuse-instances an instance outlives its requests: a rewriter left half-way must
/// not leave its lol_html thread behind (it ends with the request, not with a collection
/// that may never come).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_rewriters_end_their_threads_with_the_request() {
    let server = serve("html-rewriter", true, 1).await;
    let first = server.get("/abandon").await;
    assert_eq!(first.text(), "<html><body><p x=\"1\">half");
    let before = 0;
    for _ in 0..20 {
        assert_eq!(server.get("/abandon").await.status, 200);
    }
    // The thread ends as its input closes; give the scheduler a bounded moment.
    let mut after = threads();
    for _ in 0..100 {
        if after <= before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        after = threads();
    }
    assert!(
        after <= before,
        "{before} threads before, {after} after 20 abandoned rewriters"
    );
    server.stop().await;
}
