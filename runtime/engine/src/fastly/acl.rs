//! `fastly:acl`: `Acl.open(name)` and `acl.lookup(address)` over the ACLs of fastly.toml's
//! `[local_server.acls]`, as Viceroy serves them: the longest matching prefix wins (the later
//! entry among equals), and the answer is `{ prefix, action }` or `null`.
//!
//! Checks and messages are js-compute-runtime's (`builtins/acl.cpp`, `error_numbers.msg`);
//! its `lookup` returns the answer itself, not a promise.
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:acl/Acl/>.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::rc::Rc;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsError, JsNativeError, JsObject, JsResult, JsValue,
    Trace,
};
use serde::{Deserialize, Serialize};

use crate::class_util::{
    constructor_of, define_enumerable_method, not_constructible, register_no_constructor_class,
    require_args, this_as,
};

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:acl";

const CLASS: &str = "Acl";

/// One entry of an ACL: a network and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    /// The network's address, already masked.
    pub ip: IpAddr,
    /// Its prefix length (1-32 or 1-128).
    pub mask: u8,
    /// `ALLOW`, `BLOCK`, or (as Viceroy prints others) `Other(<as written>)`.
    pub action: String,
}

impl AclEntry {
    /// The entry for `ip/mask`, the address masked as Viceroy masks it.
    pub fn new(ip: IpAddr, mask: u8, action: String) -> Self {
        let ip = masked(ip, mask);
        Self { ip, mask, action }
    }

    fn matches(&self, ip: IpAddr) -> bool {
        masked(ip, self.mask) == self.ip
    }
}

fn masked(ip: IpAddr, mask: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = mask.clamp(1, 32);
            IpAddr::V4((v4.to_bits() & (u32::MAX << (32 - mask))).into())
        }
        IpAddr::V6(v6) => {
            let mask = mask.clamp(1, 128);
            IpAddr::V6((v6.to_bits() & (u128::MAX << (128 - mask))).into())
        }
    }
}

/// The ACLs of fastly.toml, by name: context data.
#[derive(Debug, Clone, Default)]
struct Acls(Rc<BTreeMap<String, Rc<Vec<AclEntry>>>>);

