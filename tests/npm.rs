//! npm packages load as the js-compute build's esbuild step resolves them:
//! `fixtures/npm-resolution` vendors one small package per rule (exports conditions with
//! `fastly` first and nested conditions, subpaths, `imports`, main fields, the browser field,
//! directory indexes, symlinked packages, CommonJS with cycles and JSON, `__esModule` interop in
//! and out of Node mode, `process.env.NODE_ENV`), and its answer must be byte for byte what
//! the same app bundled by esbuild answers (`expected-esbuild.json`, recorded as
//! `fixtures/npm-resolution/tools/README.md` says). Its `src/lib/*.ts{,x}` files are TypeScript
//! and JSX that need code, not only erasure (enum, namespace, parameter properties, type-only
//! imports, `React.createElement`).

#![allow(clippy::unwrap_used)]

mod support;

use support::process::{failing_start, ServerProcess, TempDir};
use support::{fixture, request};

#[test]
fn packages_resolve_and_interoperate_as_esbuild_bundles_them() {
    let server = ServerProcess::start(
        &fixture("npm-resolution/src/index.js"),
        None,
        &["--ephemeral"],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/", &[], b""));
    assert_eq!(response.status, 200, "{}", response.text());
    let expected =
        std::fs::read_to_string(fixture("npm-resolution/expected-esbuild.json")).unwrap();
    assert_eq!(response.text(), expected.trim_end());
}

/// `edgeshim serve` with no APP in `project`, which must say it serves `entry`.
fn serve_project(project: &std::path::Path, entry: &str) -> ServerProcess {
    let server = ServerProcess::start(std::path::Path::new(""), Some(project), &["--ephemeral"]);
    let entry = project.join(entry).canonicalize().unwrap();
    assert!(
        server
            .start_line
            .contains(&format!("serving {} on", entry.display())),
        "{}",
        server.start_line
    );
    server
}

#[test]
fn serve_without_app_runs_the_project_in_the_working_directory() {
    let project = fixture("npm-resolution");
    let server = serve_project(&project, "src/index.js");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/", &[], b""));
    let expected =
        std::fs::read_to_string(fixture("npm-resolution/expected-esbuild.json")).unwrap();
    assert_eq!(response.text(), expected.trim_end());
}

#[test]
fn serve_without_app_outside_a_project_says_what_it_looked_for() {
    let dir = TempDir::new("no-project");
    let stderr = failing_start(std::path::Path::new(""), Some(dir.path()), &["--ephemeral"]);
    assert!(
        stderr.contains(&format!(
            "no APP given and no Compute app found in {0}: looked for {0}/src/index.js, \
             {0}/src/index.mjs, {0}/src/index.ts; give the app's entry (edgeshim serve APP.js) or run from the \
             project folder",
            dir.path().display()
        )),
        "{stderr}"
    );
}

fn app_importing(dir: &TempDir, import: &str) -> std::path::PathBuf {
    let app = dir.path().join("index.js");
    std::fs::write(
        &app,
        format!("{import}\naddEventListener('fetch', (e) => e.respondWith(new Response('x')));\n"),
    )
    .unwrap();
    app
}

/// `require()` of an ES module whose graph awaits at its top level fails, naming both files,
/// as esbuild refuses to bundle it; one that does not await is required (`npm-resolution`).
#[test]
fn requiring_an_es_module_that_awaits_at_top_level_is_refused() {
    let dir = TempDir::new("require-tla");
    std::fs::write(
        dir.path().join("waits.mjs"),
        "export const x = await Promise.resolve(1);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("wrapper.cjs"),
        "module.exports = require('./waits.mjs');\n",
    )
    .unwrap();
    let app = app_importing(&dir, "import w from './wrapper.cjs';");
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    let root = dir.path().canonicalize().unwrap();
    assert!(
        stderr.contains(&format!(
            "require('./waits.mjs') in {0}/wrapper.cjs leads to an ES module that awaits at its \
             top level ({0}/waits.mjs); import it instead",
            root.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_missing_package_names_the_importer_where_it_looked_and_what_to_install() {
    let dir = TempDir::new("npm-missing");
    let app = app_importing(&dir, "import { Hono } from 'hono';");
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    let app = app.canonicalize().unwrap();
    let parent = app.parent().unwrap();
    let expected = format!(
        "Cannot resolve 'hono' imported from {}:1: no package 'hono' in {}/node_modules, ",
        app.display(),
        parent.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        stderr.contains("; install it (npm install hono)"),
        "{stderr}"
    );
}

#[test]
fn node_builtins_are_refused_as_on_compute() {
    let dir = TempDir::new("npm-builtin");
    let app = app_importing(&dir, "import fs from 'node:fs';");
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    assert!(
        stderr.contains("Cannot resolve 'node:fs' imported from ",)
            && stderr.contains(
                ": it is a Node.js built-in module, which Fastly Compute does not have (the \
             js-compute build fails on it too); use a package written for the browser or the \
             edge instead"
            ),
        "{stderr}"
    );
}

#[test]
fn an_export_the_conditions_do_not_reach_is_explained() {
    let dir = TempDir::new("npm-conditions");
    let package = dir.path().join("node_modules/only-node");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(
        package.join("package.json"),
        r#"{ "name": "only-node", "exports": { "node": "./node.js" } }"#,
    )
    .unwrap();
    std::fs::write(package.join("node.js"), "export default 1;").unwrap();
    let app = app_importing(&dir, "import x from 'only-node';");
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    assert!(
        stderr.contains("Cannot resolve 'only-node' imported from ")
            && stderr.contains("package 'only-node' is installed in ")
            && stderr.contains(
                "(with the conditions fastly, browser, import/require, default, as the \
                 js-compute build resolves it)"
            ),
        "{stderr}"
    );
}

/// A real app from npm (Hono, which documents Fastly Compute support), installed unbundled by
/// `npm ci` from its committed lockfile (`.ci/run` does it), answers as the official toolchain
/// does (`fixtures/app-hono/expected.json`: recorded from js-compute 3.46 on Viceroy 0.22, as
/// `record.mjs` says).
#[test]
fn a_hono_app_runs_from_node_modules_as_its_bundle_does() {
    let project = fixture("app-hono");
    assert!(
        project.join("node_modules/hono/package.json").is_file(),
        "run `npm ci --prefix fixtures/app-hono` first (.ci/run does)"
    );
    let server = ServerProcess::start(std::path::Path::new(""), Some(&project), &["--ephemeral"]);
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("expected.json")).unwrap())
            .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for exchange in expected.as_array().unwrap() {
        let method = exchange["method"].as_str().unwrap();
        let path = exchange["path"].as_str().unwrap();
        let body = exchange["body"].as_str().unwrap_or("");
        let headers: &[(&str, &str)] = if body.is_empty() {
            &[]
        } else {
            &[("content-type", "application/json")]
        };
        let response =
            runtime.block_on(request(server.addr, method, path, headers, body.as_bytes()));
        assert_eq!(
            (
                u64::from(response.status),
                response.header("content-type"),
                response.text().as_str()
            ),
            (
                exchange["status"].as_u64().unwrap(),
                exchange["contentType"].as_str(),
                exchange["text"].as_str().unwrap()
            ),
            "{method} {path}"
        );
    }
}

/// Hono's documented service-worker entry binds `globalThis.fetch` at load: it starts and
/// serves, and its fallthrough fetch of a 404 (to this very server) stops after 3 hops with
/// the loop error instead of multiplying requests.
#[test]
fn hono_s_service_worker_entry_runs_and_its_self_fetch_stops() {
    let project = fixture("app-hono");
    let server = ServerProcess::start(
        &project.join("src/service-worker.js"),
        Some(&project),
        &["--ephemeral"],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/", &[], b""));
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "Hello from the service-worker entry")
    );
    let response = runtime.block_on(request(server.addr, "GET", "/missing", &[], b""));
    assert_eq!(response.status, 500);
    let port = server.addr.port();
    assert_eq!(
        response.text(),
        format!("edgeshim: the promise given to respondWith() was rejected: Error: Loop detected: the request to backend '127.0.0.1:{port}' has already passed through edgeshim 3 times (CDN-Loop); a backend pointing at this server makes every request fetch itself again\n")
    );
}

/// `includeBytes()` reads project files while the top level runs, confined to the project
/// folder, with js-compute's errors (`Fastly::includeBytes` in its `fastly.cpp`; the request-time
/// text is StarlingMonkey's `InitializationOnly`, verbatim).
#[test]
fn include_bytes_reads_project_files_during_initialization_only() {
    let server = ServerProcess::start(
        &fixture("include-bytes/src/index.js"),
        None,
        &["--ephemeral"],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/", &[], b""));
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "message": { "bytes": "hello includeBytes\n", "type": "[object Uint8Array]" },
            "escape": { "error": "Error: Error opening file ../../README.md" },
            "missing": { "error": "Error: Error opening file missing.txt" },
            "inRequest": { "error": "TypeError: fastly.includeBytes can only be used during \
                request handling, not during initialization" },
        })
    );
}

