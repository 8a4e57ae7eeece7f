//! `[local_server.device_detection]`: the user agents `Device.lookup` knows, read as Viceroy
//! reads them (its `src/config/device_detection.rs`; the wording of each problem is
//! Viceroy's).
//!
//! ```toml
//! [local_server.device_detection]
//! format = "inline-toml"
//! [local_server.device_detection.user_agents."Mozilla/5.0 (iPhone ...)"]
//! device = { name = "iPhone", brand = "Apple", is_mobile = true }
//! ```
//!
//! or `format = "json"` with `file = "devices.json"` (an object of user agent to object,
//! relative to the working directory). Viceroy reads the file again at each lookup;
//! edgeshim reads it at start.

use std::collections::BTreeMap;
use std::path::Path;

use super::mapping_file::{object_json, read_entries, FileProblem};

/// What is wrong with the table: Viceroy's `DeviceDetectionConfigError` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceDetectionProblem {
    #[error("{0}")]
    Io(String),
    #[error("definition was not provided as a TOML table")]
    InvalidEntryType,
    #[error("missing 'file' field")]
    MissingFile,
    #[error("'file' field is empty")]
    EmptyFileEntry,
    #[error("missing 'user_agents' field")]
    MissingUserAgents,
    #[error("inline device detection value was not a string")]
    InvalidInlineEntryType,
    #[error("'file' field was not a string")]
    InvalidFileEntry,
    #[error("'user_agents' was not provided as a TOML table")]
    InvalidUserAgentsType,
    #[error("'format' field was not a string")]
    InvalidFormatEntry,
    #[error("'{0}' is not a valid format for the device detection mapping. Supported format(s) are: 'inline-toml', 'json'.")]
    InvalidMappingFormat(String),
    #[error(
        "The file is of the wrong format. The file is expected to contain a single JSON Object"
    )]
    FileWrongFormat,
    #[error("'format' field is empty")]
    EmptyFormatEntry,
}

/// Reads the table: user agent to its data, a JSON object.
pub fn parse(
    table: &toml::Table,
    base_dir: &Path,
) -> Result<BTreeMap<String, String>, DeviceDetectionProblem> {
    use toml::Value;
    let mut table = table.clone();
    match table.remove("format") {
        None => Ok(BTreeMap::new()),
        Some(Value::String(format)) => match format.as_str() {
            "inline-toml" => inline(&mut table),
            "json" => json_file(&mut table, base_dir),
            "" => Err(DeviceDetectionProblem::EmptyFormatEntry),
            other => Err(DeviceDetectionProblem::InvalidMappingFormat(
                other.to_owned(),
            )),
        },
        Some(_) => Err(DeviceDetectionProblem::InvalidFormatEntry),
    }
}

/// A TOML value as Viceroy turns it into JSON: strings, numbers, booleans and tables.
fn to_json(value: toml::Value) -> Option<serde_json::Value> {
    use toml::Value;
    Some(match value {
        Value::String(s) => serde_json::Value::String(s),
        Value::Integer(i) => serde_json::Value::from(i),
        Value::Float(f) => serde_json::Number::from_f64(f).map(serde_json::Value::Number)?,
        Value::Boolean(b) => serde_json::Value::Bool(b),
        Value::Table(table) => serde_json::Value::Object(
            table
                .into_iter()
                .map(|(k, v)| to_json(v).map(|v| (k, v)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

fn inline(table: &mut toml::Table) -> Result<BTreeMap<String, String>, DeviceDetectionProblem> {
    use toml::Value;
    let agents = match table.remove("user_agents") {
        None => return Err(DeviceDetectionProblem::MissingUserAgents),
        Some(Value::Table(agents)) => agents,
        Some(_) => return Err(DeviceDetectionProblem::InvalidUserAgentsType),
    };
    agents
        .into_iter()
        .map(|(agent, value)| {
            let Value::Table(_) = value else {
                return Err(DeviceDetectionProblem::InvalidInlineEntryType);
            };
            let data = to_json(value).ok_or(DeviceDetectionProblem::InvalidInlineEntryType)?;
            Ok((agent, data.to_string()))
        })
        .collect()
}

fn json_file(
    table: &mut toml::Table,
    base_dir: &Path,
) -> Result<BTreeMap<String, String>, DeviceDetectionProblem> {
    read_entries(table, base_dir)?
        .into_iter()
        .map(|(key, value)| Ok((key, object_json(&value)?)))
        .collect()
}

impl From<FileProblem> for DeviceDetectionProblem {
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

    fn parse_text(text: &str) -> Result<BTreeMap<String, String>, DeviceDetectionProblem> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        parse(&table, Path::new("/nonexistent"))
    }

    #[test]
    fn inline_user_agents_with_nested_tables() {
        let agents = parse_text(
            "format = \"inline-toml\"\n[user_agents.\"UA 1\"]\n\
             device = { name = \"iPhone\", is_mobile = true }\n",
        )
        .expect("valid");
        assert_eq!(
            agents["UA 1"],
            r#"{"device":{"is_mobile":true,"name":"iPhone"}}"#
        );
    }

    #[test]
    fn viceroys_messages_for_each_mistake() {
        for (text, message) in [
            ("format = 1", "'format' field was not a string"),
            ("format = \"\"", "'format' field is empty"),
            ("format = \"csv\"", "'csv' is not a valid format for the device detection mapping. Supported format(s) are: 'inline-toml', 'json'."),
            ("format = \"inline-toml\"", "missing 'user_agents' field"),
            ("format = \"inline-toml\"\nuser_agents = 1", "'user_agents' was not provided as a TOML table"),
            ("format = \"inline-toml\"\n[user_agents]\nua = 1", "inline device detection value was not a string"),
            ("format = \"inline-toml\"\n[user_agents.ua]\nx = [1]", "inline device detection value was not a string"),
            ("format = \"json\"", "missing 'file' field"),
            ("format = \"json\"\nfile = \"\"", "'file' field is empty"),
        ] {
            assert_eq!(parse_text(text).expect_err(text).to_string(), message, "for {text}");
        }
    }
}
