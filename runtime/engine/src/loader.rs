//! Module loading: `fastly:*` built-ins, the app's own files, and npm packages resolved as
//! the js-compute build resolves them ([`crate::resolve`]).
//!
//! As esbuild does, a file is CommonJS when it uses `module.exports`, `exports` or `require`
//! and has no `import`/`export` statement (or is a `.cjs` file): it runs in a function with
//! `exports`, `require` and `module` (no `__dirname`/`__filename`, which a browser-platform
//! bundle does not have). Importing one gives `module.exports` as the default export (its
//! `default` when it sets `__esModule`) and its properties as named exports; `require` of a
//! CommonJS file or a JSON file works, cycles included, and `require` of an ES module loads
//! and evaluates it on the spot (esbuild's `__toCommonJS`). JSON files import as their value.
//!
//! Source text is read from disk once per process and shared by every instance (each fresh
//! instance still parses it, as Boa has no code cache); parsed modules are cached per context.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use boa_engine::module::{Module, ModuleLoader, Referrer, SyntheticModuleInitializer};
use boa_engine::object::JsObject;
use boa_engine::property::PropertyKey;
use boa_engine::{
    js_string, Context, JsError, JsNativeError, JsResult, JsString, JsValue, NativeFunction, Source,
};
use parking_lot::Mutex;

use crate::fastly;
use crate::resolve::{Kind, NpmResolver, Resolved};
use crate::typescript;

/// What esbuild's default `define` replaces when bundling for its default platform without
/// minifying, as the js-compute build does: the only Node-ism the bundle keeps. Anything else
/// of `process` is undefined, on Compute too.
const NODE_ENV: &str = "process.env.NODE_ENV";
const NODE_ENV_VALUE: &str = "\"development\"";

/// Why a module's text could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Read(#[from] std::io::Error),
    /// A TypeScript or JSX file does not parse: `FILE:LINE:COLUMN: SyntaxError: …` with the
    /// source line.
    #[error("{0}")]
    Syntax(String),
}

/// Source texts by canonical path, and the npm resolver, shared by all instances of the
/// process.
#[derive(Debug)]
pub struct SourceCache {
    texts: Mutex<HashMap<PathBuf, Arc<str>>>,
    /// For TypeScript and JSX files: positions in their JavaScript back to their own.
    positions: Mutex<HashMap<PathBuf, Arc<typescript::PositionMap>>>,
    resolver: NpmResolver,
    /// Whether the nearest package.json of a folder says `"type": "module"`.
    node_mode: Mutex<HashMap<PathBuf, bool>>,
}

impl Default for SourceCache {
    fn default() -> Self {
        Self {
            texts: Mutex::default(),
            positions: Mutex::default(),
            resolver: NpmResolver::new(),
            node_mode: Mutex::default(),
        }
    }
}

impl SourceCache {
    /// Whether `file` is an ES module in Node mode for esbuild's CommonJS interop.
    fn node_mode(&self, file: &Path) -> bool {
        match file.extension().and_then(|e| e.to_str()) {
            Some("mjs" | "mts") => return true,
            Some("cjs" | "cts") => return false,
            _ => {}
        }
        let Some(dir) = file.parent() else {
            return false;
        };
        if let Some(&known) = self.node_mode.lock().get(dir) {
            return known;
        }
        let typed = dir
            .ancestors()
            .find_map(|d| std::fs::read_to_string(d.join("package.json")).ok())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .is_some_and(|json| json["type"] == "module");
        self.node_mode.lock().insert(dir.to_owned(), typed);
        typed
    }

    /// The JavaScript text of `path`, read (and turned from TypeScript or JSX) on first use.
    ///
    /// # Errors
    /// The I/O error of the first read, or the syntax error of a TypeScript or JSX file (not
    /// cached, so a file created or fixed later is found).
    pub fn get(&self, path: &Path) -> Result<Arc<str>, SourceError> {
        if let Some(text) = self.texts.lock().get(path) {
            return Ok(text.clone());
        }
        let mut text = std::fs::read_to_string(path)?;
        if path.extension().is_none_or(|e| e != "json") && text.contains(NODE_ENV) {
            text = text.replace(NODE_ENV, NODE_ENV_VALUE);
        }
        if typescript::needs_transpile(path) {
            let settings = self
                .resolver
                .ts_settings(path)
                .map_err(SourceError::Syntax)?;
            let transpiled = typescript::transpile(path, &text, &settings).map_err(|e| {
                let (line, column) = line_column(&text, e.offset);
                SourceError::Syntax(located_message(
                    path,
                    &text,
                    (line, column),
                    &format!("SyntaxError: {}", e.message),
                ))
            })?;
            text = transpiled.code;
            self.positions
                .lock()
                .insert(path.to_owned(), Arc::new(transpiled.positions));
        }
        let text: Arc<str> = text.into();
        self.texts.lock().insert(path.to_owned(), text.clone());
        Ok(text)
    }