/// A site made by Fastly's `@fastly/compute-js-static-publish` 6.3.0 (generated files
/// committed, its runtime package installed by `npm ci`): each file is served with its
/// content type, and anything else falls through to the app's 404. The expected answers are
/// the official toolchain's (the project compiled by js-compute 3.46 and served by Viceroy
/// 0.22, each path fetched with curl).
#[test]
fn a_compute_js_static_publish_site_serves_its_files() {
    let project = fixture("app-static-publish");
    assert!(
        project
            .join("node_modules/@fastly/compute-js-static-publish/package.json")
            .is_file(),
        "run `npm ci --prefix fixtures/app-static-publish` first (.ci/run does)"
    );
    let server = ServerProcess::start(std::path::Path::new(""), Some(&project), &["--ephemeral"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (path, status, content_type, body) in [
        ("/", 200, "text/html", "<h1>Hello static</h1>\n"),
        ("/index.html", 200, "text/html", "<h1>Hello static</h1>\n"),
        ("/style.css", 200, "text/css", "body{color:red}\n"),
        ("/nope", 404, "text/plain;charset=UTF-8", "Not found"),
    ] {
        let response = runtime.block_on(request(server.addr, "GET", path, &[], b""));
        assert_eq!(
            (
                response.status,
                response.header("content-type"),
                response.text().as_str()
            ),
            (status, Some(content_type), body),
            "GET {path}"
        );
    }
}

/// A syntax error inside node_modules names that file, line and column, for an ES module and
/// for a CommonJS one (whose wrapper keeps the file's lines).
#[test]
fn a_syntax_error_in_a_package_names_its_file_and_line() {
    let dir = TempDir::new("npm-syntax");
    for (name, main, code) in [
        (
            "bad-esm",
            "index.js",
            "export const a = 1;\nexport const b = (;\n",
        ),
        (
            "bad-cjs",
            "index.js",
            "var x = 1;\nmodule.exports = { a: ( };\n",
        ),
    ] {
        let package = dir.path().join("node_modules").join(name);
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(
            package.join("package.json"),
            format!(r#"{{ "name": "{name}", "main": "{main}" }}"#),
        )
        .unwrap();
        std::fs::write(package.join(main), code).unwrap();
    }
    let app = app_importing(&dir, "import { a } from 'bad-esm';");
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    let root = dir.path().canonicalize().unwrap();
    assert!(
        stderr.contains(&format!(
            "{}/node_modules/bad-esm/index.js:2:19: SyntaxError: unexpected token ';'",
            root.display()
        )),
        "{stderr}"
    );
    let app = app_importing(&dir, "import a from 'bad-cjs';");
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    assert!(
        stderr.contains(&format!(
            "{}/node_modules/bad-cjs/index.js:2:25: SyntaxError: unexpected token '}}'",
            root.display()
        )),
        "{stderr}"
    );
}

/// A TypeScript project as Fastly's TypeScript starter kit lays it out: the build script
/// compiles with `tsc` first, so its input does not exist in a fresh checkout; `edgeshim
/// serve` runs `src/index.ts` directly.
#[test]
fn a_typescript_project_runs_from_source_without_a_build() {
    let dir = TempDir::new("ts-project");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        r#"{ "scripts": { "prebuild": "tsc", "build": "js-compute-runtime build/index.js bin/main.wasm" } }"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/greet.ts"),
        "export enum Tone { Plain, Loud }\n\
         export interface Greeting { name: string; tone: Tone }\n\
         export const greet = ({ name, tone }: Greeting): string =>\n  \
           tone === Tone.Loud ? `HELLO ${name.toUpperCase()}!` : `hello ${name}`;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/index.ts"),
        "import { greet, Tone, type Greeting } from './greet';\n\
         addEventListener('fetch', (event: FetchEvent) => {\n  \
           const who: Greeting = { name: new URL(event.request.url).pathname.slice(1), tone: Tone.Loud };\n  \
           event.respondWith(new Response(greet(who)));\n});\n",
    )
    .unwrap();
    let server = serve_project(dir.path(), "src/index.ts");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/edge", &[], b""));
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.text(), "HELLO EDGE!");
}

