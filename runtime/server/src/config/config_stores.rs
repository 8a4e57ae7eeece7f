//! `[local_server.config_stores]` (older name: `dictionaries`; Viceroy takes either, not
//! both): the string maps `ConfigStore` and `Dictionary` open, read as Viceroy reads them
//! (its `src/config/dictionaries.rs`). The wording after the store's name is Viceroy's.
//!
//! ```toml
//! [local_server.config_stores.settings]
//! format = "inline-toml"
//! [local_server.config_stores.settings.contents]
//! greeting = "hello"
//!
//! [local_server.config_stores.more]
//! format = "json"
//! file = "more.json"      # one JSON object of strings; relative to the working directory
//! ```

use std::collections::BTreeMap;
use std::path::Path;

/// Viceroy's limits on an item (in characters).
const KEY_MAX_CHARS: usize = 256;
const VALUE_MAX_CHARS: usize = 8000;

/// What is wrong with one store: Viceroy's `DictionaryConfigError` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreProblem {
    #[error("definition was not provided as a TOML table")]
    InvalidEntryType,
    #[error("missing 'format' field")]
    MissingFormat,
    #[error("'format' field was not a string")]
    InvalidFormatEntry,
    #[error("'format' field is empty")]
    EmptyFormatEntry,
    #[error("'{0}' is not a valid format for the dictionary. Supported format(s) are: 'inline-toml', 'json'.")]
    InvalidFormat(String),
    #[error("missing 'contents' field")]
    MissingContents,
    #[error("'contents' was not provided as a TOML table")]
    InvalidContentsType,
    #[error("inline dictionary value was not a string")]
    InvalidInlineEntryType,
    #[error("missing 'file' field")]
    MissingFile,
    #[error("'file' field was not a string")]
    InvalidFileEntry,
    #[error("'file' field is empty")]
    EmptyFileEntry,
    #[error("{0}")]
    Io(String),
    #[error(
        "The file is of the wrong format. The file is expected to contain a single JSON Object"
    )]
    FileWrongFormat,
    #[error("Item value under key named '{0}' is of the wrong format. The value is expected to be a JSON String")]
    ValueWrongFormat(String),
    #[error("Item key named '{0}' is too long, max size is {KEY_MAX_CHARS}")]
    KeyTooLong(String),
    #[error("Item value named '{0}' is too long, max size is {VALUE_MAX_CHARS}")]
    ValueTooLong(String),
    #[error("unrecognized key '{0}'")]
    UnrecognizedKey(String),
}

/// Reads the table; `Err((store, problem))` names the one that is wrong.
pub fn parse(
    table: &toml::Table,
    base_dir: &Path,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, (String, StoreProblem)> {
    table
        .iter()
        .map(|(name, value)| {
            store(value, base_dir)
                .map(|entries| (name.clone(), entries))
                .map_err(|problem| (name.clone(), problem))
        })
        .collect()
}

fn store(value: &toml::Value, base_dir: &Path) -> Result<BTreeMap<String, String>, StoreProblem> {
    use toml::Value;
    let Value::Table(table) = value else {
        return Err(StoreProblem::InvalidEntryType);
    };
    let mut table = table.clone();
    let format = match table.remove("format") {
        None => return Err(StoreProblem::MissingFormat),
        Some(Value::String(format)) => format,
        Some(_) => return Err(StoreProblem::InvalidFormatEntry),
    };
    let entries = match format.as_str() {
        "inline-toml" => {
            let contents = match table.remove("contents") {
                None => return Err(StoreProblem::MissingContents),
                Some(Value::Table(contents)) => contents,
                Some(_) => return Err(StoreProblem::InvalidContentsType),
            };
            contents
                .into_iter()
                .map(|(key, value)| match value {
                    Value::String(value) => Ok((key, value)),
                    _ => Err(StoreProblem::InvalidInlineEntryType),
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?
        }
        "json" => {
            let file = match table.remove("file") {
                None => return Err(StoreProblem::MissingFile),
                Some(Value::String(file)) if file.is_empty() => {
                    return Err(StoreProblem::EmptyFileEntry)
                }
                Some(Value::String(file)) => file,
                Some(_) => return Err(StoreProblem::InvalidFileEntry),
            };
            let path = base_dir.join(&file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| StoreProblem::Io(format!("{}: {e}", path.display())))?;
            let Ok(serde_json::Value::Object(object)) = serde_json::from_str(&text) else {
                return Err(StoreProblem::FileWrongFormat);
            };
            object
                .into_iter()
                .map(|(key, value)| match value {
                    serde_json::Value::String(value) => Ok((key, value)),
                    _ => Err(StoreProblem::ValueWrongFormat(key)),
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?
        }
        "" => return Err(StoreProblem::EmptyFormatEntry),
        other => return Err(StoreProblem::InvalidFormat(other.to_owned())),
    };
    for (key, value) in &entries {
        if key.chars().count() > KEY_MAX_CHARS {
            return Err(StoreProblem::KeyTooLong(key.clone()));
        }
        if value.chars().count() > VALUE_MAX_CHARS {
            return Err(StoreProblem::ValueTooLong(key.clone()));
        }
    }
    if let Some(key) = table.keys().next() {
        return Err(StoreProblem::UnrecognizedKey(key.clone()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse_in(
        dir: &Path,
        text: &str,
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, (String, StoreProblem)> {
        let table: toml::Table = toml::from_str(text).unwrap();
        parse(&table, dir)
    }

    #[test]
    fn inline_and_json_stores_load_as_viceroy_loads_them() {
        let dir =
            std::env::temp_dir().join(format!("edgeshim-config-stores-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("more.json"), r#"{"a": "1", "b": "two"}"#).unwrap();
        let stores = parse_in(
            &dir,
            "[s]\nformat = \"inline-toml\"\n[s.contents]\ngreeting = \"hello\"\n\
             [m]\nformat = \"json\"\nfile = \"more.json\"\n",
        )
        .unwrap();
        assert_eq!(stores["s"]["greeting"], "hello");
        assert_eq!(stores["m"]["b"], "two");
        let cases = [
            ("[s]\ncontents = {}\n", "missing 'format' field"),
            ("[s]\nformat = \"yaml\"\n", "'yaml' is not a valid format for the dictionary. Supported format(s) are: 'inline-toml', 'json'."),
            ("[s]\nformat = \"inline-toml\"\n", "missing 'contents' field"),
            ("[s]\nformat = \"inline-toml\"\ncontents = { k = 1 }\n", "inline dictionary value was not a string"),
            ("[s]\nformat = \"inline-toml\"\ncontents = {}\nextra = 1\n", "unrecognized key 'extra'"),
            ("[s]\nformat = \"json\"\n", "missing 'file' field"),
        ];
        for (text, message) in cases {
            let (name, problem) = parse_in(&dir, text).unwrap_err();
            assert_eq!(
                (name.as_str(), problem.to_string().as_str()),
                ("s", message),
                "{text}"
            );
        }
        std::fs::write(dir.join("bad.json"), r#"{"a": 1}"#).unwrap();
        let (_, problem) =
            parse_in(&dir, "[s]\nformat = \"json\"\nfile = \"bad.json\"\n").unwrap_err();
        assert_eq!(problem.to_string(), "Item value under key named 'a' is of the wrong format. The value is expected to be a JSON String");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
