//! Module loading: `fastly:*` built-ins, and the app's own files with their relative imports.
//!
//! Source text is read from disk once per process and shared by every instance (each fresh
//! instance still parses it, as Boa has no code cache); parsed modules are cached per context.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use boa_engine::module::{resolve_module_specifier, Module, ModuleLoader, Referrer};
use boa_engine::{Context, JsError, JsNativeError, JsResult, JsString, Source};
use parking_lot::Mutex;

use crate::fastly;

/// Source texts by canonical path, shared by all instances of the process.
#[derive(Debug, Default)]
pub struct SourceCache {
    texts: Mutex<HashMap<PathBuf, Arc<str>>>,
}

impl SourceCache {
    /// The text of `path`, read on first use.
    ///
    /// # Errors
    /// The I/O error of the first read (not cached, so a file created later is found).
    pub fn get(&self, path: &Path) -> std::io::Result<Arc<str>> {
        if let Some(text) = self.texts.lock().get(path) {
            return Ok(text.clone());
        }
        let text: Arc<str> = std::fs::read_to_string(path)?.into();
        self.texts.lock().insert(path.to_owned(), text.clone());
        Ok(text)
    }
}

/// The per-context loader.
#[derive(Debug)]
pub struct AppLoader {
    sources: Arc<SourceCache>,
    modules: RefCell<HashMap<PathBuf, Module>>,
    builtins: RefCell<HashMap<String, Module>>,
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
        }
    }

    /// Parses the module at `path` (canonical) in the current realm, or returns the cached one.
    pub fn load_file(&self, path: &Path, context: &mut Context) -> JsResult<Module> {
        if let Some(module) = self.modules.borrow().get(path) {
            return Ok(module.clone());
        }
        let text = self
            .sources
            .get(path)
            .map_err(|e| load_error(format!("cannot read module {}: {e}", path.display())))?;
        let source = Source::from_bytes(text.as_bytes()).with_path(path);
        let module = Module::parse(source, None, context)?;
        self.modules
            .borrow_mut()
            .insert(path.to_owned(), module.clone());
        Ok(module)
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
                fastly::BUILTIN_MODULES.join(", ")
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
        if !(spec.starts_with("./") || spec.starts_with("../") || spec.starts_with('/')) {
            return Err(load_error(format!(
                "Cannot resolve '{spec}' imported from {from}: edgeshim loads relative paths \
                 ('./file.js') and fastly:* modules; bundle npm packages into the app first \
                 (as `fastly compute build` does)"
            )));
        }
        let path = resolve_module_specifier(None, specifier, referrer.path(), context)?;
        let path = std::fs::canonicalize(&path).map_err(|e| {
            load_error(format!(
                "Cannot find module '{spec}' imported from {from} ({}: {e})",
                path.display()
            ))
        })?;
        self.load_file(&path, context)
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