/// The longest matching prefix; among equals, the later entry.
fn lookup(entries: &[AclEntry], ip: IpAddr) -> Option<&AclEntry> {
    entries.iter().fold(None, |best, entry| {
        if entry.matches(ip) && best.is_none_or(|b: &AclEntry| entry.mask >= b.mask) {
            Some(entry)
        } else {
            best
        }
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    #[error("Acl open: name must be a string")]
    NameNotString,
    #[error("Acl open: name can not be more than 254 characters")]
    NameTooLong,
    #[error("Acl open: name can not be an empty string")]
    NameEmpty,
    #[error("Acl open: \"{0}\" acl not found")]
    NotFound(String),
    #[error("Invalid address passed to acl.lookup")]
    InvalidAddress,
}

impl From<AclError> for JsError {
    fn from(error: AclError) -> Self {
        let message = error.to_string();
        match error {
            AclError::InvalidAddress => JsNativeError::error().with_message(message).into(),
            _ => JsNativeError::typ().with_message(message).into(),
        }
    }
}

/// An open ACL.
#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsAcl {
    #[unsafe_ignore_trace]
    entries: Rc<Vec<AclEntry>>,
}

impl Class for JsAcl {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(JsNativeError::typ()
            .with_message(not_constructible(CLASS))
            .into())
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

/// The name rules, in the platform's order; the length is in UTF-16 units, as SpiderMonkey
/// counts it.
fn check_name(name: &JsValue) -> Result<String, AclError> {
    let name = name.as_string().ok_or(AclError::NameNotString)?;
    if name.len() > 254 {
        return Err(AclError::NameTooLong);
    }
    if name.is_empty() {
        return Err(AclError::NameEmpty);
    }
    Ok(name.to_std_string_lossy())
}

fn open(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "Acl open", 1)?;
    let name = check_name(&args[0])?;
    let entries = context
        .get_data::<Acls>()
        .and_then(|acls| acls.0.get(&name).cloned())
        .ok_or(AclError::NotFound(name))?;
    let prototype = context
        .get_global_class::<JsAcl>()
        .ok_or_else(|| JsNativeError::typ().with_message("Acl is not registered"))?
        .prototype();
    Ok(JsObject::from_proto_and_data(Some(prototype), JsAcl { entries }).into())
}

/// `inet_pton`'s reading: with a `:` an IPv6 address, else a dotted-quad IPv4 one.
fn parse_address(text: &str) -> Option<IpAddr> {
    if text.contains(':') {
        text.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        text.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

fn lookup_method(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let acl = this_as::<JsAcl>(this, "lookup", CLASS)?;
    require_args(args, "lookup", 1)?;
    let text = args[0].to_string(context)?.to_std_string_lossy();
    let ip = parse_address(&text).ok_or(AclError::InvalidAddress)?;
    let entries = acl.borrow().data().entries.clone();
    let Some(entry) = lookup(&entries, ip) else {
        return Ok(JsValue::null());
    };
    // Viceroy's JSON: `prefix` first, then `action`.
    let answer = serde_json::json!({
        "prefix": format!("{}/{}", entry.ip, entry.mask),
        "action": entry.action,
    });
    JsValue::from_json(&answer, context)
}

/// Registers the global `Acl` over `acls` (name to entries).
pub fn register(acls: &BTreeMap<String, Vec<AclEntry>>, context: &mut Context) -> JsResult<()> {
    let acls = acls
        .iter()
        .map(|(name, entries)| (name.clone(), Rc::new(entries.clone())))
        .collect();
    context.insert_data(Acls(Rc::new(acls)));
    let (constructor, prototype) = register_no_constructor_class::<JsAcl>(context)?;
    define_enumerable_method(&constructor, "open", 1, open, context)?;
    define_enumerable_method(&prototype, "lookup", 1, lookup_method, context)
}

/// `fastly:acl`: `Acl`.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("Acl")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let constructor = constructor_of::<JsAcl>(context)?;
            module.set_export(&js_string!("Acl"), constructor)
        }),
        None,
        None,
        context,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(prefix: &str, action: &str) -> AclEntry {
        let (ip, mask) = prefix.split_once('/').expect("IP/MASK");
        AclEntry::new(
            ip.parse().expect("ip"),
            mask.parse().expect("mask"),
            action.into(),
        )
    }

    #[test]
    fn the_longest_prefix_wins_and_the_later_among_equals() {
        let entries = [
            entry("100.100.0.0/16", "BLOCK"),
            entry("100.100.100.0/24", "ALLOW"),
            entry("100.100.100.0/24", "Other(LOG)"),
            entry("2a03:4b80::/32", "ALLOW"),
        ];
        let find = |ip: &str| lookup(&entries, ip.parse().expect("ip")).map(|e| e.action.clone());
        assert_eq!(find("100.100.1.1").as_deref(), Some("BLOCK"));
        assert_eq!(find("100.100.100.7").as_deref(), Some("Other(LOG)"));
        assert_eq!(find("2a03:4b80::1").as_deref(), Some("ALLOW"));
        assert_eq!(find("100.99.100.100"), None);
        assert_eq!(find("2a04:4b80::1"), None);
        // An entry's address is stored masked, as Viceroy prints it.
        assert_eq!(
            entry("10.1.2.3/8", "ALLOW").ip,
            "10.0.0.0".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn addresses_read_as_inet_pton_reads_them() {
        assert!(parse_address("999.999.999.999").is_none());
        assert!(parse_address("not ip").is_none());
        assert!(parse_address("5").is_none());
        assert!(parse_address("::1").is_some());
    }
}
