//! `Headers`: the project's own class (boa_runtime's lacks the platform's behaviour).
//!
//! Follows <https://fetch.spec.whatwg.org/#headers-class>: names are case-insensitive and
//! stored lower-cased, values are trimmed of leading and trailing HTTP whitespace, and
//! iteration is in sorted order with duplicate names combined (except `set-cookie`).

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::JsArray;
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsSymbol, JsValue,
    NativeFunction, Trace,
};

use crate::class_util::{is_token_char, require_args, string_arg, this_as, type_error};

const CLASS: &str = "Headers";

#[derive(Debug, Default, Clone, Trace, Finalize, JsData)]
pub struct JsHeaders {
    /// Lower-cased name and value, in insertion order (the header list).
    #[unsafe_ignore_trace]
    list: Vec<(String, String)>,
    /// Headers of an incoming request cannot be changed.
    immutable: bool,
}

fn normalize_value(value: &str) -> &str {
    value.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

fn validate(name: &str, value: &str) -> JsResult<()> {
    if name.is_empty() || !name.bytes().all(is_token_char) {
        return Err(type_error(format!("Invalid header name: '{name}'")));
    }
    if value.contains(['\0', '\n', '\r']) || value.chars().any(|c| c as u32 > 0xFF) {
        return Err(type_error(format!("Invalid header value: '{value}'")));
    }
    Ok(())
}

impl JsHeaders {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>, immutable: bool) -> Self {
        Self {
            list: pairs
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect(),
            immutable,
        }
    }

    pub fn into_pairs(mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.list)
    }

    /// A copy of the header list of a `Headers` object (empty for any other object).
    pub fn pairs_of(object: &JsObject) -> Vec<(String, String)> {
        object
            .downcast_ref::<JsHeaders>()
            .map(|h| h.list.clone())
            .unwrap_or_default()
    }

    pub fn get(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        let values: Vec<&str> = self
            .list
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    pub fn contains(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.list.iter().any(|(n, _)| *n == name)
    }

    pub fn append(&mut self, name: &str, value: &str) -> JsResult<()> {
        let value = normalize_value(value);
        validate(name, value)?;
        self.check_mutable()?;
        self.list
            .push((name.to_ascii_lowercase(), value.to_owned()));
        Ok(())
    }

    pub fn set(&mut self, name: &str, value: &str) -> JsResult<()> {
        let value = normalize_value(value);
        validate(name, value)?;
        self.check_mutable()?;
        let lower = name.to_ascii_lowercase();
        match self.list.iter().position(|(n, _)| *n == lower) {
            Some(first) => {
                self.list[first].1 = value.to_owned();
                let mut i = 0;
                self.list.retain(|(n, _)| {
                    i += 1;
                    i - 1 == first || *n != lower
                });
            }
            None => self.list.push((lower, value.to_owned())),
        }
        Ok(())
    }

    fn delete(&mut self, name: &str) -> JsResult<()> {
        validate(name, "")?;
        self.check_mutable()?;
        let lower = name.to_ascii_lowercase();
        self.list.retain(|(n, _)| *n != lower);
        Ok(())
    }

    fn check_mutable(&self) -> JsResult<()> {
        if self.immutable {
            return Err(type_error("Headers are immutable"));
        }
        Ok(())
    }

    /// "Sort and combine": sorted names, duplicates joined with ", ", `set-cookie` kept apart.
    fn sorted_and_combined(&self) -> Vec<(String, String)> {
        let mut names: Vec<&str> = self.list.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut out = Vec::new();
        for name in names {
            if name == "set-cookie" {
                out.extend(
                    self.list
                        .iter()
                        .filter(|(n, _)| n == "set-cookie")
                        .map(|(n, v)| (n.clone(), v.clone())),
                );
            } else if let Some(v) = self.get(name) {
                out.push((name.to_owned(), v));
            }
        }
        out
    }

    /// Fills from a `HeadersInit`: another `Headers`, a sequence of pairs or a record.
    fn fill(&mut self, init: &JsValue, context: &mut Context) -> JsResult<()> {
        let Some(object) = init.as_object() else {
            if init.is_null_or_undefined() {
                return Ok(());
            }
            return Err(type_error(
                "Headers constructor: init must be an object (Headers, array of pairs or record)",
            ));
        };
        if let Some(other) = object.downcast_ref::<JsHeaders>() {
            self.list.extend(other.list.iter().cloned());
            return Ok(());
        }
        if object.is_array() {
            let array = JsArray::from_object(object.clone())?;
            for i in 0..array.length(context)? {
                let pair = array.get(i, context)?;
                let pair = pair
                    .as_object()
                    .filter(|p| p.is_array())
                    .map(|p| JsArray::from_object(p.clone()))
                    .transpose()?
                    .ok_or_else(|| type_error("Headers constructor: expected name/value pair"))?;
                if pair.length(context)? != 2 {
                    return Err(type_error(
                        "Headers constructor: expected name/value pair to be length 2",
                    ));
                }
                let name = pair
                    .get(0, context)?
                    .to_string(context)?
                    .to_std_string_lossy();
                let value = pair
                    .get(1, context)?
                    .to_string(context)?
                    .to_std_string_lossy();
                self.append(&name, &value)?;
            }
            return Ok(());
        }
        // A record: its own enumerable string-keyed properties, as `Object.entries` lists them.
        let object_ctor = context.intrinsics().constructors().object().constructor();
        let entries = object_ctor.get(js_string!("entries"), context)?;
        let entries = entries
            .as_callable()
            .ok_or_else(|| type_error("Object.entries is not callable"))?
            .call(&object_ctor.into(), std::slice::from_ref(init), context)?;
        self.fill(&entries, context)
    }

    /// A new `Headers` object in the current realm.
    pub fn create(self, context: &mut Context) -> JsResult<JsObject> {
        Self::from_data(self, context)
    }
}