/// `fixtures/ts-tsconfig`: its tsconfig.json (with comments and trailing commas, as tsc and
/// esbuild accept it) asks for legacy decorators, a JSX factory and a `paths` alias; the
/// answer is byte for byte what js-compute 3.46 (whose esbuild step reads the same file)
/// gave on Viceroy 0.22.
#[test]
fn tsconfig_decorators_jsx_factory_and_paths_apply_as_in_the_official_build() {
    let server = serve_project(&fixture("ts-tsconfig"), "src/index.tsx");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/edge", &[], b""));
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.text(),
        "<h1 class=\"greeting\">hello edge</h1><p>greet(edge)</p>"
    );
}

/// A tsconfig.json that does not parse stops the start naming its file, line and column.
#[test]
fn a_broken_tsconfig_names_its_file_line_and_column() {
    let dir = TempDir::new("ts-bad-config");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("tsconfig.json"),
        "{ \"compilerOptions\": { \"jsx\": 5 } }\n",
    )
    .unwrap();
    let app = dir.path().join("src/index.ts");
    std::fs::write(&app, "export const x: number = 1;\n").unwrap();
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    let config = dir.path().join("tsconfig.json").canonicalize().unwrap();
    assert!(
        stderr.contains(&format!(
            "{}:1:31: invalid type: integer `5`, expected a string",
            config.display()
        )),
        "{stderr}"
    );
}

