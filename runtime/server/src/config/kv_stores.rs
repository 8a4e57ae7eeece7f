//! `[local_server.kv_stores]` (also `object_stores`, `object_store`): the KV stores and the
//! entries they start with, in every form Viceroy accepts (see the parent module's docs).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::{json_type, quoted, toml_type, ConfigError, Parser, Problem};

/// The spellings of the KV store table under `[local_server]`, newest first. Viceroy accepts
/// all three (`object_store` and `object_stores` are older names).
const SECTIONS: [&str; 3] = ["kv_stores", "object_stores", "object_store"];

/// The longest key a KV store accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The longest store name `new KVStore(name)` accepts, in UTF-8 bytes.
const MAX_STORE_NAME_BYTES: usize = 255;

/// Fields an array entry may have.
const ENTRY_FIELDS: &str = "key, data, file, path, metadata";
/// Fields an entry object of a JSON seed file may have.
const JSON_ENTRY_FIELDS: &str = "data, file, metadata";
/// Fields a `{ file, format }` store table may have.
const STORE_TABLE_FIELDS: &str = "file, path, format";

/// One KV store and the entries it starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSeed {
    /// The store's name, as `new KVStore(name)` opens it.
    pub name: String,
    /// The entries, each key once: in declaration order for an array, sorted by key for a JSON
    /// seed file. When an array gives a key twice the last value wins (as in Viceroy), kept at
    /// the key's first position.
    pub entries: Vec<SeedEntry>,
}

/// One seeded entry. Seeds have no TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedEntry {
    /// The key, already checked against the rules of Viceroy's KV store.
    pub key: String,
    /// The value: the UTF-8 bytes of `data`, or the raw bytes of `file`.
    pub value: Vec<u8>,
    /// The UTF-8 bytes of `metadata`, if given (possibly empty).
    pub metadata: Option<Vec<u8>>,
}

/// Where in the config a seed problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedLocation {
    /// The KV store table as spelled in the file: `kv_stores`, `object_stores` or `object_store`.
    pub section: String,
    /// The store's name.
    pub store: String,
    /// The part of the store.
    pub item: SeedItem,
}

/// The part of a store a problem is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedItem {
    /// The store as a whole.
    Store,
    /// An entry of the store's array (index from 0), with its key once known.
    Entry {
        /// Position in the array, from 0.
        index: usize,
        /// The entry's key, when it has a string one.
        key: Option<String>,
    },
    /// The store's JSON seed file as a whole (`file` as written).
    JsonFile {
        /// The file, as written in `fastly.toml`.
        file: String,
    },
    /// One entry of the store's JSON seed file.
    JsonEntry {
        /// The file, as written in `fastly.toml`.
        file: String,
        /// The entry's key.
        key: String,
    },
}

impl fmt::Display for SeedLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[local_server.{}] store {}",
            self.section,
            quoted(&self.store)
        )?;
        match &self.item {
            SeedItem::Store => Ok(()),
            SeedItem::Entry { index, key: None } => write!(f, ", entry at index {index}"),
            SeedItem::Entry {
                index,
                key: Some(key),
            } => write!(f, ", entry at index {index} (key {})", quoted(key)),
            SeedItem::JsonFile { file } => write!(f, ", JSON file {file:?}"),
            SeedItem::JsonEntry { file, key } => {
                write!(f, ", JSON file {file:?}, key {}", quoted(key))
            }
        }
    }
}