    /// `stack` (Boa's `at NAME (FILE:LINE:COLUMN)` lines) with the positions in TypeScript
    /// and JSX files turned back into the file's own.
    pub fn original_positions(&self, stack: &str) -> String {
        let positions = self.positions.lock();
        if positions.is_empty() {
            return stack.to_owned();
        }
        let remap = |line: &str| -> Option<String> {
            let open = line.rfind('(')?;
            let close = open + line[open..].find(')')?;
            let location = &line[open + 1..close];
            let (rest, column) = location.rsplit_once(':')?;
            let (file, row) = rest.rsplit_once(':')?;
            let map = positions.get(Path::new(file))?;
            let (row, column) = map.original(row.parse().ok()?, column.parse().ok()?)?;
            Some(format!(
                "{}({file}:{row}:{column}){}",
                &line[..open],
                &line[close + 1..]
            ))
        };
        stack
            .lines()
            .map(|line| remap(line).unwrap_or_else(|| line.to_owned()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The per-context loader.
#[derive(Debug)]
pub struct AppLoader {
    sources: Arc<SourceCache>,
    modules: RefCell<HashMap<PathBuf, Module>>,
    builtins: RefCell<HashMap<String, Module>>,
    /// CommonJS `module` objects by path: one evaluation each, and cycles see the partial one.
    commonjs: RefCell<HashMap<PathBuf, JsObject>>,
    /// The formatted message of the last file that failed to parse, with its path: Boa's own
    /// error for an imported file does not name the file.
    syntax_error: RefCell<Option<String>>,
}

fn load_error(message: String) -> JsError {
    JsNativeError::typ().with_message(message).into()
}

impl AppLoader {
    pub fn new(sources: Arc<SourceCache>) -> Self {
        Self {
            sources,
            modules: RefCell::default(),
            builtins: RefCell::default(),
            commonjs: RefCell::default(),
            syntax_error: RefCell::default(),
        }
    }

    /// `FILE:LINE:COLUMN: SyntaxError: …` with the source line, for the last parse failure.
    pub fn take_syntax_error(&self) -> Option<String> {
        self.syntax_error.borrow_mut().take()
    }

    /// Parses the module at `path` (canonical) in the current realm, or returns the cached one.
    pub fn load_file(&self, path: &Path, context: &mut Context) -> JsResult<Module> {
        self.load_imported(path, path, context)
    }

    /// The module at `path` as `importer` sees it: a CommonJS module's default export depends
    /// on whether the importer is in Node mode (see [`Interop`]).
    fn load_imported(
        &self,
        path: &Path,
        importer: &Path,
        context: &mut Context,
    ) -> JsResult<Module> {
        let text = self.text(path)?;
        let commonjs = is_commonjs(path, &text);
        let key = match commonjs {
            true if self.sources.node_mode(importer) => path.join("#node-mode"),
            _ => path.to_owned(),
        };
        if let Some(module) = self.modules.borrow().get(&key) {
            return Ok(module.clone());
        }
        let module = if path.extension().is_some_and(|e| e == "json") {
            let value = self.json(path, &text, context)?;
            value_module(value, Interop::Node, path, context)?
        } else if commonjs {
            let exports = self
                .commonjs(path, context)?
                .get(js_string!("exports"), context)?;
            let interop = match self.sources.node_mode(importer) {
                true => Interop::Node,
                false => Interop::EsModuleFlag,
            };
            value_module(exports, interop, path, context)?
        } else {
            let source = Source::from_bytes(text.as_bytes()).with_path(path);
            Module::parse(source, None, context).inspect_err(|e| {
                *self.syntax_error.borrow_mut() = Some(syntax_message(path, &text, e));
            })?
        };
        self.modules.borrow_mut().insert(key, module.clone());
        Ok(module)
    }

    fn text(&self, path: &Path) -> JsResult<Arc<str>> {
        self.sources.get(path).map_err(|e| match e {
            SourceError::Read(e) => {
                load_error(format!("cannot read module {}: {e}", path.display()))
            }
            SourceError::Syntax(message) => {
                *self.syntax_error.borrow_mut() = Some(message.clone());
                JsNativeError::syntax().with_message(message).into()
            }
        })
    }

    fn json(&self, path: &Path, text: &str, context: &mut Context) -> JsResult<JsValue> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            JsError::from(JsNativeError::syntax().with_message(format!(
                "{}:{}:{}: invalid JSON: {e}",
                path.display(),
                e.line(),
                e.column()
            )))
        })?;
        JsValue::from_json(&json, context)
    }

    /// The `module` object of the CommonJS file at `path`, evaluated on first use.
    fn commonjs(&self, path: &Path, context: &mut Context) -> JsResult<JsObject> {
        if let Some(module) = self.commonjs.borrow().get(path) {
            return Ok(module.clone());
        }
        let exports = JsObject::with_object_proto(context.intrinsics());
        let module = JsObject::with_object_proto(context.intrinsics());
        module.set(js_string!("exports"), exports.clone(), true, context)?;
        self.commonjs
            .borrow_mut()
            .insert(path.to_owned(), module.clone());
        let text = self.text(path)?;
        // On the first line, so that line numbers stay the file's; a `#!` line is a comment.
        let body = text.strip_prefix("#!").map_or(&*text, |rest| {
            rest.find('\n').map_or("", |end| &rest[end..])
        });
        let wrapped = format!("(function (exports, require, module) {{{body}\n}})");
        let source = Source::from_bytes(wrapped.as_bytes()).with_path(path);
        let function = context.eval(source).inspect_err(|e| {
            *self.syntax_error.borrow_mut() = Some(syntax_message(path, &text, e));
        })?;
        let function = function
            .as_callable()
            .ok_or_else(|| load_error(format!("{}: not a CommonJS module", path.display())))?;
        let require = require_function(path, context);
        function.call(
            &JsValue::undefined(),
            &[exports.into(), require, module.clone().into()],
            context,
        )?;
        Ok(module)
    }

    /// `require(specifier)` from the file `from`.
    fn require(&self, from: &Path, specifier: &str, context: &mut Context) -> JsResult<JsValue> {
        let path = match self
            .sources
            .resolver
            .resolve(from, specifier, Kind::Require)
        {
            Ok(Resolved::File(path)) => path,
            Ok(Resolved::Empty(_)) => {
                return Ok(JsObject::with_object_proto(context.intrinsics()).into())
            }
            Err(message) => return Err(load_error(self.with_line(message, from, specifier))),
        };
        if path.extension().is_some_and(|e| e == "json") {
            let text = self.text(&path)?;
            return self.json(&path, &text, context);
        }
        let text = self.text(&path)?;
        if !is_commonjs(&path, &text) {
            return self.require_es_module(from, &path, specifier, context);
        }
        self.commonjs(&path, context)?
            .get(js_string!("exports"), context)
    }

    /// `require()` of an ES module, as esbuild bundles it: the module (and what it imports)
    /// is loaded, linked and evaluated synchronously, and `require` returns its exports with
    /// `__esModule: true` (esbuild's `__toCommonJS`), so CommonJS interop helpers take its
    /// `default` as the default export. A module whose graph awaits at top level cannot be
    /// required (esbuild refuses it too).
    fn require_es_module(
        &self,
        from: &Path,
        path: &Path,
        specifier: &str,
        context: &mut Context,
    ) -> JsResult<JsValue> {
        use boa_engine::builtins::promise::PromiseState;
        let module = self.load_imported(path, from, context)?;
        let loaded = module.load(context);
        let event_loop = crate::web::body_stream::event_loop(context)?;
        if !event_loop.finish_async_jobs_now(context) {
            return Err(load_error(format!(
                "require('{specifier}') in {}: {} could not be loaded synchronously",
                from.display(),
                path.display()
            )));
        }
        match loaded.state() {
            PromiseState::Fulfilled(_) => {}
            PromiseState::Rejected(reason) => return Err(JsError::from_opaque(reason)),
            PromiseState::Pending => {
                return Err(load_error(format!(
                    "require('{specifier}') in {}: {} is still loading (an import cycle \
                     through require?)",
                    from.display(),
                    path.display()
                )))
            }
        }
        module.link(context)?;
        let evaluated = module.evaluate(context)?;
        match evaluated.state() {
            PromiseState::Fulfilled(_) => {}
            PromiseState::Rejected(reason) => return Err(JsError::from_opaque(reason)),
            PromiseState::Pending => {
                return Err(load_error(format!(
                    "require('{specifier}') in {} leads to an ES module that awaits at its \
                     top level ({}); import it instead",
                    from.display(),
                    path.display()
                )))
            }
        }
        let namespace = module.namespace(context);
        let exports = JsObject::with_object_proto(context.intrinsics());
        exports.define_property_or_throw(
            js_string!("__esModule"),
            boa_engine::property::PropertyDescriptor::builder()
                .value(true)
                .writable(false)
                .enumerable(false)
                .configurable(false),
            context,
        )?;
        for key in namespace.own_property_keys(context)? {
            if matches!(key, PropertyKey::Symbol(_)) {
                continue;
            }
            // Live bindings, as the namespace's: a getter per export.
            let name = JsString::from(key.to_string());
            let getter = NativeFunction::from_copy_closure_with_captures(
                |_, _, (namespace, name): &(JsObject, JsString), context| {
                    namespace.get(name.clone(), context)
                },
                (namespace.clone(), name),
            )
            .to_js_function(context.realm());
            exports.define_property_or_throw(
                key,
                boa_engine::property::PropertyDescriptor::builder()
                    .get(getter)
                    .enumerable(true)
                    .configurable(false),
                context,
            )?;
        }
        Ok(exports.into())
    }

    /// `message` with the line of `importer` that names `specifier` (Boa's loader does not
    /// say where an import is): the first line holding it as a string literal.
    fn with_line(&self, message: String, importer: &Path, specifier: &str) -> String {
        // From disk: a TypeScript file's JavaScript has other line numbers.
        let Ok(text) = std::fs::read_to_string(importer) else {
            return message;
        };
        let line = text.lines().position(|line| {
            ['"', '\'', '`']
                .iter()
                .any(|quote| line.contains(&format!("{quote}{specifier}{quote}")))
        });
        let Some(line) = line else {
            return message;
        };
        let from = format!("imported from {}", importer.display());
        message.replacen(&from, &format!("{from}:{}", line + 1), 1)
    }

    fn load_builtin(
        &self,
        specifier: &str,
        referrer: &str,
        context: &mut Context,
    ) -> JsResult<Module> {
        if let Some(module) = self.builtins.borrow().get(specifier) {
            return Ok(module.clone());
        }
        let module = fastly::builtin_module(specifier, context).ok_or_else(|| {
            load_error(format!(
                "Unknown built-in module '{specifier}' imported from {referrer}; \
                 edgeshim provides: {}",
                fastly::builtin_modules().collect::<Vec<_>>().join(", ")
            ))
        })?;
        self.builtins
            .borrow_mut()
            .insert(specifier.to_owned(), module.clone());
        Ok(module)
    }

    fn resolve(
        &self,
        referrer: &Referrer,
        specifier: &JsString,
        context: &mut Context,
    ) -> JsResult<Module> {
        let spec = specifier.to_std_string_lossy();
        let from = referrer
            .path()
            .map_or_else(|| "the app".to_owned(), |p| p.display().to_string());
        if spec.starts_with("fastly:") {
            return self.load_builtin(&spec, &from, context);
        }
        let Some(importer) = referrer.path() else {
            return Err(load_error(format!(
                "Cannot resolve '{spec}': the importing module has no file"
            )));
        };
        match self.sources.resolver.resolve(importer, &spec, Kind::Import) {
            Ok(Resolved::File(path)) => self.load_imported(&path, importer, context),
            Ok(Resolved::Empty(path)) => {
                let empty = JsObject::with_object_proto(context.intrinsics());
                value_module(empty.into(), Interop::Node, &path, context)
            }
            Err(message) => Err(load_error(self.with_line(message, importer, &spec))),
        }
    }
}

impl ModuleLoader for AppLoader {
    async fn load_imported_module(
        self: Rc<Self>,
        referrer: Referrer,
        request: boa_engine::module::ModuleRequest,
        context: &RefCell<&mut Context>,
    ) -> JsResult<Module> {
        self.resolve(&referrer, request.specifier(), &mut context.borrow_mut())
    }
}

/// The loader of the current context, as context data, for `require`.
#[derive(Debug, Clone)]
pub(crate) struct LoaderHandle(pub Rc<AppLoader>);

/// `text` (a stack trace, a console line) with positions in the TypeScript and JSX files of
/// `context`'s app turned back into the files' own.
pub fn original_positions(text: String, context: &Context) -> String {
    match context.get_data::<LoaderHandle>() {
        Some(loader) => loader.0.sources.original_positions(&text),
        None => text,
    }
}

/// A `require` for the CommonJS file `path`.
fn require_function(path: &Path, context: &mut Context) -> JsValue {
    let from = JsString::from(path.to_string_lossy().as_ref());
    NativeFunction::from_copy_closure_with_captures(
        |_, args, from: &JsString, context| {
            let specifier = match args.first() {
                Some(value) if value.is_string() => value.to_string(context)?,
                _ => {
                    return Err(JsNativeError::typ()
                        .with_message("require() needs a module name string")
                        .into())
                }
            };
            let loader = context
                .get_data::<LoaderHandle>()
                .map(|l| l.0.clone())
                .ok_or_else(|| JsNativeError::typ().with_message("require() is unavailable"))?;
            let from = PathBuf::from(from.to_std_string_lossy());
            loader.require(&from, &specifier.to_std_string_lossy(), context)
        },
        from,
    )
    .to_js_function(context.realm())
    .into()
}

/// Which default export an importer gets from a CommonJS module, as esbuild's `__toESM`
/// decides: in Node mode (the importer is a `.mjs`/`.mts` file or in a `"type": "module"`
/// package) always `module.exports`; otherwise `module.exports.default` when the module
/// sets `__esModule` (it was compiled from an ES module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interop {
    Node,
    EsModuleFlag,
}

