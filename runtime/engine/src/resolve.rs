//! Where an import leads: npm packages resolved as the js-compute build's esbuild step
//! resolves them (`src/compiler-steps/bundle.ts` in fastly/js-compute-runtime: `bundle: true`,
//! `conditions: ['fastly']`, esbuild's default `browser` platform).
//!
//! With that configuration esbuild matches `exports`/`imports` conditions `fastly`,
//! `browser`, `import` or `require` (by how the module is imported) and `default` — not
//! `module`, which esbuild only adds when no custom condition is set — reads the main fields
//! `browser`, `module`, `main` in that order, honours the `browser` field's remappings (a
//! module mapped to `false` is empty), tries the extensions `.tsx .ts .jsx .js .css .json` and
//! `index` files, and follows symlinks. See <https://esbuild.github.io/api/#conditions> and
//! <https://esbuild.github.io/api/#main-fields>. The resolving is `oxc_resolver`'s.

use std::path::{Path, PathBuf};

use oxc_resolver::{ResolveError, ResolveOptions, Resolver, TsconfigDiscovery};

use crate::typescript::TsSettings;

/// How a module is asked for, which picks the `import` or `require` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Import,
    Require,
}

/// What an import resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    File(PathBuf),
    /// Mapped to `false` by a `browser` field: an empty module.
    Empty(PathBuf),
}

/// The resolvers of one process, shared by every instance (they cache package.json files).
pub(crate) struct NpmResolver {
    import: Resolver,
    require: Resolver,
}

impl std::fmt::Debug for NpmResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpmResolver").finish_non_exhaustive()
    }
}

/// Node's built-in modules: esbuild's browser platform refuses them, with this hint.
const NODE_BUILTINS: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "crypto",
    "dgram",
    "dns",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "querystring",
    "readline",
    "stream",
    "string_decoder",
    "timers",
    "tls",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "worker_threads",
    "zlib",
];

fn options(kind: Kind) -> ResolveOptions {
    let kind = match kind {
        Kind::Import => "import",
        Kind::Require => "require",
    };
    ResolveOptions {
        condition_names: ["fastly", "browser", kind, "default"]
            .map(String::from)
            .to_vec(),
        main_fields: ["browser", "module", "main"].map(String::from).to_vec(),
        alias_fields: vec![vec!["browser".into()]],
        extensions: [".tsx", ".ts", ".jsx", ".js", ".css", ".json"]
            .map(String::from)
            .to_vec(),
        main_files: vec!["index".into()],
        symlinks: true,
        // The nearest tsconfig.json's `paths` and `baseUrl`, as esbuild applies them.
        tsconfig: Some(TsconfigDiscovery::Auto),
        ..ResolveOptions::default()
    }
}

impl NpmResolver {
    pub(crate) fn new() -> Self {
        Self {
            import: Resolver::new(options(Kind::Import)),
            require: Resolver::new(options(Kind::Require)),
        }
    }

    /// What the `tsconfig.json` nearest `file` (outside `node_modules`) says of its output.
    ///
    /// # Errors
    /// The tsconfig.json (or one it extends) cannot be read or parsed.
    pub(crate) fn ts_settings(&self, file: &Path) -> Result<TsSettings, String> {
        let found = self.import.find_tsconfig(file).map_err(|error| {
            let json = match &error {
                ResolveError::TsconfigLoadFailed { source, .. } => match source.as_ref() {
                    ResolveError::Json(json) => Some(json),
                    _ => None,
                },
                ResolveError::Json(json) => Some(json),
                _ => None,
            };
            match json {
                Some(json) => format!(
                    "{}:{}:{}: {} (the tsconfig.json that applies to {})",
                    json.path.display(),
                    json.line,
                    json.column,
                    json.message,
                    file.display()
                ),
                None => format!("{}: its tsconfig.json: {error}", file.display()),
            }
        })?;
        let Some(config) = found else {
            return Ok(TsSettings::default());
        };
        let options = &config.compiler_options;
        Ok(TsSettings {
            experimental_decorators: options.experimental_decorators == Some(true),
            emit_decorator_metadata: options.emit_decorator_metadata == Some(true),
            jsx: options.jsx.clone(),
            jsx_factory: options.jsx_factory.clone(),
            jsx_fragment_factory: options.jsx_fragment_factory.clone(),
            jsx_import_source: options.jsx_import_source.clone(),
        })
    }

