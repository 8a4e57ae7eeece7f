//! TypeScript and JSX files, turned into JavaScript as the official build's esbuild step turns
//! them for a project without a `tsconfig.json` (`bundle.ts` in fastly/js-compute-runtime;
//! <https://esbuild.github.io/content-types/#typescript>): types removed, `enum`, `namespace`
//! and constructor parameter properties compiled to code, imports used only as types dropped,
//! JSX to `React.createElement` calls, and no syntax lowered (the output is ESNext).
//!
//! The nearest `tsconfig.json` (outside `node_modules`, `extends` followed) changes the output
//! as it changes esbuild's: `experimentalDecorators` (and `emitDecoratorMetadata`) compile
//! decorators TypeScript's legacy way; `jsx` (`react-jsx`/`react-jsxdev`: the automatic
//! runtime), `jsxFactory`, `jsxFragmentFactory` and `jsxImportSource` choose the JSX calls;
//! `paths` and `baseUrl` are applied by the resolver (`resolve.rs`).
//!
//! [oxc](https://oxc.rs)'s parser and transformer do the work. The official toolchain needs a
//! separate `tsc` step for type errors and so does edgeshim: nothing here checks types. The
//! JavaScript has other line numbers than the TypeScript, so each file keeps a [`PositionMap`]
//! (from oxc's source map) that turns positions in stack traces back into the file's own.

use std::path::Path;

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_parser::Parser;
use oxc_semantic::SemanticBuilder;
use oxc_span::SourceType;
use oxc_transformer::{HelperLoaderMode, JsxRuntime, TransformOptions, Transformer};

/// The helpers legacy decorators call, defined on the first line of a file that uses them
/// (TypeScript's `__decorate`, `__param` and `__metadata` semantics): a decorator list is
/// applied last to first, each returning a replacement (or nothing to keep what it got).
const HELPERS: &str = "var babelHelpers={decorate:function(ds,target,key,desc){\
var n=arguments.length,r=n<3?target:desc===null?(desc=Object.getOwnPropertyDescriptor(target,key)):desc;\
for(var i=ds.length-1;i>=0;i--){var d=ds[i];if(d)r=(n<3?d(r):n>3?d(target,key,r):d(target,key))||r;}\
if(n>3&&r)Object.defineProperty(target,key,r);return r;},\
decorateParam:function(index,d){return function(target,key){d(target,key,index);};},\
decorateMetadata:function(k,v){if(typeof Reflect===\"object\"&&typeof Reflect.metadata===\"function\")return Reflect.metadata(k,v);}};";

/// Whether `path` is a file [`transpile`] must turn into JavaScript before Boa parses it.
pub fn needs_transpile(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("ts" | "mts" | "cts" | "tsx" | "jsx")
    )
}

/// What a project's `tsconfig.json` says that changes the JavaScript of its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsSettings {
    pub experimental_decorators: bool,
    pub emit_decorator_metadata: bool,
    /// `compilerOptions.jsx`: `react` (the default), `react-jsx`, `react-jsxdev`, `preserve`…
    pub jsx: Option<String>,
    pub jsx_factory: Option<String>,
    pub jsx_fragment_factory: Option<String>,
    pub jsx_import_source: Option<String>,
}

/// Why a file could not be turned into JavaScript: the first problem, at a byte offset of the
/// original text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TranspileError {
    pub offset: usize,
    pub message: String,
}

/// A file turned into JavaScript.
#[derive(Debug)]
pub struct Transpiled {
    pub code: String,
    pub positions: PositionMap,
}

/// Positions in the JavaScript back to positions in the TypeScript it came from.
#[derive(Debug, Default)]
pub struct PositionMap {
    /// (generated line, generated column, original line, original column), 0-based, sorted.
    tokens: Vec<(u32, u32, u32, u32)>,
}

