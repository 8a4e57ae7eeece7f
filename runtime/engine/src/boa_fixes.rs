//! Built-ins of Boa 0.22 replaced because their cost is far from SpiderMonkey's, so that an
//! app that fits Compute's limits fits them here too. Behaviour is the spec's, unchanged.

use boa_engine::object::JsObject;
use boa_engine::value::IntegerOrInfinity;
use boa_engine::{
    js_string, Context, JsArgs, JsNativeError, JsResult, JsString, JsValue, NativeFunction,
};

/// The longest string Boa makes (2^32 - 1 code units).
const MAX_STRING_LENGTH: u64 = u32::MAX as u64;

/// `String.prototype.repeat` (<https://tc39.es/ecma262/#sec-string.prototype.repeat>) by
/// doubling. Boa's builds a list of `count` string references first: 24 bytes per
/// repetition, so `"x".repeat(30 * 2 ** 20)` (a KV value of the maximum size) would take
/// 720 MB where SpiderMonkey takes 30.
fn repeat(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let this = this.require_object_coercible()?;
    let string = this.to_string(context)?;
    let count = match args.get_or_undefined(0).to_integer_or_infinity(context)? {
        IntegerOrInfinity::Integer(n) if n >= 0 => n.unsigned_abs(),
        IntegerOrInfinity::PositiveInfinity => {
            return Err(JsNativeError::range()
                .with_message("String.prototype.repeat: count must be less than infinity")
                .into())
        }
        _ => {
            return Err(JsNativeError::range()
                .with_message("String.prototype.repeat: count must be non-negative")
                .into())
        }
    };
    if count == 0 || string.is_empty() {
        return Ok(js_string!().into());
    }
    if count
        .checked_mul(string.len() as u64)
        .is_none_or(|total| total > MAX_STRING_LENGTH)
    {
        return Err(JsNativeError::range()
            .with_message(
                "repeat count must be a positive finite number that doesn't overflow the \
                 maximum string length (2^32 - 1)",
            )
            .into());
    }
    let mut result: Option<JsString> = None;
    let mut power = string;
    let mut left = count;
    loop {
        if left & 1 == 1 {
            result = Some(match result {
                None => power.clone(),
                Some(so_far) => JsString::concat_array(&[so_far.as_str(), power.as_str()]),
            });
        }
        left >>= 1;
        if left == 0 {
            break;
        }
        power = JsString::concat_array(&[power.as_str(), power.as_str()]);
    }
    Ok(result.unwrap_or_default().into())
}

/// Defines a non-enumerable, configurable data property, as built-ins have them.
fn define(
    object: &JsObject,
    key: JsString,
    value: JsValue,
    writable: bool,
    context: &mut Context,
) -> JsResult<()> {
    let descriptor = boa_engine::property::PropertyDescriptor::builder()
        .value(value)
        .writable(writable)
        .enumerable(false)
        .configurable(true);
    object.define_property_or_throw(key, descriptor, context)?;
    Ok(())
}

/// Installs the replacements on the context's intrinsics.
pub(crate) fn register(context: &mut Context) -> JsResult<()> {
    let prototype: JsObject = context.intrinsics().constructors().string().prototype();
    let function = NativeFunction::from_fn_ptr(repeat).to_js_function(context.realm());
    // Same name and length as the built-in it replaces.
    define(
        &function,
        js_string!("name"),
        js_string!("repeat").into(),
        false,
        context,
    )?;
    define(&function, js_string!("length"), 1.into(), false, context)?;
    define(
        &prototype,
        js_string!("repeat"),
        function.into(),
        true,
        context,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use boa_engine::Source;

    use super::*;

    fn eval(code: &str) -> String {
        let mut context = Context::default();
        register(&mut context).unwrap();
        match context.eval(Source::from_bytes(code)) {
            Ok(value) => value.to_string(&mut context).unwrap().to_std_string_lossy(),
            Err(e) => format!("threw {e}"),
        }
    }

    #[test]
    fn repeat_follows_the_spec() {
        assert_eq!(eval("'ab'.repeat(3)"), "ababab");
        assert_eq!(
            eval("'é'.repeat(5) + '|' + 'x'.repeat(0) + '|' + ''.repeat(9)"),
            "ééééé||"
        );
        assert_eq!(eval("'x'.repeat(30 * 2 ** 20 + 1).length"), "31457281");
        assert_eq!(eval("String.prototype.repeat.call(12, 2)"), "1212");
        assert_eq!(
            eval("[String.prototype.repeat.name, String.prototype.repeat.length]"),
            "repeat,1"
        );
        assert_eq!(
            eval("Object.keys(String.prototype).includes('repeat')"),
            "false"
        );
        assert!(eval("'x'.repeat(-1)").starts_with("threw RangeError"));
        assert!(eval("'x'.repeat(Infinity)").starts_with("threw RangeError"));
        assert!(eval("'xx'.repeat(2 ** 31)").starts_with("threw RangeError"));
        assert!(eval("String.prototype.repeat.call(null, 1)").starts_with("threw TypeError"));
    }
}
