//! `URL` and `URLSearchParams`: the project's own classes, after <https://url.spec.whatwg.org/>
//! (boa_runtime's `URL` has no `URLSearchParams`, and its `searchParams` throws).
//!
//! Parsing, serializing and the setters are the `url` crate's (a WHATWG URL implementation;
//! its `quirks` module is the setters of the `URL` class), and the
//! `application/x-www-form-urlencoded` parser and serializer are `form_urlencoded`'s.
//!
//! A `URL` owns its `URLSearchParams` (made with it, the same object on every `searchParams`
//! read) and the params link back to the URL, so each updates the other: setting `search` or
//! `href` re-parses the params' list, and changing the params re-serializes the URL's query.
//! Neither side is kept borrowed while the other is updated. Both links are traced GC
//! pointers (the cycle is collected like any other).
//!
//! Strings from JS are USVStrings: lone surrogates become U+FFFD.

use boa_engine::builtins::object::OrdinaryObject;
use boa_engine::class::{Class, ClassBuilder};
use boa_engine::native_function::NativeFunctionPointer;
use boa_engine::object::builtins::{JsArray, JsFunction};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::{Attribute, PropertyKey};
use boa_engine::{
    js_string, Context, Finalize, JsData, JsObject, JsResult, JsString, JsSymbol, JsValue,
    NativeFunction, Trace,
};
use url::form_urlencoded;

use crate::class_util::{require_args, string_arg, this_as, type_error};

const URL_CLASS: &str = "URL";
const PARAMS_CLASS: &str = "URLSearchParams";
const ITERATOR_CLASS: &str = "URLSearchParams Iterator";

/// A name/value list, in order.
type Pairs = Vec<(String, String)>;

/// The `application/x-www-form-urlencoded` parser.
fn parse_urlencoded(input: &str) -> Pairs {
    form_urlencoded::parse(input.as_bytes())
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// The `application/x-www-form-urlencoded` serializer (UTF-8, space as `+`).
fn serialize_urlencoded(list: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(list)
        .finish()
}

/// The urlencoded serialization of `obj` if it is a `URLSearchParams` (a body or a KV value
/// made from one), `None` for any other object.
pub fn serialize_params(obj: &JsObject) -> Option<String> {
    obj.downcast_ref::<JsUrlSearchParams>()
        .map(|p| serialize_urlencoded(&p.list))
}

/// Which of `input` and `base` failed to parse.
#[derive(Debug, PartialEq, Eq)]
enum ParseFailure {
    Base,
    Input,
}

/// The API URL parser: `input` against the optional `base`.
fn parse_url(input: &str, base: Option<&str>) -> Result<url::Url, ParseFailure> {
    match base {
        Some(base) => {
            let base = url::Url::parse(base).map_err(|_| ParseFailure::Base)?;
            url::Url::options()
                .base_url(Some(&base))
                .parse(input)
                .map_err(|_| ParseFailure::Input)
        }
        None => url::Url::parse(input).map_err(|_| ParseFailure::Input),
    }
}

/// SpiderMonkey's (Firefox's, js-compute-runtime's) text for an unparsable URL.
fn invalid_url(what: &str, input: &str) -> String {
    format!("{what}: {input} is not a valid URL.")
}

/// An optional argument: `None` when missing or undefined (as WebIDL treats it).
fn optional_string_arg(
    args: &[JsValue],
    i: usize,
    context: &mut Context,
) -> JsResult<Option<String>> {
    match args.get(i) {
        None => Ok(None),
        Some(v) if v.is_undefined() => Ok(None),
        Some(v) => Ok(Some(v.to_string(context)?.to_std_string_lossy())),
    }
}

/// The `url` and `base` arguments of the constructor.
fn url_and_base(args: &[JsValue], context: &mut Context) -> JsResult<(String, Option<String>)> {
    Ok((
        string_arg(args, 0, context)?,
        optional_string_arg(args, 1, context)?,
    ))
}

fn js_str(s: &str) -> JsValue {
    JsString::from(s).into()
}

/// A function object the way WebIDL has operations: a non-constructor with a name and length.
fn function(
    context: &mut Context,
    name: &str,
    length: usize,
    f: NativeFunctionPointer,
) -> JsFunction {
    let realm = context.realm().clone();
    FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(f))
        .name(JsString::from(name))
        .length(length)
        .constructor(false)
        .build()
}