impl PositionMap {
    /// The 1-based line and column in the original file of the 1-based `line`:`column` of the
    /// JavaScript: the nearest mapped position at or before it on that line.
    pub fn original(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        let key = (line.checked_sub(1)?, column.saturating_sub(1));
        let after = self.tokens.partition_point(|&(l, c, _, _)| (l, c) <= key);
        let at = match after.checked_sub(1).map(|i| self.tokens[i]) {
            Some(token) if token.0 == key.0 => token,
            // Nothing before it on its line: the line's first mapping.
            _ => *self.tokens.get(after).filter(|t| t.0 == key.0)?,
        };
        // Past the mapping, the same distance past its original column.
        Some((at.2 + 1, at.3 + key.1.saturating_sub(at.1) + 1))
    }
}

/// The JavaScript for the TypeScript or JSX `source` of `path`.
///
/// # Errors
/// The first syntax error (or construct the transformer refuses), with where it is.
pub fn transpile(
    path: &Path,
    source: &str,
    settings: &TsSettings,
) -> Result<Transpiled, TranspileError> {
    let source_type = SourceType::from_path(path).map_err(|e| TranspileError {
        offset: 0,
        message: e.to_string(),
    })?;
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, source_type).parse();
    first_error(&parsed.diagnostics)?;
    let mut program = parsed.program;
    let semantic = SemanticBuilder::new().with_enum_eval(true).build(&program);
    first_error(&semantic.diagnostics)?;
    let mut options = TransformOptions::default();
    options.decorator.legacy = settings.experimental_decorators;
    // Helpers (only the legacy decorators' at ESNext) from a `babelHelpers` object this file
    // defines itself ([`HELPERS`]): the app has no helper package to import them from.
    options.helper_loader.mode = HelperLoaderMode::External;
    options.decorator.emit_decorator_metadata = settings.emit_decorator_metadata;
    match settings.jsx.as_deref() {
        Some("react-jsx" | "react-jsxdev") => {
            options.jsx.runtime = JsxRuntime::Automatic;
            options.jsx.development = settings.jsx.as_deref() == Some("react-jsxdev");
            options
                .jsx
                .import_source
                .clone_from(&settings.jsx_import_source);
        }
        // esbuild's default for `.jsx`/`.tsx`: `React.createElement`, `React.Fragment`,
        // or the factories tsconfig.json names.
        _ => {
            options.jsx.runtime = JsxRuntime::Classic;
            options.jsx.pragma.clone_from(&settings.jsx_factory);
            options
                .jsx
                .pragma_frag
                .clone_from(&settings.jsx_fragment_factory);
        }
    }
    let transformed = Transformer::new(&allocator, path, &options)
        .build_with_scoping(semantic.semantic.into_scoping(), &mut program);
    first_error(&transformed.diagnostics)?;
    let generated = Codegen::new()
        .with_options(CodegenOptions {
            source_map_path: Some(path.to_owned()),
            ..CodegenOptions::default()
        })
        .build(&program);
    let mut tokens: Vec<_> = generated
        .map
        .iter()
        .flat_map(|map| map.get_tokens())
        .map(|t| {
            (
                t.get_dst_line(),
                t.get_dst_col(),
                t.get_src_line(),
                t.get_src_col(),
            )
        })
        .collect();
    let mut code = generated.code;
    // On the first line, so that every other line keeps its number; that line's columns
    // move by the helpers' length.
    if code.contains("babelHelpers.") {
        code.insert_str(0, HELPERS);
        let shift = u32::try_from(HELPERS.len()).unwrap_or(u32::MAX);
        for token in tokens.iter_mut().filter(|t| t.0 == 0) {
            token.1 = token.1.saturating_add(shift);
        }
    }
    tokens.sort_unstable();
    Ok(Transpiled {
        code,
        positions: PositionMap { tokens },
    })
}