/// What is wrong with a store or an entry.
#[derive(Debug)]
pub enum SeedProblem {
    /// The store is neither an array nor a table.
    StoreNotArrayOrTable {
        /// The TOML type found.
        found: &'static str,
    },
    /// The store is a table that looks like a single entry.
    StoreIsAnEntry,
    /// The store is a table with `file` (or `path`) but no `format`.
    FileWithoutFormat {
        /// `file` or `path`, as written.
        field: &'static str,
    },
    /// The store is a table with `format` but no `file`.
    FormatWithoutFile,
    /// The store is a table with neither `file` nor `format`.
    TableWithoutFile,
    /// `format` is not `json`.
    UnsupportedFormat(String),
    /// A field that must be a string is not.
    NotAString {
        /// The field.
        field: &'static str,
        /// The type found.
        found: &'static str,
        /// Whether the field is in a JSON seed file (for the fix's syntax).
        json: bool,
    },
    /// An array item is not a table.
    EntryNotATable {
        /// The TOML type found.
        found: &'static str,
    },
    /// An entry has no `key`.
    MissingKey,
    /// The key is refused.
    InvalidKey(KeyProblem),
    /// An entry has both `data` and `file` (or `path`).
    DataAndFile {
        /// `file` or `path`, as written.
        field: &'static str,
        /// Whether the entry is in a JSON seed file.
        json: bool,
    },
    /// An entry has neither `data` nor `file`.
    NoDataOrFile {
        /// Whether the entry is in a JSON seed file.
        json: bool,
        /// Whether the JSON entry has a `path` (which JSON seed files do not accept).
        has_path: bool,
    },
    /// A file (seed value or JSON seed file) cannot be read.
    FileUnreadable {
        /// The path as written.
        written: String,
        /// The path that was opened.
        resolved: PathBuf,
        /// Why.
        err: io::Error,
    },
    /// The JSON seed file is not valid JSON.
    InvalidJson(serde_json::Error),
    /// The JSON seed file's top level is not an object.
    JsonNotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A value in the JSON seed file is neither a string nor an object.
    JsonValueWrongType {
        /// The JSON type found.
        found: &'static str,
    },
}

impl fmt::Display for SeedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ARRAY_EXAMPLE: &str = "[{ key = \"hello\", data = \"world\" }]";
        const FILE_EXAMPLE: &str = "{ file = \"seeds.json\", format = \"json\" }";
        match self {
            Self::StoreNotArrayOrTable { found } => write!(
                f,
                "expected an array of entries such as {ARRAY_EXAMPLE} or a JSON seed file \
                 such as {FILE_EXAMPLE}, found {found}"
            ),
            Self::StoreIsAnEntry => write!(
                f,
                "a store is an array of entries, not a single entry; wrap it in an array, \
                 e.g. {ARRAY_EXAMPLE}"
            ),
            Self::FileWithoutFormat { field } => write!(
                f,
                "{field:?} is set but \"format\" is not; add format = \"json\" (the only \
                 supported format)"
            ),
            Self::FormatWithoutFile => write!(
                f,
                "\"format\" is set but \"file\" is not; add file = \"<path to a JSON file>\""
            ),
            Self::TableWithoutFile => write!(
                f,
                "a table must name a JSON seed file, e.g. {FILE_EXAMPLE}; otherwise write \
                 the store as an array of entries, e.g. {ARRAY_EXAMPLE}"
            ),
            Self::UnsupportedFormat(format) => write!(
                f,
                "format {format:?} is not supported; use format = \"json\" with a JSON seed file"
            ),
            Self::NotAString { field, found, json } => {
                write!(f, "{field:?} must be a string, found {found}; ")?;
                match (*field, *json) {
                    ("metadata", false) => f.write_str(
                        "write it as a string, e.g. metadata = '{\"version\": 1}' for JSON metadata",
                    ),
                    ("metadata", true) => f.write_str(
                        "write it as a string, e.g. \"metadata\": \"{\\\"version\\\": 1}\" for \
                         JSON metadata",
                    ),
                    (field, false) => write!(f, "write it as a string, e.g. {field} = \"...\""),
                    (field, true) => write!(f, "write it as a string, e.g. \"{field}\": \"...\""),
                }
            }
            Self::EntryNotATable { found } => write!(
                f,
                "expected an inline table such as {{ key = \"hello\", data = \"world\" }}, \
                 found {found}"
            ),
            Self::MissingKey => f.write_str("the entry has no \"key\"; add key = \"...\""),
            Self::InvalidKey(problem) => write!(f, "{problem}"),
            Self::DataAndFile { field, json } => {
                if *json {
                    write!(
                        f,
                        "both \"data\" and {field:?} are set; keep only one of them"
                    )
                } else {
                    write!(
                        f,
                        "both \"data\" and {field:?} are set; keep only one of them (data for \
                         the value itself, {field} for a file holding it)"
                    )
                }
            }
            Self::NoDataOrFile { json, has_path } => {
                if *json {
                    f.write_str(
                        "the object has neither \"data\" nor \"file\"; add \"data\": \"...\" or \
                         \"file\": \"<path>\"",
                    )?;
                    if *has_path {
                        f.write_str(
                            " (JSON seed files do not accept \"path\"; rename it to \"file\")",
                        )?;
                    }
                    Ok(())
                } else {
                    f.write_str(
                        "the entry has neither \"data\" nor \"file\"; add data = \"...\" or \
                         file = \"<path>\"",
                    )
                }
            }
            Self::FileUnreadable {
                written,
                resolved,
                err,
            } => {
                if Path::new(written).is_absolute() {
                    write!(f, "cannot read file {written:?}: {err}; fix the path")
                } else {
                    write!(
                        f,
                        "cannot read file {written:?} ({}): {err}; fix the path (a relative \
                         path is resolved against the directory the server runs in)",
                        resolved.display()
                    )
                }
            }
            Self::InvalidJson(err) => write!(f, "invalid JSON: {err}"),
            Self::JsonNotAnObject { found } => write!(
                f,
                "expected a JSON object mapping keys to values, such as {{\"hello\": \
                 \"world\"}}, found {found}"
            ),
            Self::JsonValueWrongType { found } => write!(
                f,
                "expected a string (the data) or an object such as {{\"data\": \"...\", \
                 \"metadata\": \"...\"}} or {{\"file\": \"<path>\"}}, found {found}"
            ),
        }
    }
}