/// A TypeScript syntax error names the file, line and column of the TypeScript source.
#[test]
fn a_typescript_syntax_error_names_its_file_and_line() {
    let dir = TempDir::new("ts-syntax");
    std::fs::write(
        dir.path().join("util.ts"),
        "export const a: number = 1;\nexport const b: = 2;\n",
    )
    .unwrap();
    let app = app_importing(&dir, "import { a } from './util.ts';");
    let stderr = failing_start(&app, None, &["--ephemeral"]);
    let root = dir.path().canonicalize().unwrap();
    assert!(
        stderr.contains(&format!(
            "{}/util.ts:2:17: SyntaxError: Unexpected token\n 2 | export const b: = 2;\n   |                 ^",
            root.display()
        )),
        "{stderr}"
    );
}

/// Positions in what the app logs point at the TypeScript file's own lines, as in error
/// reports (the JavaScript it runs has other lines: the interface is gone).
#[test]
fn console_positions_in_a_typescript_app_are_its_own() {
    let dir = TempDir::new("ts-console");
    let app = dir.path().join("app.ts");
    std::fs::write(
        &app,
        "interface Shown {\n  what: string;\n}\n\n\
         addEventListener('fetch', (event: FetchEvent) => {\n  \
           const shown: Shown = { what: 'x' };\n  \
           console.error(new Error(shown.what));\n  \
           event.respondWith(new Response('ok'));\n});\n",
    )
    .unwrap();
    let server = ServerProcess::start(&app, None, &["--ephemeral"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(request(server.addr, "GET", "/", &[], b""));
    assert_eq!(response.text(), "ok");
    // The log is read by another thread: wait for the line, up to 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let line = loop {
        let log = server.log();
        if let Some(line) = log.lines().find(|l| l.contains("Error: x")) {
            break line.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "{log}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let file = app.canonicalize().unwrap();
    assert!(line.contains(&format!("({}:7:", file.display())), "{line}");
}