fn entries_iterator(
    this: &JsValue,
    method: &str,
    pick: fn(&(String, String), &mut Context) -> JsValue,
    context: &mut Context,
) -> JsResult<JsValue> {
    let headers = this_as::<JsHeaders>(this, method, CLASS)?;
    let items = headers.borrow().data().sorted_and_combined();
    let values: Vec<JsValue> = items.iter().map(|item| pick(item, context)).collect();
    let array = JsArray::from_iter(values, context);
    let values_fn = array.get(js_string!("values"), context)?;
    let values_fn = values_fn
        .as_callable()
        .ok_or_else(|| type_error("Array.prototype.values is not callable"))?;
    values_fn.call(&array.into(), &[], context)
}

fn pair_value(item: &(String, String), context: &mut Context) -> JsValue {
    JsArray::from_iter(
        [
            JsString::from(item.0.as_str()).into(),
            JsString::from(item.1.as_str()).into(),
        ],
        context,
    )
    .into()
}

impl Class for JsHeaders {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        let mut headers = Self::default();
        headers.fill(&args.first().cloned().unwrap_or_default(), context)?;
        Ok(headers)
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        class
            .method(
                js_string!("append"),
                2,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    require_args(args, "Headers.append", 2)?;
                    let h = this_as::<JsHeaders>(this, "append", CLASS)?;
                    let (name, value) = (string_arg(args, 0, ctx)?, string_arg(args, 1, ctx)?);
                    h.borrow_mut().data_mut().append(&name, &value)?;
                    Ok(JsValue::undefined())
                }),
            )
            .method(
                js_string!("delete"),
                1,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    require_args(args, "Headers.delete", 1)?;
                    let h = this_as::<JsHeaders>(this, "delete", CLASS)?;
                    let name = string_arg(args, 0, ctx)?;
                    h.borrow_mut().data_mut().delete(&name)?;
                    Ok(JsValue::undefined())
                }),
            )
            .method(
                js_string!("get"),
                1,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    require_args(args, "Headers.get", 1)?;
                    let h = this_as::<JsHeaders>(this, "get", CLASS)?;
                    let name = string_arg(args, 0, ctx)?;
                    validate(&name, "")?;
                    let value = h.borrow().data().get(&name);
                    Ok(value.map_or(JsValue::null(), |v| JsString::from(v.as_str()).into()))
                }),
            )
            .method(
                js_string!("getSetCookie"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    let h = this_as::<JsHeaders>(this, "getSetCookie", CLASS)?;
                    let cookies: Vec<JsValue> = h
                        .borrow()
                        .data()
                        .list
                        .iter()
                        .filter(|(n, _)| n == "set-cookie")
                        .map(|(_, v)| JsString::from(v.as_str()).into())
                        .collect();
                    Ok(JsArray::from_iter(cookies, ctx).into())
                }),
            )
            .method(
                js_string!("has"),
                1,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    require_args(args, "Headers.has", 1)?;
                    let h = this_as::<JsHeaders>(this, "has", CLASS)?;
                    let name = string_arg(args, 0, ctx)?;
                    validate(&name, "")?;
                    let found = h.borrow().data().contains(&name);
                    Ok(found.into())
                }),
            )
            .method(
                js_string!("set"),
                2,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    require_args(args, "Headers.set", 2)?;
                    let h = this_as::<JsHeaders>(this, "set", CLASS)?;
                    let (name, value) = (string_arg(args, 0, ctx)?, string_arg(args, 1, ctx)?);
                    h.borrow_mut().data_mut().set(&name, &value)?;
                    Ok(JsValue::undefined())
                }),
            )
            .method(
                js_string!("forEach"),
                1,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    let h = this_as::<JsHeaders>(this, "forEach", CLASS)?;
                    let callback = args
                        .first()
                        .and_then(JsValue::as_callable)
                        .ok_or_else(|| type_error("Headers.forEach: callback is not a function"))?;
                    let this_arg = args.get(1).cloned().unwrap_or_default();
                    let items = h.borrow().data().sorted_and_combined();
                    for (name, value) in items {
                        callback.call(
                            &this_arg,
                            &[
                                JsString::from(value.as_str()).into(),
                                JsString::from(name.as_str()).into(),
                                this.clone(),
                            ],
                            ctx,
                        )?;
                    }
                    Ok(JsValue::undefined())
                }),
            )
            .method(
                js_string!("entries"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    entries_iterator(this, "entries", pair_value, ctx)
                }),
            )
            .method(
                js_string!("keys"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    entries_iterator(
                        this,
                        "keys",
                        |item, _| JsString::from(item.0.as_str()).into(),
                        ctx,
                    )
                }),
            )
            .method(
                js_string!("values"),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    entries_iterator(
                        this,
                        "values",
                        |item, _| JsString::from(item.1.as_str()).into(),
                        ctx,
                    )
                }),
            )
            .method(
                JsSymbol::iterator(),
                0,
                NativeFunction::from_fn_ptr(|this, _, ctx| {
                    entries_iterator(this, "entries", pair_value, ctx)
                }),
            );
        Ok(())
    }
}

/// Registers `Headers` as a global class.
/// The first value of header `name` (ASCII case-insensitive) in a plain header list.
pub fn first_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsHeaders>()
}
