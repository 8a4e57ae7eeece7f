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
            syntax_error: RefCell::default(),
        }
    }

    /// `FILE:LINE:COLUMN: SyntaxError: …` with the source line, for the last parse failure.
    pub fn take_syntax_error(&self) -> Option<String> {
        self.syntax_error.borrow_mut().take()
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
        let module = Module::parse(source, None, context).inspect_err(|e| {
            *self.syntax_error.borrow_mut() = Some(syntax_message(path, &text, e));
        })?;
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
    let (line, column) = position;
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
    fn end_of_input_is_after_the_last_character() {
        assert_eq!(end_of_input("a\nbc"), (2, 3));
        assert_eq!(end_of_input("a\nbc\n"), (3, 1));
        assert_eq!(end_of_input(""), (1, 1));
    }
}