/// A module whose default export is `value` (or its `default`, see [`Interop`]) and whose
/// named exports are its own string keys, as esbuild gives a CommonJS or JSON module.
fn value_module(
    value: JsValue,
    interop: Interop,
    path: &Path,
    context: &mut Context,
) -> JsResult<Module> {
    let mut names = vec![js_string!("default")];
    let mut es_module = false;
    if let Some(object) = value.as_object() {
        es_module = object.get(js_string!("__esModule"), context)?.to_boolean();
        for key in object.own_property_keys(context)? {
            if let PropertyKey::String(name) = key {
                if name != js_string!("default") && is_identifier(&name.to_std_string_lossy()) {
                    names.push(name);
                }
            }
        }
    }
    let default = match value.as_object() {
        Some(object) if es_module && interop == Interop::EsModuleFlag => {
            object.get(js_string!("default"), context)?
        }
        _ => value.clone(),
    };
    Ok(Module::synthetic(
        &names,
        SyntheticModuleInitializer::from_copy_closure_with_captures(
            |module, (value, default, names): &(JsValue, JsValue, Vec<JsString>), context| {
                module.set_export(&js_string!("default"), default.clone())?;
                if let Some(object) = value.as_object() {
                    for name in names.iter().skip(1) {
                        let export = object.get(name.clone(), context)?;
                        module.set_export(name, export)?;
                    }
                }
                Ok(())
            },
            (value, default, names.clone()),
        ),
        Some(path.to_owned()),
        None,
        context,
    ))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c == '$' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c == '$' || c.is_alphanumeric())
}