/// Adds a WebIDL operation (writable, enumerable, configurable) to the prototype.
fn operation(class: &mut ClassBuilder<'_>, name: &str, length: usize, f: NativeFunctionPointer) {
    let f = function(class.context(), name, length, f);
    class.property(JsString::from(name), f, Attribute::all());
}

/// Adds a WebIDL attribute (enumerable, configurable accessor) to the prototype.
fn attribute(
    class: &mut ClassBuilder<'_>,
    name: &str,
    get: NativeFunctionPointer,
    set: Option<NativeFunctionPointer>,
) {
    let get = function(class.context(), &format!("get {name}"), 0, get);
    let set = set.map(|set| function(class.context(), &format!("set {name}"), 1, set));
    class.accessor(
        JsString::from(name),
        Some(get),
        set,
        Attribute::CONFIGURABLE | Attribute::ENUMERABLE,
    );
}

// ---------------------------------------------------------------------------------------------
// URL
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsUrl {
    #[unsafe_ignore_trace]
    url: url::Url,
    /// The URL's query object: set right after the URL object is made, never changed.
    search_params: Option<JsObject<JsUrlSearchParams>>,
}

impl JsUrl {
    /// The URL of `value`, if it is a `URL` object.
    pub fn url_of(value: &JsValue) -> Option<url::Url> {
        value
            .as_object()
            .and_then(|o| o.downcast_ref::<Self>().map(|u| u.url.clone()))
    }
}

/// The query of `url` as a name/value list (empty when there is none).
fn query_pairs(url: &url::Url) -> Pairs {
    url.query().map(parse_urlencoded).unwrap_or_default()
}

fn this_url(this: &JsValue, name: &str) -> JsResult<JsObject<JsUrl>> {
    this_as::<JsUrl>(this, name, URL_CLASS)
}

/// Reads one component of the receiver's URL.
fn read_url(this: &JsValue, name: &str, read: fn(&url::Url) -> String) -> JsResult<JsValue> {
    let u = this_url(this, name)?;
    let value = read(&u.borrow().data().url);
    Ok(js_str(&value))
}

/// Changes the receiver's URL with `write` and the given value.
fn write_url(
    this: &JsValue,
    args: &[JsValue],
    name: &str,
    context: &mut Context,
    write: fn(&mut url::Url, &str),
) -> JsResult<JsValue> {
    let u = this_url(this, name)?;
    let value = string_arg(args, 0, context)?;
    write(&mut u.borrow_mut().data_mut().url, &value);
    Ok(JsValue::undefined())
}

/// After the URL's query changed (`search` or `href` set): its query object's list follows.
fn url_query_changed(u: &JsObject<JsUrl>) {
    let (pairs, params) = {
        let u = u.borrow();
        let data = u.data();
        (query_pairs(&data.url), data.search_params.clone())
    };
    if let Some(params) = params {
        params.borrow_mut().data_mut().list = pairs;
    }
}

