//! `[local_server.geolocation]`: what `getGeolocationForIpAddress` and `event.client.geo`
//! answer, read as Viceroy reads it (its `src/config/geolocation.rs`; the wording of each
//! problem is Viceroy's).
//!
//! ```toml
//! [local_server.geolocation]
//! use_default_loopback = true       # loopback addresses get Viceroy's San Francisco data
//! format = "inline-toml"
//! [local_server.geolocation.addresses."203.0.113.7"]
//! country_code = "DE"
//! city = "Berlin"
//! ```
//!
//! or `format = "json"` with `file = "geo.json"` (an object of address to object, relative to
//! the working directory). Viceroy reads the JSON file again at each lookup; edgeshim reads it
//! at start.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use super::mapping_file::{object_json, read_entries, FileProblem};

use edgeshim_engine::Geolocation;

/// What is wrong with the table: Viceroy's `GeolocationConfigError` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeolocationProblem {
    #[error("{0}")]
    Io(String),
    #[error("definition was not provided as a TOML table")]
    InvalidEntryType,
    #[error("missing 'file' field")]
    MissingFile,
    #[error("'file' field is empty")]
    EmptyFileEntry,
    #[error("missing 'addresses' field")]
    MissingAddresses,
    #[error("inline geolocation value was not a string")]
    InvalidInlineEntryType,
    #[error("'file' field was not a string")]
    InvalidFileEntry,
    #[error("'addresses' was not provided as a TOML table")]
    InvalidAddressesType,
    #[error("'format' field was not a string")]
    InvalidFormatEntry,
    #[error("IP address not valid: '{0}'")]
    InvalidAddressEntry(String),
    #[error("'{0}' is not a valid format for the geolocation mapping. Supported format(s) are: 'inline-toml', 'json'.")]
    InvalidMappingFormat(String),
    #[error(
        "The file is of the wrong format. The file is expected to contain a single JSON Object"
    )]
    FileWrongFormat,
    #[error("'format' field is empty")]
    EmptyFormatEntry,
}

/// Reads the table.
pub fn parse(table: &toml::Table, base_dir: &Path) -> Result<Geolocation, GeolocationProblem> {
    use toml::Value;
    let mut table = table.clone();
    let use_default_loopback = match table.remove("use_default_loopback") {
        None => true,
        Some(Value::Boolean(on)) => on,
        Some(_) => return Err(GeolocationProblem::InvalidEntryType),
    };
    let addresses = match table.remove("format") {
        None => BTreeMap::new(),
        Some(Value::String(format)) => match format.as_str() {
            "inline-toml" => inline(&mut table)?,
            "json" => json_file(&mut table, base_dir)?,
            "" => return Err(GeolocationProblem::EmptyFormatEntry),
            other => return Err(GeolocationProblem::InvalidMappingFormat(other.to_owned())),
        },
        Some(_) => return Err(GeolocationProblem::InvalidFormatEntry),
    };
    Ok(Geolocation {
        use_default_loopback,
        addresses,
    })
}

fn address(text: &str) -> Result<IpAddr, GeolocationProblem> {
    text.parse().map_err(|e: std::net::AddrParseError| {
        GeolocationProblem::InvalidAddressEntry(e.to_string())
    })
}

fn inline(table: &mut toml::Table) -> Result<BTreeMap<IpAddr, String>, GeolocationProblem> {
    use toml::Value;
    let addresses = match table.remove("addresses") {
        None => return Err(GeolocationProblem::MissingAddresses),
        Some(Value::Table(addresses)) => addresses,
        Some(_) => return Err(GeolocationProblem::InvalidAddressesType),
    };
    addresses
        .into_iter()
        .map(|(text, value)| {
            let ip = address(&text)?;
            let Value::Table(fields) = value else {
                return Err(GeolocationProblem::InvalidInlineEntryType);
            };
            let data = fields
                .into_iter()
                .map(|(field, value)| {
                    let value = match value {
                        Value::String(s) => serde_json::Value::String(s),
                        Value::Integer(i) => serde_json::Value::from(i),
                        Value::Float(f) => serde_json::Number::from_f64(f)
                            .map(serde_json::Value::Number)
                            .ok_or(GeolocationProblem::InvalidInlineEntryType)?,
                        Value::Boolean(b) => serde_json::Value::Bool(b),
                        _ => return Err(GeolocationProblem::InvalidInlineEntryType),
                    };
                    Ok((field, value))
                })
                .collect::<Result<serde_json::Map<_, _>, _>>()?;
            Ok((ip, serde_json::Value::Object(data).to_string()))
        })
        .collect()
}

fn json_file(
    table: &mut toml::Table,
    base_dir: &Path,
) -> Result<BTreeMap<IpAddr, String>, GeolocationProblem> {
    read_entries(table, base_dir)?
        .into_iter()
        .map(|(key, value)| {
            let key = address(&key)?;
            Ok((key, object_json(&value)?))
        })
        .collect()
}

impl From<FileProblem> for GeolocationProblem {
    fn from(problem: FileProblem) -> Self {
        match problem {
            FileProblem::Missing => Self::MissingFile,
            FileProblem::Empty => Self::EmptyFileEntry,
            FileProblem::NotAString => Self::InvalidFileEntry,
            FileProblem::Io(message) => Self::Io(message),
            FileProblem::NotAnObject => Self::FileWrongFormat,
            FileProblem::EntryNotAnObject => Self::InvalidInlineEntryType,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Geolocation, GeolocationProblem> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        parse(&table, Path::new("/nonexistent"))
    }

    #[test]
    fn inline_addresses_keep_their_types() {
        let geo = parse_text(
            "use_default_loopback = false\nformat = \"inline-toml\"\n\
             [addresses.\"2001:db8::1\"]\ncity = \"Berlin\"\nas_number = 3320\nlatitude = 52.5\n",
        )
        .expect("valid");
        assert!(!geo.use_default_loopback);
        let ip: IpAddr = "2001:db8::1".parse().expect("an address");
        assert_eq!(
            geo.addresses[&ip],
            r#"{"as_number":3320,"city":"Berlin","latitude":52.5}"#
        );
    }

    #[test]
    fn viceroys_messages_for_each_mistake() {
        let cases = [
            ("use_default_loopback = 1", "definition was not provided as a TOML table"),
            ("format = 1", "'format' field was not a string"),
            ("format = \"\"", "'format' field is empty"),
            ("format = \"yaml\"", "'yaml' is not a valid format for the geolocation mapping. Supported format(s) are: 'inline-toml', 'json'."),
            ("format = \"inline-toml\"", "missing 'addresses' field"),
            ("format = \"inline-toml\"\naddresses = 1", "'addresses' was not provided as a TOML table"),
            ("format = \"inline-toml\"\n[addresses]\n\"1.2.3\" = { city = \"x\" }", "IP address not valid: 'invalid IP address syntax'"),
            ("format = \"inline-toml\"\n[addresses]\n\"1.2.3.4\" = { city = [1] }", "inline geolocation value was not a string"),
            ("format = \"json\"", "missing 'file' field"),
            ("format = \"json\"\nfile = \"\"", "'file' field is empty"),
            ("format = \"json\"\nfile = 1", "'file' field was not a string"),
        ];
        for (text, message) in cases {
            let problem = parse_text(text).expect_err(text);
            assert_eq!(problem.to_string(), message, "for {text}");
        }
    }

    #[test]
    fn no_table_entries_means_loopback_defaults_only() {
        let geo = parse_text("").expect("valid");
        assert!(geo.use_default_loopback);
        assert!(geo.addresses.is_empty());
    }
}
