//! The shape of the global surface as js-compute 3.46 has it: for every global and module
//! export in the reference dump (`runtime/engine/surface/*.json`, made on the official
//! toolchain by `fixtures/surface/dump-app.js`), the members both runtimes have get the
//! reference's enumerability and writability, and its own-key order.
//!
//! Boa and the JS built-ins define members in their own order and mostly non-enumerable
//! (WebIDL methods are enumerable on Compute); apps see the difference in `for…in`,
//! `Object.keys` and spreads. Only configurable properties are changed; flags only when both
//! sides agree on the kind (data or accessor); members either side lacks are left alone (they
//! are listed in `fixtures/surface/expected-differences.txt`, checked by `tests/surface.rs`).

use std::sync::OnceLock;

use boa_engine::property::{PropertyDescriptor, PropertyKey};
use boa_engine::{Context, JsObject, JsResult, JsString, JsSymbol, JsValue};
use serde::de::{Deserializer, MapAccess, Visitor};

const GLOBALS: &str = include_str!("../surface/globals-js-compute-3.46.json");
const MODULES: &str = include_str!("../surface/modules-js-compute-3.46.json");

/// A JSON document with its keys in document order (serde_json's maps sort them).
#[derive(Debug)]
enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Node::Leaf(_) => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Leaf(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Node>()? {
                    entries.push((k, v));
                }
                Ok(Node::Map(entries))
            }
        }
        de.deserialize_any(V)
    }
}

fn reference(which: &'static str) -> &'static Node {
    static GLOBALS_NODE: OnceLock<Node> = OnceLock::new();
    static MODULES_NODE: OnceLock<Node> = OnceLock::new();
    let (cell, text) = if which == "globals" {
        (&GLOBALS_NODE, GLOBALS)
    } else {
        (&MODULES_NODE, MODULES)
    };
    cell.get_or_init(|| serde_json::from_str(text).unwrap_or(Node::Map(Vec::new())))
}

/// A reference kind: data (`<typeof>` then W, E, C) or accessor (`accessor` then G, S, E, C).
struct Kind {
    accessor: bool,
    writable: bool,
    enumerable: bool,
}

fn kind(text: &str) -> Option<Kind> {
    if let Some(flags) = text.strip_prefix("accessor") {
        return Some(Kind {
            accessor: true,
            writable: false,
            enumerable: flags.contains('E'),
        });
    }
    let types = [
        "function",
        "object",
        "number",
        "string",
        "boolean",
        "undefined",
        "symbol",
        "bigint",
    ];
    let flags = types.iter().find_map(|t| text.strip_prefix(t))?;
    Some(Kind {
        accessor: false,
        writable: flags.contains('W'),
        enumerable: flags.contains('E'),
    })
}

/// The dump's name of a key: a string, or `Symbol(Symbol.<name>)` for a well-known symbol.
fn property_key(name: &str) -> Option<PropertyKey> {
    let Some(symbol) = name
        .strip_prefix("Symbol(Symbol.")
        .and_then(|s| s.strip_suffix(')'))
    else {
        return Some(JsString::from(name).into());
    };
    let symbol = match symbol {
        "toStringTag" => JsSymbol::to_string_tag(),
        "iterator" => JsSymbol::iterator(),
        "asyncIterator" => JsSymbol::async_iterator(),
        "species" => JsSymbol::species(),
        "toPrimitive" => JsSymbol::to_primitive(),
        "hasInstance" => JsSymbol::has_instance(),
        "isConcatSpreadable" => JsSymbol::is_concat_spreadable(),
        "match" => JsSymbol::r#match(),
        "matchAll" => JsSymbol::match_all(),
        "replace" => JsSymbol::replace(),
        "search" => JsSymbol::search(),
        "split" => JsSymbol::split(),
        "unscopables" => JsSymbol::unscopables(),
        _ => return None,
    };
    Some(symbol.into())
}

/// Gives `object`'s members the flags and order of `members` (a reference property map).
fn conform_object(object: &JsObject, members: &Node, context: &mut Context) -> JsResult<()> {
    let Node::Map(members) = members else {
        return Ok(());
    };
    for (name, expected) in members {
        let (Some(key), Node::Leaf(expected)) = (property_key(name), expected) else {
            continue;
        };
        let Some(expected) = kind(expected) else {
            continue;
        };
        let Some(current) = object.borrow().properties().get(&key) else {
            continue;
        };
        if current.configurable() != Some(true) {
            continue;
        }
        // Delete and define again: the key moves to the end, so the reference's order
        // results once every member has been through here. A member whose kind differs
        // (a lazily evaluated accessor, say) keeps its own descriptor but takes its place.
        let same_kind = current.is_accessor_descriptor() == expected.accessor;
        let enumerable = if same_kind {
            expected.enumerable
        } else {
            current.enumerable().unwrap_or(false)
        };
        let mut descriptor = PropertyDescriptor::builder()
            .enumerable(enumerable)
            .configurable(true);
        if current.is_accessor_descriptor() {
            if let Some(get) = current.get() {
                descriptor = descriptor.get(get.clone());
            }
            if let Some(set) = current.set() {
                descriptor = descriptor.set(set.clone());
            }
        } else {
            let writable = if same_kind {
                expected.writable
            } else {
                current.writable().unwrap_or(false)
            };
            descriptor = descriptor
                .value(current.value().cloned().unwrap_or_default())
                .writable(writable);
        }
        object.delete_property_or_throw(key.clone(), context)?;
        object.define_property_or_throw(key, descriptor, context)?;
    }
    Ok(())
}

/// Conforms `value` (a global or an export) to its reference `entry`: its own members, its
/// prototype's (for a constructor), its prototype object's (for an instance such as
/// `performance`).
fn conform_value(value: &JsValue, entry: &Node, context: &mut Context) -> JsResult<()> {
    let Some(object) = value.as_object() else {
        return Ok(());
    };
    if let Some(own) = entry.get("own") {
        conform_object(&object, own, context)?;
    }
    if let Some(proto) = entry.get("proto") {
        if let Some(prototype) = object
            .get(JsString::from("prototype"), context)?
            .as_object()
        {
            conform_object(&prototype, proto, context)?;
        }
    }
    if let Some(proto) = entry.get("protoOfObject") {
        if let Some(prototype) = object.prototype() {
            conform_object(&prototype, proto, context)?;
        }
    }
    Ok(())
}

/// Conforms the globals named in `names` that are data properties now (a lazily loaded
/// library's globals are accessors until first used: [`crate::js_lib`] calls this when it
/// loads one), and their binding on the global object.
pub fn conform_globals<'a>(
    names: impl IntoIterator<Item = &'a str>,
    context: &mut Context,
) -> JsResult<()> {
    let reference = reference("globals");
    let global = context.global_object();
    let mut bindings = Vec::new();
    for name in names {
        let Some(entry) = reference.get(name) else {
            continue;
        };
        let key = PropertyKey::from(JsString::from(name));
        let Some(current) = global.borrow().properties().get(&key) else {
            continue;
        };
        let Some(value) = current.value().cloned() else {
            continue;
        };
        conform_value(&value, entry, context)?;
        if let Some(Node::Leaf(k)) = entry.get("kind") {
            bindings.push((name.to_owned(), Node::Leaf(k.clone())));
        }
    }
    conform_object(&global, &Node::Map(bindings), context)
}