impl Class for JsUrl {
    const NAME: &'static str = URL_CLASS;
    const LENGTH: usize = 1;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        require_args(args, "URL constructor", 1)?;
        let (input, base) = url_and_base(args, context)?;
        let url = parse_url(&input, base.as_deref()).map_err(|failure| {
            let bad = match (failure, &base) {
                (ParseFailure::Base, Some(base)) => base.as_str(),
                _ => input.as_str(),
            };
            type_error(invalid_url("URL constructor", bad))
        })?;
        Ok(Self {
            url,
            search_params: None,
        })
    }

    fn object_constructor(
        instance: &JsObject<Self>,
        _: &[JsValue],
        context: &mut Context,
    ) -> JsResult<()> {
        let list = query_pairs(&instance.borrow().data().url);
        let params = JsUrlSearchParams {
            list,
            url: Some(instance.clone()),
        };
        let params = JsUrlSearchParams::from_data(params, context)?
            .downcast::<JsUrlSearchParams>()
            .map_err(|_| type_error("URL constructor: could not make its URLSearchParams"))?;
        instance.borrow_mut().data_mut().search_params = Some(params);
        Ok(())
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        attribute(
            class,
            "href",
            |this, _, _| read_url(this, "href", |u| u.as_str().to_owned()),
            Some(|this, args, ctx| {
                let u = this_url(this, "href")?;
                let value = string_arg(args, 0, ctx)?;
                let url = url::Url::parse(&value)
                    .map_err(|_| type_error(invalid_url("URL.href setter", &value)))?;
                u.borrow_mut().data_mut().url = url;
                url_query_changed(&u);
                Ok(JsValue::undefined())
            }),
        );
        attribute(
            class,
            "origin",
            |this, _, _| read_url(this, "origin", url::quirks::origin),
            None,
        );
        attribute(
            class,
            "protocol",
            |this, _, _| read_url(this, "protocol", |u| url::quirks::protocol(u).to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "protocol", ctx, |u, v| {
                    let _ = url::quirks::set_protocol(u, v);
                })
            }),
        );
        attribute(
            class,
            "username",
            |this, _, _| read_url(this, "username", |u| u.username().to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "username", ctx, |u, v| {
                    let _ = url::quirks::set_username(u, v);
                })
            }),
        );
        attribute(
            class,
            "password",
            |this, _, _| read_url(this, "password", |u| url::quirks::password(u).to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "password", ctx, |u, v| {
                    let _ = url::quirks::set_password(u, v);
                })
            }),
        );
        attribute(
            class,
            "host",
            |this, _, _| read_url(this, "host", |u| url::quirks::host(u).to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "host", ctx, |u, v| {
                    let _ = url::quirks::set_host(u, v);
                })
            }),
        );
        attribute(
            class,
            "hostname",
            |this, _, _| read_url(this, "hostname", |u| url::quirks::hostname(u).to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "hostname", ctx, |u, v| {
                    let _ = url::quirks::set_hostname(u, v);
                })
            }),
        );
        attribute(
            class,
            "port",
            |this, _, _| read_url(this, "port", |u| url::quirks::port(u).to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "port", ctx, |u, v| {
                    let _ = url::quirks::set_port(u, v);
                })
            }),
        );
        attribute(
            class,
            "pathname",
            |this, _, _| read_url(this, "pathname", |u| url::quirks::pathname(u).to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "pathname", ctx, url::quirks::set_pathname)
            }),
        );
        attribute(
            class,
            "search",
            |this, _, _| read_url(this, "search", |u| url::quirks::search(u).to_owned()),
            Some(|this, args, ctx| {
                write_url(this, args, "search", ctx, url::quirks::set_search)?;
                url_query_changed(&this_url(this, "search")?);
                Ok(JsValue::undefined())
            }),
        );
        attribute(
            class,
            "searchParams",
            |this, _, _| {
                let u = this_url(this, "searchParams")?;
                let params = u.borrow().data().search_params.clone();
                Ok(params.map_or_else(JsValue::null, |p| p.upcast().into()))
            },
            None,
        );
        attribute(
            class,
            "hash",
            |this, _, _| read_url(this, "hash", |u| url::quirks::hash(u).to_owned()),
            Some(|this, args, ctx| write_url(this, args, "hash", ctx, url::quirks::set_hash)),
        );
        operation(class, "toString", 0, |this, _, _| {
            read_url(this, "toString", |u| u.as_str().to_owned())
        });
        operation(class, "toJSON", 0, |this, _, _| {
            read_url(this, "toJSON", |u| u.as_str().to_owned())
        });
        // No @@toStringTag: js-compute 3.46's URL has none.

        // No `URL.canParse` or `URL.parse`: js-compute 3.46's URL has neither.
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// URLSearchParams
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Trace, Finalize, JsData)]
pub struct JsUrlSearchParams {
    #[unsafe_ignore_trace]
    list: Pairs,
    /// The URL whose query object this is, if any.
    url: Option<JsObject<JsUrl>>,
}

fn this_params(this: &JsValue, name: &str) -> JsResult<JsObject<JsUrlSearchParams>> {
    this_as::<JsUrlSearchParams>(this, name, PARAMS_CLASS)
}