/// Why a key is refused. These are the rules of Viceroy's KV store: a seed that Viceroy
/// refuses is refused here too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// The key is empty.
    Empty,
    /// The key is longer than [`MAX_KEY_BYTES`] (its length in bytes).
    TooLong(usize),
    /// The key contains one of `#`, `;`, `?`, `^`, `|`, LF, CR (the first one).
    ForbiddenChar(char),
    /// The key starts with `.well-known/acme-challenge`.
    AcmeChallenge,
    /// The key is `.` or `..` (which one).
    DotName(&'static str),
    /// The key contains `./` or `../`, or ends with `/.` or `/..` (the offending part).
    DotSegment(&'static str),
    /// The key is a single control character or space.
    SingleControl(char),
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the key is empty; give the entry a non-empty key"),
            Self::TooLong(len) => write!(
                f,
                "the key is {len} bytes long; keys can be at most {MAX_KEY_BYTES} bytes \
                 (UTF-8), shorten it"
            ),
            Self::ForbiddenChar(c) => {
                let name = match c {
                    '\n' => "a newline".to_owned(),
                    '\r' => "a carriage return".to_owned(),
                    c => format!("'{c}'"),
                };
                write!(
                    f,
                    "the key contains {name}; keys cannot contain '#', ';', '?', '^', '|', \
                     newlines or carriage returns, rename it"
                )
            }
            Self::AcmeChallenge => f.write_str(
                "the key starts with \".well-known/acme-challenge\", which is reserved; rename it",
            ),
            Self::DotName(name) => write!(
                f,
                "the key is {name:?}; keys cannot be \".\" or \"..\", rename it"
            ),
            Self::DotSegment(part) => {
                let how = if part.starts_with('/') {
                    "ends with"
                } else {
                    "contains"
                };
                write!(
                    f,
                    "the key {how} {part:?}; keys cannot contain \"./\" or \"../\" or end with \
                     \"/.\" or \"/..\", rename it"
                )
            }
            Self::SingleControl(c) => write!(
                f,
                "the key is the single character U+{:04X}; a one-character key cannot be a \
                 control character or a space, rename it",
                u32::from(*c)
            ),
        }
    }
}

/// Checks a key against the rules of Viceroy's KV store (which its `fastly.toml` seeds go
/// through too). The first problem found is returned.
pub fn check_key(key: &str) -> Result<(), KeyProblem> {
    if key.is_empty() {
        return Err(KeyProblem::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyProblem::TooLong(key.len()));
    }
    if let Some(c) = key
        .chars()
        .find(|c| matches!(c, '#' | ';' | '?' | '^' | '|' | '\n' | '\r'))
    {
        return Err(KeyProblem::ForbiddenChar(c));
    }
    if key.starts_with(".well-known/acme-challenge") {
        return Err(KeyProblem::AcmeChallenge);
    }
    match key {
        "." => return Err(KeyProblem::DotName(".")),
        ".." => return Err(KeyProblem::DotName("..")),
        _ => {}
    }
    if key.contains("../") {
        return Err(KeyProblem::DotSegment("../"));
    }
    if key.contains("./") {
        return Err(KeyProblem::DotSegment("./"));
    }
    if key.ends_with("/..") {
        return Err(KeyProblem::DotSegment("/.."));
    }
    if key.ends_with("/.") {
        return Err(KeyProblem::DotSegment("/."));
    }
    let mut chars = key.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c <= '\u{20}' {
            return Err(KeyProblem::SingleControl(c));
        }
    }
    Ok(())
}