/// Whether `text` is CommonJS, as esbuild decides: a `.cjs` file, or a file that uses
/// `module`/`exports`/`require` and has no `import` or `export` statement (`.mjs` files and
/// everything else are ES modules).
fn is_commonjs(path: &Path, text: &str) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("cjs" | "cts") => return true,
        // TypeScript is judged by its JavaScript, as esbuild judges it.
        Some("mjs" | "mts") => return false,
        _ => {}
    }
    let uses_commonjs = text.contains("module.exports")
        || text.contains("exports.")
        || text.contains("exports[")
        || text.contains("require(");
    uses_commonjs && !has_module_syntax(text)
}

/// Whether `text` has an `import` or `export` statement (a rough scan that skips
/// `import(…)`, `import.meta` excepted, and words inside identifiers).
fn has_module_syntax(text: &str) -> bool {
    let bytes = text.as_bytes();
    let boundary = |at: usize| {
        at == 0 || {
            let c = bytes[at - 1];
            !(c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'.')
        }
    };
    for keyword in ["import", "export"] {
        let mut from = 0;
        while let Some(found) = text[from..].find(keyword) {
            let at = from + found;
            from = at + keyword.len();
            if !boundary(at) {
                continue;
            }
            let rest = text[from..].trim_start();
            let next = rest.chars().next();
            let statement = if keyword == "import" {
                rest.starts_with("meta") && text[from..].starts_with(".meta")
                    || matches!(next, Some('{' | '*' | '"' | '\''))
                        && !text[from..].starts_with('(')
                    || next.is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                        && text[from..].starts_with(char::is_whitespace)
            } else {
                matches!(next, Some('{' | '*'))
                    || [
                        "default", "const", "let", "var", "function", "class", "async",
                    ]
                    .iter()
                    .any(|word| rest.starts_with(word))
                        && text[from..].starts_with(char::is_whitespace)
            };
            if statement {
                return true;
            }
        }
    }
    false
}