/// Changes the receiver's list with `change`, then runs the update steps: the linked URL's
/// query becomes the serialization (none when the list is empty).
fn change_params<R>(
    params: &JsObject<JsUrlSearchParams>,
    change: impl FnOnce(&mut Pairs) -> R,
) -> R {
    let (result, url, serialized) = {
        let mut p = params.borrow_mut();
        let data = p.data_mut();
        let result = change(&mut data.list);
        let url = data.url.clone();
        let serialized = url.as_ref().map(|_| serialize_urlencoded(&data.list));
        (result, url, serialized)
    };
    if let (Some(url), Some(serialized)) = (url, serialized) {
        let query = (!serialized.is_empty()).then_some(serialized.as_str());
        url.borrow_mut().data_mut().url.set_query(query);
    }
    result
}

/// Sorts by name, comparing UTF-16 code units, keeping the order of equal names.
fn sort_pairs(list: &mut Pairs) {
    list.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
}

/// Walks an iterable `object` by the ECMAScript iteration protocol, handing each value to
/// `visit` as it comes (WebIDL "create a sequence from an iterable").
fn iterate(
    object: &JsValue,
    method: &JsValue,
    context: &mut Context,
    mut visit: impl FnMut(JsValue, &mut Context) -> JsResult<()>,
) -> JsResult<()> {
    let method = method
        .as_callable()
        .ok_or_else(|| type_error("URLSearchParams constructor: @@iterator is not callable"))?;
    let iterator = method.call(object, &[], context)?;
    let iterator = iterator
        .as_object()
        .ok_or_else(|| type_error("URLSearchParams constructor: iterator is not an object"))?;
    let next = iterator.get(js_string!("next"), context)?;
    let next = next
        .as_callable()
        .ok_or_else(|| type_error("URLSearchParams constructor: iterator.next is not callable"))?;
    loop {
        let result = next.call(&iterator.clone().into(), &[], context)?;
        let result = result.as_object().ok_or_else(|| {
            type_error("URLSearchParams constructor: iterator result is not an object")
        })?;
        if result.get(js_string!("done"), context)?.to_boolean() {
            return Ok(());
        }
        let value = result.get(js_string!("value"), context)?;
        visit(value, context)?;
    }
}

/// The `@@iterator` method of `value`, or `None` when it has none (undefined or null).
fn iterator_method(value: &JsObject, context: &mut Context) -> JsResult<Option<JsValue>> {
    let method = value.get(JsSymbol::iterator(), context)?;
    Ok((!method.is_null_or_undefined()).then_some(method))
}

/// The list from the constructor's `init`: a sequence of pairs, a record or a string.
fn init_list(init: &JsValue, context: &mut Context) -> JsResult<Pairs> {
    let Some(object) = init.as_object() else {
        if init.is_undefined() {
            return Ok(Vec::new());
        }
        let text = init.to_string(context)?.to_std_string_lossy();
        return Ok(parse_urlencoded(text.strip_prefix('?').unwrap_or(&text)));
    };
    if let Some(method) = iterator_method(&object, context)? {
        // sequence<sequence<USVString>>: every item converted first, then the pairs checked.
        let mut items: Vec<Vec<String>> = Vec::new();
        iterate(init, &method, context, |pair, context| {
            let not_a_pair = || {
                type_error("URLSearchParams constructor: expected a sequence of name/value pairs")
            };
            let inner = pair.as_object().ok_or_else(not_a_pair)?;
            let inner_method = iterator_method(&inner, context)?.ok_or_else(not_a_pair)?;
            let mut strings = Vec::new();
            iterate(&pair, &inner_method, context, |item, context| {
                strings.push(item.to_string(context)?.to_std_string_lossy());
                Ok(())
            })?;
            items.push(strings);
            Ok(())
        })?;
        return items
            .into_iter()
            .map(|item| match <[String; 2]>::try_from(item) {
                Ok([name, value]) => Ok((name, value)),
                Err(_) => Err(type_error(
                    "URLSearchParams constructor: expected name/value pair to be length 2",
                )),
            })
            .collect();
    }
    // A record: the own enumerable properties, in order; a repeated key (two keys may become
    // the same USVString) keeps its first place and takes the last value.
    let mut list: Pairs = Vec::new();
    for key in object.own_property_keys(context)? {
        let enumerable =
            OrdinaryObject::property_is_enumerable(init, &[JsValue::from(key.clone())], context)?;
        if !enumerable.to_boolean() {
            continue;
        }
        let name = match &key {
            PropertyKey::Symbol(_) => {
                return Err(type_error(
                    "URLSearchParams constructor: can't convert a symbol key to a string",
                ))
            }
            key => JsValue::from(key.clone())
                .to_string(context)?
                .to_std_string_lossy(),
        };
        let value = object
            .get(key, context)?
            .to_string(context)?
            .to_std_string_lossy();
        match list.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => list.push((name, value)),
        }
    }
    Ok(list)
}

