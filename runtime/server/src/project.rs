//! `edgeshim serve` with no APP: the entry of the Compute project in the working directory,
//! found as the js-compute build finds it (`fastly compute serve` runs the package.json
//! `build` script, whose `js-compute-runtime INPUT OUTPUT` names the entry).

use std::path::{Path, PathBuf};

/// The entries tried when the build script names none that exists, in order.
/// A TypeScript project whose build script runs `tsc` first names its output, which a fresh
/// checkout lacks: its source runs directly.
const DEFAULT_ENTRIES: &[&str] = &["src/index.js", "src/index.mjs", "src/index.ts"];

/// The programs whose first positional argument is the app's entry.
const BUILD_TOOLS: &[&str] = &["js-compute-runtime", "js-compute"];

/// The input file the `build` script gives `js-compute-runtime`, if any.
fn build_script_input(package_json: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(package_json).ok()?;
    let script = json["scripts"]["build"].as_str()?;
    // `a && b`, `a; b`: each command on its own.
    script.split(['&', ';', '|']).find_map(|command| {
        let mut words = command.split_whitespace();
        words.find(|word| {
            let program = word.rsplit('/').next().unwrap_or(word);
            BUILD_TOOLS.contains(&program)
        })?;
        words
            .find(|word| !word.starts_with('-'))
            .map(|input| input.trim_matches(['"', '\'']).to_owned())
    })
}

/// Whether the `build` script passes `--enable-http-cache` to js-compute.
fn build_script_enables_http_cache(package_json: &str) -> bool {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(package_json) else {
        return false;
    };
    json["scripts"]["build"].as_str().is_some_and(|script| {
        script.split(['&', ';', '|']).any(|command| {
            let mut words = command.split_whitespace();
            words
                .find(|word| BUILD_TOOLS.contains(&word.rsplit('/').next().unwrap_or(word)))
                .is_some()
                && words.any(|word| word == "--enable-http-cache")
        })
    })
}

/// Whether the project of `app` (the nearest package.json above it, else the one in `cwd`)
/// builds with `--enable-http-cache`.
pub fn build_enables_http_cache(app: &Path, cwd: &Path) -> bool {
    let app = if app.is_absolute() {
        app.to_owned()
    } else {
        cwd.join(app)
    };
    let package = app
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("package.json"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| cwd.join("package.json"));
    std::fs::read_to_string(package).is_ok_and(|text| build_script_enables_http_cache(&text))
}

/// The entry of the project in `dir`.
///
/// # Errors
/// None found; the message says where it looked and what to do.
pub fn find_entry(dir: &Path) -> Result<PathBuf, String> {
    let package = dir.join("package.json");
    let from_script = std::fs::read_to_string(&package)
        .ok()
        .and_then(|text| build_script_input(&text));
    let mut looked = Vec::new();
    if let Some(input) = &from_script {
        let path = dir.join(input);
        if path.is_file() {
            return Ok(path);
        }
        looked.push(format!(
            "{} (the input of the build script in {}; is it made by an earlier build step?)",
            path.display(),
            package.display()
        ));
    }
    for entry in DEFAULT_ENTRIES {
        let path = dir.join(entry);
        if path.is_file() {
            return Ok(path);
        }
        looked.push(path.display().to_string());
    }
    Err(format!(
        "no APP given and no Compute app found in {}: looked for {}; give the app's entry \
         (edgeshim serve APP.js) or run from the project folder",
        dir.display(),
        looked.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_build_script_tells_whether_the_guest_http_cache_is_on() {
        let on = |build: &str| {
            build_script_enables_http_cache(&format!(r#"{{"scripts":{{"build":{build:?}}}}}"#))
        };
        assert!(on(
            "js-compute-runtime --enable-http-cache src/index.js bin/main.wasm"
        ));
        assert!(on(
            "tsc && node_modules/.bin/js-compute-runtime src/index.js bin/main.wasm --enable-http-cache"
        ));
        assert!(!on("js-compute-runtime src/index.js bin/main.wasm"));
        // The flag of another program does not count.
        assert!(!on(
            "other --enable-http-cache && js-compute-runtime a.js b.wasm"
        ));
        assert!(!build_script_enables_http_cache("not json"));
    }

    #[test]
    fn the_build_script_names_the_entry() {
        let script = |build: &str| {
            build_script_input(&serde_json::json!({ "scripts": { "build": build } }).to_string())
        };
        assert_eq!(
            script("js-compute-runtime ./src/index.js ./bin/main.wasm").as_deref(),
            Some("./src/index.js")
        );
        assert_eq!(
            script("npm run prebuild && js-compute-runtime --enable-experimental-high-resolution-time-methods build/app.js bin/main.wasm").as_deref(),
            Some("build/app.js")
        );
        assert_eq!(
            script("node_modules/.bin/js-compute-runtime \"src/main.js\" out.wasm").as_deref(),
            Some("src/main.js")
        );
        assert_eq!(script("webpack && echo done"), None);
    }
}