/// Conforms every global of the reference that exists now.
pub fn conform_all_globals(context: &mut Context) -> JsResult<()> {
    let Node::Map(entries) = reference("globals") else {
        return Ok(());
    };
    conform_globals(entries.iter().map(|(name, _)| name.as_str()), context)
}

/// Conforms the export `name` of the module `fastly:<module>`.
pub fn conform_export(
    module: &str,
    name: &str,
    value: &JsValue,
    context: &mut Context,
) -> JsResult<()> {
    match reference("modules").get(module).and_then(|m| m.get(name)) {
        Some(entry) => conform_value(value, entry, context),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_parses_in_document_order() {
        let Node::Map(globals) = reference("globals") else {
            panic!("the globals reference is not an object");
        };
        assert!(globals.len() > 100);
        assert_eq!(globals[0].0, "undefined");
        let acl = reference("modules").get("acl").and_then(|m| m.get("Acl"));
        let Some(Node::Map(acl)) = acl.and_then(|a| a.get("own")).map(|o| o as &Node) else {
            panic!("no Acl");
        };
        let keys: Vec<&str> = acl.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["prototype", "open", "length", "name"]);
    }

    #[test]
    fn kinds_read_as_the_dump_writes_them() {
        let k = kind("functionWEC").expect("a kind");
        assert!(!k.accessor && k.writable && k.enumerable);
        let k = kind("accessorGSEC").expect("a kind");
        assert!(k.accessor && k.enumerable);
        let k = kind("numberC").expect("a kind");
        assert!(!k.writable && !k.enumerable);
        assert!(property_key("Symbol(Symbol.toStringTag)").is_some());
        assert!(property_key("Symbol(Symbol.nope)").is_none());
    }
}