/// What an iterator over the list yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IterKind {
    Keys,
    Values,
    Entries,
}

fn make_iterator(
    this: &JsValue,
    name: &str,
    kind: IterKind,
    context: &mut Context,
) -> JsResult<JsValue> {
    let params = this_params(this, name)?;
    let iterator = ParamsIterator {
        params,
        kind,
        index: 0,
    };
    Ok(ParamsIterator::from_data(iterator, context)?.into())
}

impl Class for JsUrlSearchParams {
    const NAME: &'static str = PARAMS_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        let list = init_list(&args.first().cloned().unwrap_or_default(), context)?;
        Ok(Self { list, url: None })
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        operation(class, "append", 2, |this, args, ctx| {
            require_args(args, "URLSearchParams.append", 2)?;
            let p = this_params(this, "append")?;
            let (name, value) = (string_arg(args, 0, ctx)?, string_arg(args, 1, ctx)?);
            change_params(&p, |list| list.push((name, value)));
            Ok(JsValue::undefined())
        });
        operation(class, "delete", 1, |this, args, ctx| {
            require_args(args, "URLSearchParams.delete", 1)?;
            let p = this_params(this, "delete")?;
            let name = string_arg(args, 0, ctx)?;
            let value = optional_string_arg(args, 1, ctx)?;
            change_params(&p, |list| {
                list.retain(|(n, v)| *n != name || value.as_ref().is_some_and(|value| v != value));
            });
            Ok(JsValue::undefined())
        });
        operation(class, "get", 1, |this, args, ctx| {
            require_args(args, "URLSearchParams.get", 1)?;
            let p = this_params(this, "get")?;
            let name = string_arg(args, 0, ctx)?;
            let p = p.borrow();
            let found = p.data().list.iter().find(|(n, _)| *n == name);
            Ok(found.map_or_else(JsValue::null, |(_, v)| js_str(v)))
        });
        operation(class, "getAll", 1, |this, args, ctx| {
            require_args(args, "URLSearchParams.getAll", 1)?;
            let p = this_params(this, "getAll")?;
            let name = string_arg(args, 0, ctx)?;
            let values: Vec<JsValue> = p
                .borrow()
                .data()
                .list
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| js_str(v))
                .collect();
            Ok(JsArray::from_iter(values, ctx).into())
        });
        operation(class, "has", 1, |this, args, ctx| {
            require_args(args, "URLSearchParams.has", 1)?;
            let p = this_params(this, "has")?;
            let name = string_arg(args, 0, ctx)?;
            let value = optional_string_arg(args, 1, ctx)?;
            let p = p.borrow();
            let found = p
                .data()
                .list
                .iter()
                .any(|(n, v)| *n == name && value.as_ref().is_none_or(|value| v == value));
            Ok(found.into())
        });
        operation(class, "set", 2, |this, args, ctx| {
            require_args(args, "URLSearchParams.set", 2)?;
            let p = this_params(this, "set")?;
            let (name, value) = (string_arg(args, 0, ctx)?, string_arg(args, 1, ctx)?);
            change_params(&p, |list| match list.iter().position(|(n, _)| *n == name) {
                Some(first) => {
                    list[first].1 = value;
                    let mut i = 0;
                    list.retain(|(n, _)| {
                        i += 1;
                        i - 1 == first || *n != name
                    });
                }
                None => list.push((name, value)),
            });
            Ok(JsValue::undefined())
        });
        operation(class, "sort", 0, |this, _, _| {
            let p = this_params(this, "sort")?;
            change_params(&p, sort_pairs);
            Ok(JsValue::undefined())
        });
        operation(class, "toString", 0, |this, _, _| {
            let p = this_params(this, "toString")?;
            let serialized = serialize_urlencoded(&p.borrow().data().list);
            Ok(js_str(&serialized))
        });
        operation(class, "forEach", 1, |this, args, ctx| {
            require_args(args, "URLSearchParams.forEach", 1)?;
            let p = this_params(this, "forEach")?;
            let callback = args.first().and_then(JsValue::as_callable).ok_or_else(|| {
                type_error("URLSearchParams.forEach: Argument 1 is not callable.")
            })?;
            let this_arg = args.get(1).cloned().unwrap_or_default();
            // Live, as the WebIDL iteration is: the list may change while it is walked.
            let mut index = 0;
            loop {
                let pair = p.borrow().data().list.get(index).cloned();
                let Some((name, value)) = pair else {
                    return Ok(JsValue::undefined());
                };
                callback.call(
                    &this_arg,
                    &[js_str(&value), js_str(&name), this.clone()],
                    ctx,
                )?;
                index += 1;
            }
        });
        // No `size`: js-compute 3.46's URLSearchParams has none.
        operation(class, "keys", 0, |this, _, ctx| {
            make_iterator(this, "keys", IterKind::Keys, ctx)
        });
        operation(class, "values", 0, |this, _, ctx| {
            make_iterator(this, "values", IterKind::Values, ctx)
        });
        let entries = function(class.context(), "entries", 0, |this, _, ctx| {
            make_iterator(this, "entries", IterKind::Entries, ctx)
        });
        class.property(js_string!("entries"), entries.clone(), Attribute::all());
        // WebIDL: `@@iterator` is the very `entries` function, not enumerable.
        class.property(
            JsSymbol::iterator(),
            entries,
            Attribute::WRITABLE | Attribute::CONFIGURABLE,
        );
        // No @@toStringTag, as on Compute.
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// URLSearchParams Iterator
// ---------------------------------------------------------------------------------------------