    /// Resolves `specifier` imported by the file `from`.
    ///
    /// # Errors
    /// A message that names the importer and the specifier, and says what to do.
    pub(crate) fn resolve(
        &self,
        from: &Path,
        specifier: &str,
        kind: Kind,
    ) -> Result<Resolved, String> {
        let resolver = match kind {
            Kind::Import => &self.import,
            Kind::Require => &self.require,
        };
        // From the importing file (not its folder), so its tsconfig.json's `paths` apply.
        let resolved = match from.parent() {
            Some(_) => resolver.resolve_file(from, specifier),
            None => resolver.resolve(Path::new("/"), specifier),
        };
        match resolved {
            Ok(resolution) => Ok(Resolved::File(resolution.full_path())),
            Err(ResolveError::Ignored(path)) => Ok(Resolved::Empty(path)),
            Err(error) => Err(explain(from, specifier, &error)),
        }
    }
}

/// The name of the package a bare specifier asks for (`@scope/name` or `name`).
fn package_name(specifier: &str) -> &str {
    let mut parts = specifier.splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(scope), Some(name)) if scope.starts_with('@') => {
            &specifier[..scope.len() + 1 + name.len()]
        }
        (Some(name), _) => name,
        _ => specifier,
    }
}

fn is_bare(specifier: &str) -> bool {
    !(specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier.starts_with('/')
        || specifier.starts_with('#')
        || specifier == "."
        || specifier == "..")
}

/// The node_modules folders a bare specifier is looked for in, nearest first.
fn node_modules_folders(from: &Path) -> Vec<PathBuf> {
    from.ancestors()
        .skip(1)
        .filter(|dir| dir.file_name().is_none_or(|name| name != "node_modules"))
        .map(|dir| dir.join("node_modules"))
        .collect()
}

fn explain(from: &Path, specifier: &str, error: &ResolveError) -> String {
    let importer = from.display();
    let name = package_name(specifier.strip_prefix("node:").unwrap_or(specifier));
    if specifier.starts_with("node:") || NODE_BUILTINS.contains(&name) {
        return format!(
            "Cannot resolve '{specifier}' imported from {importer}: it is a Node.js built-in \
             module, which Fastly Compute does not have (the js-compute build fails on it too); \
             use a package written for the browser or the edge instead"
        );
    }
    if !is_bare(specifier) {
        return format!("Cannot find module '{specifier}' imported from {importer} ({error})");
    }
    let folders = node_modules_folders(from);
    let installed = folders.iter().find(|dir| dir.join(name).exists());
    match installed {
        None => format!(
            "Cannot resolve '{specifier}' imported from {importer}: no package '{name}' in {}; \
             install it (npm install {name})",
            folders
                .iter()
                .take(4)
                .map(|dir| dir.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
                + if folders.len() > 4 { ", …" } else { "" }
        ),
        Some(dir) => format!(
            "Cannot resolve '{specifier}' imported from {importer}: package '{name}' is \
             installed in {} but {error} (with the conditions fastly, browser, import/require, \
             default, as the js-compute build resolves it)",
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_read_from_specifiers() {
        assert_eq!(package_name("hono"), "hono");
        assert_eq!(package_name("hono/tiny"), "hono");
        assert_eq!(
            package_name("@fastly/compute-js-static-publish/x"),
            "@fastly/compute-js-static-publish"
        );
        assert!(is_bare("hono") && !is_bare("./a") && !is_bare("#internal"));
    }

    #[test]
    fn node_modules_folders_are_listed_nearest_first() {
        assert_eq!(
            node_modules_folders(Path::new("/app/src/index.js")),
            [
                PathBuf::from("/app/src/node_modules"),
                PathBuf::from("/app/node_modules"),
                PathBuf::from("/node_modules"),
            ]
        );
    }
}