impl Parser<'_> {
    pub(super) fn stores(&mut self, doc: &toml::Table) -> Result<Vec<StoreSeed>, ConfigError> {
        let local_server = match doc.get("local_server") {
            None => return Ok(Vec::new()),
            Some(toml::Value::Table(table)) => table,
            Some(other) => {
                return Err(self.layout(format!(
                    "\"local_server\" must be a table ([local_server]), found {}",
                    toml_type(other)
                )))
            }
        };
        // Store name -> (section where it was defined, its seed).
        let mut stores: BTreeMap<&str, (&str, StoreSeed)> = BTreeMap::new();
        for section in SECTIONS {
            let table = match local_server.get(section) {
                None => continue,
                Some(toml::Value::Table(table)) => table,
                Some(other) => {
                    return Err(self.layout(format!(
                        "\"local_server.{section}\" must be a table of KV stores such as \
                         [local_server.{section}] with lines like name = [{{ key = \"hello\", \
                         data = \"world\" }}], found {}",
                        toml_type(other)
                    )))
                }
            };
            for (name, value) in table {
                if let Some((first, _)) = stores.get(name.as_str()) {
                    return Err(ConfigError::DuplicateStore {
                        path: self.path.to_path_buf(),
                        store: name.clone(),
                        first: (*first).to_owned(),
                        second: section.to_owned(),
                    });
                }
                let seed = self
                    .store(section, name, value)
                    .map_err(|(item, problem)| ConfigError::Seed {
                        path: self.path.to_path_buf(),
                        location: Box::new(SeedLocation {
                            section: section.to_owned(),
                            store: name.clone(),
                            item,
                        }),
                        problem,
                    })?;
                stores.insert(name, (section, seed));
            }
        }
        Ok(stores.into_values().map(|(_, seed)| seed).collect())
    }

    fn warn(&mut self, section: &str, store: &str, item: SeedItem, message: &str) {
        let location = SeedLocation {
            section: section.to_owned(),
            store: store.to_owned(),
            item,
        };
        self.warnings
            .push(format!("{}: {location}: {message}", self.path.display()));
    }

    fn store(
        &mut self,
        section: &str,
        name: &str,
        value: &toml::Value,
    ) -> Result<StoreSeed, Problem> {
        self.check_store_name(section, name);
        let entries = match value {
            toml::Value::Array(items) => self.array_store(section, name, items)?,
            toml::Value::Table(table) => self.json_store(section, name, table)?,
            other => {
                return Err((
                    SeedItem::Store,
                    SeedProblem::StoreNotArrayOrTable {
                        found: toml_type(other),
                    },
                ))
            }
        };
        Ok(StoreSeed {
            name: name.to_owned(),
            entries,
        })
    }

    /// Warns about store names that `new KVStore(name)` refuses: the store can never be opened.
    fn check_store_name(&mut self, section: &str, name: &str) {
        let why = if name.is_empty() {
            "is empty"
        } else if name.len() > MAX_STORE_NAME_BYTES {
            "is longer than 255 bytes"
        } else if name.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') {
            "contains a control character"
        } else {
            return;
        };
        let message = format!(
            "the store name {why}, so new KVStore(name) can never open this store; rename it"
        );
        self.warn(section, name, SeedItem::Store, &message);
    }

    fn array_store(
        &mut self,
        section: &str,
        store: &str,
        items: &[toml::Value],
    ) -> Result<Vec<SeedEntry>, Problem> {
        let mut entries: Vec<SeedEntry> = Vec::with_capacity(items.len());
        let mut positions: HashMap<String, usize> = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let entry = self.array_entry(section, store, index, item)?;
            match positions.get(&entry.key) {
                Some(&at) => {
                    let message = format!(
                        "key {} was already given at index {at}; the last value wins, remove \
                         the duplicate",
                        quoted(&entry.key)
                    );
                    let item = SeedItem::Entry {
                        index,
                        key: Some(entry.key.clone()),
                    };
                    self.warn(section, store, item, &message);
                    if let Some(slot) = entries.get_mut(at) {
                        *slot = entry;
                    }
                }
                None => {
                    positions.insert(entry.key.clone(), entries.len());
                    entries.push(entry);
                }
            }
        }
        Ok(entries)
    }

    fn array_entry(
        &mut self,
        section: &str,
        store: &str,
        index: usize,
        item: &toml::Value,
    ) -> Result<SeedEntry, Problem> {
        let no_key = || SeedItem::Entry { index, key: None };
        let table = item.as_table().ok_or_else(|| {
            (
                no_key(),
                SeedProblem::EntryNotATable {
                    found: toml_type(item),
                },
            )
        })?;
        let key = match table.get("key") {
            None => return Err((no_key(), SeedProblem::MissingKey)),
            Some(toml::Value::String(key)) => key,
            Some(other) => {
                return Err((
                    no_key(),
                    SeedProblem::NotAString {
                        field: "key",
                        found: toml_type(other),
                        json: false,
                    },
                ))
            }
        };
        let here = || SeedItem::Entry {
            index,
            key: Some(key.clone()),
        };
        check_key(key).map_err(|problem| (here(), SeedProblem::InvalidKey(problem)))?;
        for field in table.keys() {
            if !matches!(
                field.as_str(),
                "key" | "data" | "file" | "path" | "metadata"
            ) {
                let message = format!(
                    "unknown field {field:?} ignored (the fields are {ENTRY_FIELDS}); check its \
                     spelling"
                );
                self.warn(section, store, here(), &message);
            }
        }
        // `path` is the older name of `file`; when both are given Viceroy uses `file`.
        let file = match (table.get("file"), table.get("path")) {
            (Some(file), Some(_)) => {
                self.warn(
                    section,
                    store,
                    here(),
                    "both \"file\" and \"path\" are set; \"path\" (the older name of \"file\") \
                     is ignored, remove it",
                );
                Some(("file", file))
            }
            (Some(file), None) => Some(("file", file)),
            (None, Some(path)) => Some(("path", path)),
            (None, None) => None,
        };
        let not_a_string = |field: &'static str, value: &toml::Value| {
            (
                here(),
                SeedProblem::NotAString {
                    field,
                    found: toml_type(value),
                    json: false,
                },
            )
        };
        let value = match (table.get("data"), file) {
            (Some(_), Some((field, _))) => {
                return Err((here(), SeedProblem::DataAndFile { field, json: false }))
            }
            (None, None) => {
                return Err((
                    here(),
                    SeedProblem::NoDataOrFile {
                        json: false,
                        has_path: false,
                    },
                ))
            }
            (Some(data), None) => data
                .as_str()
                .ok_or_else(|| not_a_string("data", data))?
                .as_bytes()
                .to_vec(),
            (None, Some((field, file))) => {
                let file = file.as_str().ok_or_else(|| not_a_string(field, file))?;
                self.read(file).map_err(|problem| (here(), problem))?
            }
        };
        let metadata = match table.get("metadata") {
            None => None,
            Some(toml::Value::String(metadata)) => Some(metadata.as_bytes().to_vec()),
            Some(other) => return Err(not_a_string("metadata", other)),
        };
        Ok(SeedEntry {
            key: key.clone(),
            value,
            metadata,
        })
    }

    fn json_store(
        &mut self,
        section: &str,
        store: &str,
        table: &toml::Table,
    ) -> Result<Vec<SeedEntry>, Problem> {
        let string_field = |field: &'static str| match table.get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => Err((
                SeedItem::Store,
                SeedProblem::NotAString {
                    field,
                    found: toml_type(other),
                    json: false,
                },
            )),
        };
        let file = match (string_field("file")?, string_field("path")?) {
            (Some(file), Some(_)) => {
                self.warn(
                    section,
                    store,
                    SeedItem::Store,
                    "both \"file\" and \"path\" are set; \"path\" (the older name of \"file\") \
                     is ignored, remove it",
                );
                Some(("file", file))
            }
            (Some(file), None) => Some(("file", file)),
            (None, Some(path)) => Some(("path", path)),
            (None, None) => None,
        };
        let format = string_field("format")?;
        let (file, format) = match (file, format) {
            (Some((_, file)), Some(format)) => (file, format),
            (Some((field, _)), None) => {
                return Err((SeedItem::Store, SeedProblem::FileWithoutFormat { field }))
            }
            (None, Some(_)) => return Err((SeedItem::Store, SeedProblem::FormatWithoutFile)),
            (None, None) if table.contains_key("key") => {
                return Err((SeedItem::Store, SeedProblem::StoreIsAnEntry))
            }
            (None, None) => return Err((SeedItem::Store, SeedProblem::TableWithoutFile)),
        };
        if format != "json" {
            return Err((
                SeedItem::Store,
                SeedProblem::UnsupportedFormat(format.clone()),
            ));
        }
        for field in table.keys() {
            if !matches!(field.as_str(), "file" | "path" | "format") {
                let message = format!(
                    "unknown field {field:?} ignored (the fields are {STORE_TABLE_FIELDS}); \
                     check its spelling"
                );
                self.warn(section, store, SeedItem::Store, &message);
            }
        }

        let whole = || SeedItem::JsonFile { file: file.clone() };
        let bytes = self.read(file).map_err(|problem| (whole(), problem))?;
        let json: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|err| (whole(), SeedProblem::InvalidJson(err)))?;
        let serde_json::Value::Object(object) = json else {
            return Err((
                whole(),
                SeedProblem::JsonNotAnObject {
                    found: json_type(&json),
                },
            ));
        };
        let mut entries = Vec::with_capacity(object.len());
        for (key, value) in &object {
            let here = || SeedItem::JsonEntry {
                file: file.clone(),
                key: key.clone(),
            };
            check_key(key).map_err(|problem| (here(), SeedProblem::InvalidKey(problem)))?;
            let entry = match value {
                serde_json::Value::String(data) => SeedEntry {
                    key: key.clone(),
                    value: data.as_bytes().to_vec(),
                    metadata: None,
                },
                serde_json::Value::Object(fields) => {
                    self.json_entry(section, store, key, fields, &here)?
                }
                other => {
                    return Err((
                        here(),
                        SeedProblem::JsonValueWrongType {
                            found: json_type(other),
                        },
                    ))
                }
            };
            entries.push(entry);
        }
        // serde_json's map order depends on its features; make it independent of them.
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(entries)
    }

    fn json_entry(
        &mut self,
        section: &str,
        store: &str,
        key: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
        here: &dyn Fn() -> SeedItem,
    ) -> Result<SeedEntry, Problem> {
        let string_field = |field: &'static str| match fields.get(field) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            Some(other) => Err((
                here(),
                SeedProblem::NotAString {
                    field,
                    found: json_type(other),
                    json: true,
                },
            )),
        };
        let data = string_field("data")?;
        let file = string_field("file")?;
        let metadata = string_field("metadata")?;
        for field in fields.keys() {
            if !matches!(field.as_str(), "data" | "file" | "metadata") {
                let message = format!(
                    "unknown field {field:?} ignored (the fields are {JSON_ENTRY_FIELDS}); \
                     check its spelling"
                );
                self.warn(section, store, here(), &message);
            }
        }
        let value = match (data, file) {
            (Some(_), Some(_)) => {
                return Err((
                    here(),
                    SeedProblem::DataAndFile {
                        field: "file",
                        json: true,
                    },
                ))
            }
            (None, None) => {
                return Err((
                    here(),
                    SeedProblem::NoDataOrFile {
                        json: true,
                        has_path: fields.contains_key("path"),
                    },
                ))
            }
            (Some(data), None) => data.as_bytes().to_vec(),
            (None, Some(file)) => self.read(file).map_err(|problem| (here(), problem))?,
        };
        Ok(SeedEntry {
            key: key.to_owned(),
            value,
            metadata: metadata.map(|m| m.as_bytes().to_vec()),
        })
    }

    /// Reads a seed file, relative to the base directory.
    fn read(&self, written: &str) -> Result<Vec<u8>, SeedProblem> {
        let resolved = self.base_dir.join(written);
        std::fs::read(&resolved).map_err(|err| SeedProblem::FileUnreadable {
            written: written.to_owned(),
            resolved,
            err,
        })
    }
}