/// The "default iterator object" of a `URLSearchParams`: live over its list, by index.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct ParamsIterator {
    params: JsObject<JsUrlSearchParams>,
    #[unsafe_ignore_trace]
    kind: IterKind,
    index: usize,
}

fn iter_result(value: JsValue, done: bool, context: &mut Context) -> JsResult<JsValue> {
    let result = JsObject::with_object_proto(context.intrinsics());
    result.create_data_property_or_throw(js_string!("value"), value, context)?;
    result.create_data_property_or_throw(js_string!("done"), done, context)?;
    Ok(result.into())
}

impl Class for ParamsIterator {
    const NAME: &'static str = ITERATOR_CLASS;
    const LENGTH: usize = 0;

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(type_error("Illegal constructor"))
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        operation(class, "next", 0, |this, _, ctx| {
            let it = this_as::<ParamsIterator>(this, "next", ITERATOR_CLASS)?;
            let (params, kind, index) = {
                let it = it.borrow();
                let data = it.data();
                (data.params.clone(), data.kind, data.index)
            };
            let pair = params.borrow().data().list.get(index).cloned();
            let Some((name, value)) = pair else {
                return iter_result(JsValue::undefined(), true, ctx);
            };
            it.borrow_mut().data_mut().index = index + 1;
            let value = match kind {
                IterKind::Keys => js_str(&name),
                IterKind::Values => js_str(&value),
                IterKind::Entries => {
                    JsArray::from_iter([js_str(&name), js_str(&value)], ctx).into()
                }
            };
            iter_result(value, false, ctx)
        });
        class.property(
            JsSymbol::to_string_tag(),
            js_string!("URLSearchParams Iterator"),
            Attribute::CONFIGURABLE,
        );
        Ok(())
    }
}

