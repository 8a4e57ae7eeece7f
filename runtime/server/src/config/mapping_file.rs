//! The JSON file behind a `format = "json"` lookup table (`[local_server.geolocation]`,
//! `[local_server.device_detection]`): `file = "..."`, one JSON object whose values are
//! objects. Each section turns a [`FileProblem`] into its own wording (Viceroy's, per section).

use std::path::Path;

/// What is wrong with the file or its `file` field.
#[derive(Debug)]
pub enum FileProblem {
    Missing,
    Empty,
    NotAString,
    Io(String),
    NotAnObject,
    EntryNotAnObject,
}

/// Takes `file` from `table` and reads it (relative to `base_dir`): each key with its value.
pub fn read_entries(
    table: &mut toml::Table,
    base_dir: &Path,
) -> Result<serde_json::Map<String, serde_json::Value>, FileProblem> {
    let file = match table.remove("file") {
        None => return Err(FileProblem::Missing),
        Some(toml::Value::String(file)) if file.is_empty() => return Err(FileProblem::Empty),
        Some(toml::Value::String(file)) => file,
        Some(_) => return Err(FileProblem::NotAString),
    };
    let path = base_dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| FileProblem::Io(format!("{}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        _ => Err(FileProblem::NotAnObject),
    }
}

/// An entry's value as JSON text; it must be an object.
pub fn object_json(value: &serde_json::Value) -> Result<String, FileProblem> {
    if !value.is_object() {
        return Err(FileProblem::EntryNotAnObject);
    }
    Ok(value.to_string())
}