fn first_error(diagnostics: &[oxc_diagnostics::OxcDiagnostic]) -> Result<(), TranspileError> {
    let Some(diagnostic) = diagnostics.first() else {
        return Ok(());
    };
    let offset = diagnostic
        .labels
        .first()
        .map_or(0, |label| label.offset() as usize);
    let mut message = diagnostic.message.to_string();
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!(" ({help})"));
    }
    Err(TranspileError { offset, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js_with(name: &str, source: &str, settings: &TsSettings) -> String {
        transpile(Path::new(name), source, settings)
            .expect("transpiles")
            .code
    }

    #[test]
    fn tsconfig_decorators_and_jsx_factories() {
        let legacy = TsSettings {
            experimental_decorators: true,
            ..TsSettings::default()
        };
        let out = js_with(
            "a.ts",
            "function logged(target: any, key: string) {}
export class A { @logged run() {} }
",
            &legacy,
        );
        assert!(out.starts_with(HELPERS), "{out}");
        assert!(
            out.contains("babelHelpers.decorate([logged], A.prototype, \"run\", null)"),
            "{out}"
        );
        assert!(!out.contains("import"), "{out}");
        let preact = TsSettings {
            jsx_factory: Some("h".into()),
            jsx_fragment_factory: Some("Fragment".into()),
            ..TsSettings::default()
        };
        let out = js_with(
            "a.tsx",
            "export const el = <><p>hi</p></>;
",
            &preact,
        );
        assert!(
            out.contains("h(Fragment, null, /* @__PURE__ */ h(\"p\", null, \"hi\"))"),
            "{out}"
        );
        let automatic = TsSettings {
            jsx: Some("react-jsx".into()),
            jsx_import_source: Some("hono/jsx".into()),
            ..TsSettings::default()
        };
        let out = js_with(
            "a.tsx",
            "export const el = <p>hi</p>;
",
            &automatic,
        );
        assert!(out.contains("from \"hono/jsx/jsx-runtime\""), "{out}");
    }

    fn js(name: &str, source: &str) -> String {
        transpile(Path::new(name), source, &TsSettings::default())
            .expect("transpiles")
            .code
    }

    #[test]
    fn positions_map_back_to_the_typescript() {
        let source = "interface A {\n  x: number;\n}\n\nfunction f(a: A) {\n  return a.x.y.z;\n}\n";
        let out = transpile(Path::new("a.ts"), source, &TsSettings::default()).expect("transpiles");
        let (line, text) = out
            .code
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("return"))
            .expect("a return line");
        let column = text.find("a.x").expect("a.x") + 1;
        let line = u32::try_from(line + 1).expect("small");
        let column = u32::try_from(column).expect("small");
        assert_eq!(out.positions.original(line, column), Some((6, 10)));
    }

    #[test]
    fn types_go_and_value_syntax_stays() {
        let out = js(
            "a.ts",
            "interface P { x: number }\ntype Q = P | null;\n\
             export function f<T>(a: T, b?: string): T { return a as T; }\n\
             const n = (1 satisfies number)!;\n",
        );
        assert!(
            !out.contains("interface") && !out.contains("type Q"),
            "{out}"
        );
        assert!(out.contains("export function f(a, b) {"), "{out}");
        assert!(out.contains("return a;"), "{out}");
    }

    #[test]
    fn enums_namespaces_and_parameter_properties_become_code() {
        let out = js(
            "a.ts",
            "enum Color { Red, Green = 5 }\nclass C { constructor(private x: number) {} }\n",
        );
        assert!(out.contains("Color[Color[\"Red\"] = 0] = \"Red\""), "{out}");
        assert!(out.contains("this.x = x"), "{out}");
    }

    #[test]
    fn imports_used_only_as_types_are_dropped_as_esbuild_drops_them() {
        let out = js(
            "a.ts",
            "import { A, b } from './m';\nimport type { C } from './c';\nlet x: A & C = b;\n",
        );
        assert!(out.contains("import { b } from \"./m\";"), "{out}");
        assert!(!out.contains("./c"), "{out}");
    }

    #[test]
    fn jsx_uses_react_create_element_as_esbuild_does() {
        let out = js("a.jsx", "export const el = <p class=\"x\">hi</p>;\n");
        assert!(out.contains("React.createElement(\"p\""), "{out}");
    }

    #[test]
    fn a_syntax_error_says_where() {
        let source = "let a: number = 1;\nlet b = (;\n";
        let err = transpile(Path::new("a.ts"), source, &TsSettings::default()).expect_err("fails");
        assert_eq!(&source[..err.offset], "let a: number = 1;\nlet b = (");
        assert!(err.message.contains("Unexpected token"), "{}", err.message);
    }
}