/// Registers the iterator class in the realm only (it has no global name), with
/// `%IteratorPrototype%` as its prototype's prototype and no `constructor`.
fn register_iterator(context: &mut Context) -> JsResult<()> {
    let mut builder = ClassBuilder::new::<ParamsIterator>(context);
    ParamsIterator::init(&mut builder)?;
    let class = builder.build();
    let prototype = class.prototype();
    let iterator_prototype = context
        .intrinsics()
        .objects()
        .iterator_prototypes()
        .array()
        .prototype();
    prototype.set_prototype(iterator_prototype);
    prototype.delete_property_or_throw(js_string!("constructor"), context)?;
    context.realm().register_class::<ParamsIterator>(class);
    Ok(())
}

/// Registers `URL` and `URLSearchParams` as global classes.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsUrl>()?;
    context.register_global_class::<JsUrlSearchParams>()?;
    register_iterator(context)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use boa_engine::Source;

    fn context() -> Context {
        let mut context = Context::default();
        register(&mut context).unwrap();
        context
    }

    fn eval(context: &mut Context, code: &str) -> JsValue {
        context.eval(Source::from_bytes(code)).unwrap()
    }

    #[test]
    fn parse_failures_name_the_part_that_failed() {
        assert_eq!(parse_url("x", None).unwrap_err(), ParseFailure::Input);
        assert_eq!(
            parse_url("/x", Some("nope")).unwrap_err(),
            ParseFailure::Base
        );
        assert_eq!(
            parse_url("x", Some("mailto:a")).unwrap_err(),
            ParseFailure::Input
        );
        assert_eq!(
            parse_url("../c", Some("http://a/b/")).unwrap().as_str(),
            "http://a/c"
        );
    }

    #[test]
    fn urlencoded_round_trip() {
        let list = parse_urlencoded("a=b+c&&d%20e=%F0%9F%92%A9&f");
        assert_eq!(
            list,
            vec![
                ("a".to_owned(), "b c".to_owned()),
                ("d e".to_owned(), "\u{1f4a9}".to_owned()),
                ("f".to_owned(), String::new()),
            ]
        );
        assert_eq!(serialize_urlencoded(&list), "a=b+c&d+e=%F0%9F%92%A9&f=");
    }

    #[test]
    fn sort_is_by_utf16_code_units_and_stable() {
        let mut list = parse_urlencoded("\u{fb03}=1&\u{1f308}=2&\u{fb03}=3");
        sort_pairs(&mut list);
        let names: Vec<_> = list.iter().map(|(n, v)| format!("{n}{v}")).collect();
        assert_eq!(names, ["\u{1f308}2", "\u{fb03}1", "\u{fb03}3"]);
    }

    #[test]
    fn serialize_params_only_for_url_search_params() {
        let mut context = context();
        let params = eval(
            &mut context,
            "new URLSearchParams({ a: 'b c', d: '\\uD800' })",
        );
        let params = params.as_object().unwrap();
        assert_eq!(
            serialize_params(&params).as_deref(),
            Some("a=b+c&d=%EF%BF%BD")
        );
        let plain = eval(&mut context, "({ a: 'b' })");
        assert_eq!(serialize_params(&plain.as_object().unwrap()), None);
        let url = eval(&mut context, "new URL('http://x/?q=1')");
        assert_eq!(serialize_params(&url.as_object().unwrap()), None);
    }

    #[test]
    fn the_links_survive_garbage_collection() {
        let mut context = context();
        // The URL is reachable only through its params, the params only through an iterator.
        eval(
            &mut context,
            "globalThis.it = new URL('http://a/?x=1&y=2').searchParams.keys();
             for (let i = 0; i < 2000; i++) {
               const u = new URL('http://a/?q=' + i);
               u.searchParams.append('a', 'b');
               u.search = 'c=d';
             }",
        );
        boa_gc::force_collect();
        let first = eval(&mut context, "it.next().value");
        assert_eq!(first.as_string().unwrap().to_std_string_escaped(), "x");
        let iterator = eval(&mut context, "it").as_object().unwrap();
        let params = iterator
            .downcast_ref::<ParamsIterator>()
            .unwrap()
            .params
            .clone();
        boa_gc::force_collect();
        let url = params.borrow().data().url.clone().unwrap();
        change_params(&params, |list| list.push(("z".into(), "3".into())));
        assert_eq!(url.borrow().data().url.as_str(), "http://a/?x=1&y=2&z=3");
    }
}
