//! `fastly:geolocation`: `getGeolocationForIpAddress(address)`, and the data behind
//! `event.client.geo`, from fastly.toml's `[local_server.geolocation]` as Viceroy serves it:
//! the configured addresses first, then (unless `use_default_loopback = false`) Viceroy's
//! San Francisco data for loopback addresses; anything else is `null`.
//!
//! Checks and messages are js-compute-runtime's (`builtins/fastly.cpp`).
//! Reference: <https://js-compute-reference-docs.edgecompute.app/docs/fastly:geolocation/getGeolocationForIpAddress>.

use std::collections::BTreeMap;
use std::net::IpAddr;

use boa_engine::module::{Module, SyntheticModuleInitializer};
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::{
    js_string, Context, JsError, JsNativeError, JsObject, JsResult, JsValue, NativeFunction,
};
use serde::{Deserialize, Serialize};

use crate::class_util::require_args;
use crate::host::Phase;

/// The module specifier apps import.
pub const SPECIFIER: &str = "fastly:geolocation";

/// What Viceroy answers for a loopback address (its `GeolocationData::default`), keys in the
/// order its JSON has them.
const LOOPBACK_DATA: &str = r#"{"area_code":415,"as_name":"Fastly, Inc","as_number":54113,"city":"San Francisco","conn_speed":"broadband","conn_type":"wired","continent":"NA","country_code":"US","country_code3":"USA","country_name":"United States of America","latitude":37.77869,"longitude":-122.39557,"metro_code":0,"postal_code":"94107","proxy_description":"?","proxy_type":"?","region":"CA","utc_offset":-700}"#;

/// The geolocation data of fastly.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geolocation {
    /// Whether loopback addresses not in `addresses` get Viceroy's default data.
    pub use_default_loopback: bool,
    /// Address to its data, a JSON object.
    pub addresses: BTreeMap<IpAddr, String>,
}

impl Default for Geolocation {
    fn default() -> Self {
        Self {
            use_default_loopback: true,
            addresses: BTreeMap::new(),
        }
    }
}

impl Geolocation {
    /// The JSON data for `address`, or `None`.
    fn lookup(&self, address: IpAddr) -> Option<&str> {
        self.addresses
            .get(&address)
            .map(String::as_str)
            .or_else(|| {
                (self.use_default_loopback && address.is_loopback()).then_some(LOOPBACK_DATA)
            })
    }

    /// The data for `address` as a JS value: an object, or `null`.
    pub(crate) fn value_for(context: &mut Context, address: IpAddr) -> JsResult<JsValue> {
        let json = context
            .get_data::<Self>()
            .and_then(|geo| geo.lookup(address).map(str::to_owned));
        let Some(json) = json else {
            return Ok(JsValue::null());
        };
        let value: serde_json::Value = serde_json::from_str(&json)
            .map_err(|e| JsNativeError::syntax().with_message(e.to_string()))?;
        JsValue::from_json(&value, context)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeolocationError {
    #[error(
        "{}",
        crate::fastly::texts::request_handler_only("fastly.getGeolocationForIpAddress")
    )]
    RequestHandlerOnly,
    #[error("Invalid address passed to fastly.getGeolocationForIpAddress")]
    InvalidAddress,
}

impl From<GeolocationError> for JsError {
    fn from(error: GeolocationError) -> Self {
        JsNativeError::error()
            .with_message(error.to_string())
            .into()
    }
}

/// `inet_pton`'s reading: with a `:` an IPv6 address, else a dotted-quad IPv4 one.
fn parse_address(text: &str) -> Result<IpAddr, GeolocationError> {
    let parsed = if text.contains(':') {
        text.parse::<std::net::Ipv6Addr>().map(IpAddr::V6)
    } else {
        text.parse::<std::net::Ipv4Addr>().map(IpAddr::V4)
    };
    parsed.map_err(|_| GeolocationError::InvalidAddress)
}

pub(crate) fn get_geolocation_for_ip_address(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    if !Phase::in_request(context) {
        return Err(GeolocationError::RequestHandlerOnly.into());
    }
    require_args(args, "fastly.getGeolocationForIpAddress", 1)?;
    let text = args[0].to_string(context)?.to_std_string_lossy();
    let address = parse_address(&text)?;
    Geolocation::value_for(context, address)
}

/// Installs the data as context data.
pub fn install(geolocation: &Geolocation, context: &mut Context) {
    context.insert_data(geolocation.clone());
}

/// The `getGeolocationForIpAddress` function object.
pub fn function(context: &mut Context) -> JsObject {
    let realm = context.realm().clone();
    FunctionObjectBuilder::new(
        &realm,
        NativeFunction::from_fn_ptr(get_geolocation_for_ip_address),
    )
    .name(js_string!("getGeolocationForIpAddress"))
    .length(1)
    .constructor(false)
    .build()
    .into()
}

/// `fastly:geolocation`: `getGeolocationForIpAddress`.
pub fn module(context: &mut Context) -> Module {
    Module::synthetic(
        &[js_string!("getGeolocationForIpAddress")],
        SyntheticModuleInitializer::from_copy_closure(|module, context| {
            let function = function(context);
            module.set_export(&js_string!("getGeolocationForIpAddress"), function.into())
        }),
        None,
        None,
        context,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_inet_pton_reads_them() {
        assert_eq!(
            parse_address("127.0.0.1"),
            Ok("127.0.0.1".parse().expect("ip"))
        );
        assert_eq!(parse_address("::1"), Ok("::1".parse().expect("ip")));
        assert_eq!(
            parse_address("::ffff:1.2.3.4"),
            Ok("::ffff:1.2.3.4".parse().expect("ip"))
        );
        for bad in [
            "",
            "1.2.3",
            "01.2.3.4",
            "localhost",
            "1.2.3.4:80",
            "fe80::1%eth0",
        ] {
            assert_eq!(
                parse_address(bad),
                Err(GeolocationError::InvalidAddress),
                "{bad}"
            );
        }
    }

    #[test]
    fn configured_addresses_then_loopback_defaults() {
        let mut geo = Geolocation::default();
        let berlin: IpAddr = "203.0.113.7".parse().expect("ip");
        geo.addresses.insert(berlin, r#"{"city":"Berlin"}"#.into());
        assert_eq!(geo.lookup(berlin), Some(r#"{"city":"Berlin"}"#));
        assert_eq!(
            geo.lookup("127.0.0.1".parse().expect("ip")),
            Some(LOOPBACK_DATA)
        );
        assert_eq!(geo.lookup("::1".parse().expect("ip")), Some(LOOPBACK_DATA));
        assert_eq!(geo.lookup("198.51.100.1".parse().expect("ip")), None);
        geo.use_default_loopback = false;
        assert_eq!(geo.lookup("127.0.0.1".parse().expect("ip")), None);
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(LOOPBACK_DATA)
                .expect("JSON")
                .keys()
                .cloned()
                .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            keys, sorted,
            "serde_json's maps are sorted, as Viceroy's output is"
        );
    }
}