/// `FILE:LINE:COLUMN: SyntaxError: …` from a parse failure, with the offending source line.
fn syntax_message(path: &Path, source: &str, error: &JsError) -> String {
    let report = match error.as_native() {
        Some(native) => format!("SyntaxError: {}", native.message()),
        None => error.to_string(),
    };
    // Boa ends positioned messages with "at line L, col C"; an early end of input has none.
    let (position, report) = match parse_position(&report) {
        Some((line, column, start)) => ((line, column), report[..start].trim_end().to_owned()),
        None if report.ends_with("abrupt end") => (
            end_of_input(source),
            format!(
                "{report}: the file ended inside a block, call or string; a closing '}}', ')' \
                 or quote is probably missing"
            ),
        ),
        None => ((1, 1), report),
    };
    located_message(path, source, position, &report)
}

/// `FILE:LINE:COLUMN: REPORT`, then the source line with a caret under the column.
fn located_message(
    path: &Path,
    source: &str,
    (line, column): (usize, usize),
    report: &str,
) -> String {
    let mut message = format!("{}:{line}:{column}: {report}", path.display());
    if let Some(text) = source.lines().nth(line.saturating_sub(1)) {
        let gutter = line.to_string().len();
        message.push_str(&format!(
            "\n {line} | {text}\n {:gutter$} | {:>column$}",
            "", "^"
        ));
    }
    message
}

