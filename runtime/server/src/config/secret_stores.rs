//! `[local_server.secret_stores]`: the secrets `SecretStore` opens, read as Viceroy reads them
//! (its `src/config/secret_store.rs`). The wording after the store's name is Viceroy's.
//!
//! ```toml
//! [[local_server.secret_stores.api]]
//! key = "token"
//! data = "s3cr3t"          # or file = "token.txt" (raw bytes), or env = "API_TOKEN"
//!
//! [local_server.secret_stores.more]
//! file = "secrets.json"    # one JSON object of strings
//! format = "json"
//! ```
//!
//! Files are relative to the working directory, as Viceroy's are. An `env` variable that is
//! not set gives an empty secret, as in Viceroy.

use std::collections::BTreeMap;
use std::path::Path;

/// What is wrong with one store: Viceroy's `SecretStoreConfigError` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretStoreProblem {
    #[error("{0}")]
    Io(String),
    #[error("'{0}' is not a valid format for the secret store. Supported format(s) are: 'json'.")]
    InvalidFileFormat(String),
    #[error("When using a top-level 'file' to load data, both 'file' and 'format' must be set.")]
    OnlyOneFormatOrFileSet,
    #[error(
        "The file is of the wrong format. The file is expected to contain a single JSON object."
    )]
    FileWrongFormat,
    #[error("More than one of `file`, `data`, or `env` keys for the object `{0}` are set. Only one can be used.")]
    FileDataEnvExclusive(String),
    #[error(
        "None of `file`, `data`, or `env` keys for the object `{0}` is set. One must be used."
    )]
    FileDataEnvNotSet(String),
    #[error("The `data` value for the object `{0}` is not a string.")]
    DataNotAString(String),
    #[error("The `file` value for the object `{0}` is not a string.")]
    FileNotAString(String),
    #[error("The `env` value for the object `{0}` is not a string.")]
    EnvNotAString(String),
    #[error("The `key` key for an object is not set. It must be used.")]
    NoKey,
    #[error("The `key` value for an object is not a string.")]
    KeyNotAString,
    #[error("There is no array of objects for the given store.")]
    NotAnArray,
    #[error("There is an object in the given store that is not a table of keys.")]
    NotATable,
    #[error("Invalid secret store name: {0}")]
    InvalidStoreName(String),
    #[error("Invalid secret name: {0}")]
    InvalidSecretName(String),
}

/// A store's secrets, by key.
pub type Secrets = BTreeMap<String, Vec<u8>>;

