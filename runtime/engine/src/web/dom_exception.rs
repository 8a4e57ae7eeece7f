//! `DOMException`, as WebIDL defines it: <https://webidl.spec.whatwg.org/#idl-DOMException>.
//!
//! Its prototype inherits from `Error.prototype`, so `e instanceof Error` holds; `name`,
//! `message` and the legacy `code` are accessors on the prototype.

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsNativeError, JsResult, JsString, JsValue, Trace,
};

use crate::class_util::{getter, this_as};

const CLASS: &str = "DOMException";

/// The legacy error names and their codes, in code order.
const LEGACY_CODES: [(&str, &str, u16); 25] = [
    ("IndexSizeError", "INDEX_SIZE_ERR", 1),
    ("DOMStringSizeError", "DOMSTRING_SIZE_ERR", 2),
    ("HierarchyRequestError", "HIERARCHY_REQUEST_ERR", 3),
    ("WrongDocumentError", "WRONG_DOCUMENT_ERR", 4),
    ("InvalidCharacterError", "INVALID_CHARACTER_ERR", 5),
    ("NoDataAllowedError", "NO_DATA_ALLOWED_ERR", 6),
    (
        "NoModificationAllowedError",
        "NO_MODIFICATION_ALLOWED_ERR",
        7,
    ),
    ("NotFoundError", "NOT_FOUND_ERR", 8),
    ("NotSupportedError", "NOT_SUPPORTED_ERR", 9),
    ("InUseAttributeError", "INUSE_ATTRIBUTE_ERR", 10),
    ("InvalidStateError", "INVALID_STATE_ERR", 11),
    ("SyntaxError", "SYNTAX_ERR", 12),
    ("InvalidModificationError", "INVALID_MODIFICATION_ERR", 13),
    ("NamespaceError", "NAMESPACE_ERR", 14),
    ("InvalidAccessError", "INVALID_ACCESS_ERR", 15),
    ("ValidationError", "VALIDATION_ERR", 16),
    ("TypeMismatchError", "TYPE_MISMATCH_ERR", 17),
    ("SecurityError", "SECURITY_ERR", 18),
    ("NetworkError", "NETWORK_ERR", 19),
    ("AbortError", "ABORT_ERR", 20),
    ("URLMismatchError", "URL_MISMATCH_ERR", 21),
    ("QuotaExceededError", "QUOTA_EXCEEDED_ERR", 22),
    ("TimeoutError", "TIMEOUT_ERR", 23),
    ("InvalidNodeTypeError", "INVALID_NODE_TYPE_ERR", 24),
    ("DataCloneError", "DATA_CLONE_ERR", 25),
];

fn legacy_code(name: &str) -> u16 {
    LEGACY_CODES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or(0, |(_, _, code)| *code)
}

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsDomException {
    #[unsafe_ignore_trace]
    name: JsString,
    #[unsafe_ignore_trace]
    message: JsString,
}

fn string_arg(
    args: &[JsValue],
    i: usize,
    default: &str,
    context: &mut Context,
) -> JsResult<JsString> {
    match args.get(i) {
        Some(v) if !v.is_undefined() => v.to_string(context),
        _ => Ok(JsString::from(default)),
    }
}

impl Class for JsDomException {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        Ok(Self {
            message: string_arg(args, 0, "", context)?,
            name: string_arg(args, 1, "Error", context)?,
        })
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        getter(class, "name", |this, _, _| {
            let e = this_as::<JsDomException>(this, "name", CLASS)?;
            let name = e.borrow().data().name.clone();
            Ok(name.into())
        });
        getter(class, "message", |this, _, _| {
            let e = this_as::<JsDomException>(this, "message", CLASS)?;
            let message = e.borrow().data().message.clone();
            Ok(message.into())
        });
        getter(class, "code", |this, _, _| {
            let e = this_as::<JsDomException>(this, "code", CLASS)?;
            let name = e.borrow().data().name.to_std_string_lossy();
            Ok(legacy_code(&name).into())
        });
        for (_, constant, code) in LEGACY_CODES {
            class.static_property(js_string!(constant), code, Attribute::ENUMERABLE);
            class.property(js_string!(constant), code, Attribute::ENUMERABLE);
        }
        // Enumerable and fixed, as SpiderMonkey's DOMException has it.
        class.property(
            boa_engine::JsSymbol::to_string_tag(),
            js_string!(CLASS),
            Attribute::ENUMERABLE,
        );
        Ok(())
    }
}

/// Registers `DOMException`, its prototype inheriting from `Error.prototype`.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsDomException>()?;
    let prototype = context
        .get_global_class::<JsDomException>()
        .ok_or_else(|| JsNativeError::typ().with_message("DOMException is not registered"))?
        .prototype();
    let error_prototype = context.intrinsics().constructors().error().prototype();
    prototype.set_prototype(Some(error_prototype));
    Ok(())
}

/// A `DOMException` named `name`, as a thrown value (how the platform reports a failed
/// send: a `NetworkError`).
pub fn create(message: &str, name: &str, context: &mut Context) -> JsResult<boa_engine::JsError> {
    let exception = JsDomException::from_data(
        JsDomException {
            name: JsString::from(name),
            message: JsString::from(message),
        },
        context,
    )?;
    Ok(boa_engine::JsError::from_opaque(exception.into()))
}