/// The 1-based line and column (in characters) of byte `offset` of `source`.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset).unwrap_or(source);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Finds a trailing "at line L, col C": the numbers and where that text starts.
fn parse_position(message: &str) -> Option<(usize, usize, usize)> {
    let start = message.rfind(" at line ")?;
    let rest = &message[start + " at line ".len()..];
    let (line, col) = rest.split_once(", col ")?;
    Some((line.trim().parse().ok()?, col.trim().parse().ok()?, start))
}

/// Line and column just past the last character of `source`.
fn end_of_input(source: &str) -> (usize, usize) {
    let line = source.lines().count().max(1);
    let last = if source.ends_with('\n') {
        ""
    } else {
        source.lines().last().unwrap_or("")
    };
    let line = if source.ends_with('\n') {
        line + 1
    } else {
        line
    };
    (line, last.chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_parsed_from_boa_messages() {
        assert_eq!(
            parse_position("SyntaxError: expected token ';', got 'x' at line 3, col 14"),
            Some((3, 14, 40))
        );
        assert_eq!(parse_position("SyntaxError: abrupt end"), None);
    }

    #[test]
    fn commonjs_is_told_from_es_modules() {
        let js = Path::new("a.js");
        assert!(is_commonjs(js, "module.exports = 1"));
        assert!(is_commonjs(js, "const x = require('x');\nexports.y = x;"));
        assert!(is_commonjs(Path::new("a.cjs"), "var x = 1"));
        assert!(!is_commonjs(js, "export const a = 1; exports.b = 2"));
        assert!(!is_commonjs(js, "import x from 'x';\nmodule.exports = x"));
        assert!(!is_commonjs(js, "var a=1;export{a as b};module.exports"));
        assert!(!is_commonjs(Path::new("a.mjs"), "module.exports = 1"));
        assert!(is_commonjs(Path::new("a.cts"), "var x = 1"));
        assert!(!is_commonjs(Path::new("a.mts"), "module.exports = 1"));
        // A .ts file's JavaScript decides, as for .js.
        assert!(is_commonjs(Path::new("a.ts"), "module.exports = 1"));
        assert!(!is_commonjs(Path::new("a.ts"), "export const a = 1;"));
        assert!(!is_commonjs(js, "console.log(1)"));
        // Dynamic import and words that only contain a keyword are not statements.
        assert!(is_commonjs(
            js,
            "module.exports = () => import('./x.js'); var reexport = 1;"
        ));
    }

    #[test]
    fn end_of_input_is_after_the_last_character() {
        assert_eq!(end_of_input("a\nbc"), (2, 3));
        assert_eq!(end_of_input("a\nbc\n"), (3, 1));
        assert_eq!(end_of_input(""), (1, 1));
    }
}