/// Reads the table; `Err((store, problem))` names the one that is wrong. `env` reads a
/// variable of the server's environment.
pub fn parse(
    table: &toml::Table,
    base_dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, Secrets>, (String, SecretStoreProblem)> {
    table
        .iter()
        .map(|(name, value)| {
            store(name, value, base_dir, &env)
                .map(|secrets| (name.clone(), secrets))
                .map_err(|problem| (name.clone(), problem))
        })
        .collect()
}

/// Viceroy's rule for store and secret names: 1 to 255 bytes of ASCII letters, digits, `_`,
/// `-` and `.`.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn store(
    name: &str,
    value: &toml::Value,
    base_dir: &Path,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Secrets, SecretStoreProblem> {
    use toml::Value;
    if !is_valid_name(name) {
        return Err(SecretStoreProblem::InvalidStoreName(name.to_owned()));
    }
    let table = value.as_table();
    let file = table.and_then(|t| t.get("file")).and_then(Value::as_str);
    let format = table.and_then(|t| t.get("format")).and_then(Value::as_str);
    let items: Vec<Value> = match (file, format) {
        (Some(file), Some(format)) => {
            if format != "json" {
                return Err(SecretStoreProblem::InvalidFileFormat(format.to_owned()));
            }
            let path = base_dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| SecretStoreProblem::Io(format!("{}: {e}", path.display())))?;
            let object: BTreeMap<String, String> =
                serde_json::from_str(&text).map_err(|_| SecretStoreProblem::FileWrongFormat)?;
            object
                .into_iter()
                .map(|(key, data)| {
                    let mut item = toml::Table::new();
                    item.insert("key".into(), Value::String(key));
                    item.insert("data".into(), Value::String(data));
                    Value::Table(item)
                })
                .collect()
        }
        (None, None) => value
            .as_array()
            .ok_or(SecretStoreProblem::NotAnArray)?
            .clone(),
        _ => return Err(SecretStoreProblem::OnlyOneFormatOrFileSet),
    };
    let mut secrets = Secrets::new();
    for item in &items {
        let item = item.as_table().ok_or(SecretStoreProblem::NotATable)?;
        let key = item
            .get("key")
            .ok_or(SecretStoreProblem::NoKey)?
            .as_str()
            .ok_or(SecretStoreProblem::KeyNotAString)?;
        if !is_valid_name(key) {
            return Err(SecretStoreProblem::InvalidSecretName(key.to_owned()));
        }
        let sources = [item.get("file"), item.get("data"), item.get("env")];
        let bytes = match sources {
            [None, None, None] => {
                return Err(SecretStoreProblem::FileDataEnvNotSet(key.to_owned()))
            }
            [Some(file), None, None] => {
                let file = file
                    .as_str()
                    .ok_or_else(|| SecretStoreProblem::FileNotAString(key.to_owned()))?;
                let path = base_dir.join(file);
                std::fs::read(&path)
                    .map_err(|e| SecretStoreProblem::Io(format!("{}: {e}", path.display())))?
            }
            [None, Some(data), None] => data
                .as_str()
                .ok_or_else(|| SecretStoreProblem::DataNotAString(key.to_owned()))?
                .as_bytes()
                .to_vec(),
            [None, None, Some(var)] => {
                let var = var
                    .as_str()
                    .ok_or_else(|| SecretStoreProblem::EnvNotAString(key.to_owned()))?;
                env(var).unwrap_or_default().into_bytes()
            }
            _ => return Err(SecretStoreProblem::FileDataEnvExclusive(key.to_owned())),
        };
        secrets.insert(key.to_owned(), bytes);
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<BTreeMap<String, Secrets>, (String, SecretStoreProblem)> {
        let table: toml::Table = toml::from_str(text).expect("test TOML parses");
        let env = |name: &str| (name == "SET").then(|| "from-env".to_owned());
        parse(&table, Path::new("/nonexistent"), env)
    }

    #[test]
    fn inline_secrets_from_data_and_env() {
        let stores = parse_text(
            r#"
            [[api]]
            key = "token"
            data = "s3cr3t"
            [[api]]
            key = "from.env"
            env = "SET"
            [[api]]
            key = "unset"
            env = "NOT_SET"
            "#,
        )
        .expect("valid");
        let api = &stores["api"];
        assert_eq!(api["token"], b"s3cr3t");
        assert_eq!(api["from.env"], b"from-env");
        assert_eq!(api["unset"], b"");
    }

    #[test]
    fn viceroys_messages_for_each_mistake() {
        let cases = [
            ("[[\"a b\"]]\nkey = \"k\"\ndata = \"v\"", "Invalid secret store name: a b"),
            ("s = 1", "There is no array of objects for the given store."),
            ("s = [1]", "There is an object in the given store that is not a table of keys."),
            ("[[s]]\ndata = \"v\"", "The `key` key for an object is not set. It must be used."),
            ("[[s]]\nkey = 1\ndata = \"v\"", "The `key` value for an object is not a string."),
            ("[[s]]\nkey = \"a/b\"\ndata = \"v\"", "Invalid secret name: a/b"),
            ("[[s]]\nkey = \"k\"", "None of `file`, `data`, or `env` keys for the object `k` is set. One must be used."),
            ("[[s]]\nkey = \"k\"\ndata = \"v\"\nenv = \"E\"", "More than one of `file`, `data`, or `env` keys for the object `k` are set. Only one can be used."),
            ("[[s]]\nkey = \"k\"\ndata = 1", "The `data` value for the object `k` is not a string."),
            ("[[s]]\nkey = \"k\"\nenv = 1", "The `env` value for the object `k` is not a string."),
            ("[[s]]\nkey = \"k\"\nfile = 1", "The `file` value for the object `k` is not a string."),
            ("[s]\nfile = \"x.json\"", "When using a top-level 'file' to load data, both 'file' and 'format' must be set."),
            ("[s]\nfile = \"x.json\"\nformat = \"toml\"", "'toml' is not a valid format for the secret store. Supported format(s) are: 'json'."),
        ];
        for (text, message) in cases {
            let (_, problem) = parse_text(text).expect_err(text);
            assert_eq!(problem.to_string(), message, "for {text}");
        }
    }

    #[test]
    fn a_json_file_of_strings() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ok.json"), r#"{"a":"1","b.c":"2"}"#).expect("write");
        std::fs::write(dir.path().join("bad.json"), r#"{"a":1}"#).expect("write");
        let table: toml::Table = toml::from_str(
            "[ok]\nfile = \"ok.json\"\nformat = \"json\"\n[bad]\nfile = \"bad.json\"\nformat = \"json\"",
        )
        .expect("TOML");
        let mut ok = toml::Table::new();
        ok.insert("ok".into(), table["ok"].clone());
        let stores = parse(&ok, dir.path(), |_| None).expect("valid");
        assert_eq!(stores["ok"]["b.c"], b"2");
        let mut bad = toml::Table::new();
        bad.insert("bad".into(), table["bad"].clone());
        let (_, problem) = parse(&bad, dir.path(), |_| None).expect_err("bad");
        assert_eq!(problem, SecretStoreProblem::FileWrongFormat);
    }
}
