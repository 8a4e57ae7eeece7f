//! Reading `fastly.toml`: the KV store seeds of its `[local_server]` section.
//!
//! A Fastly Compute package is described by a `fastly.toml` manifest
//! (<https://www.fastly.com/documentation/reference/compute/fastly-toml/>). Its
//! `[local_server]` section configures local servers such as Fastly's Viceroy; edgeshim reads
//! the KV stores from it, in every form Viceroy accepts, so that a project which runs under
//! `fastly compute serve` runs here unchanged:
//!
//! ```toml
//! [local_server.kv_stores]            # also spelled object_stores, or object_store
//! files = [
//!   { key = "hello", data = "world" },
//!   { key = "readme", file = "README.md", metadata = "text" },   # `path` = older `file`
//! ]
//! other = { file = "kv.json", format = "json" }                  # `path` works here too
//! empty = []
//! ```
//!
//! A JSON seed file holds an object whose values are a string (the data),
//! `{ "data": "...", "metadata": "..." }` or `{ "file": "path", "metadata": "..." }`.
//! Relative paths (in `fastly.toml` and in JSON seed files alike) are resolved against the
//! directory the server runs in, as Viceroy does.
//!
//! `[local_server.backends]` is read by [`backends`], as Viceroy reads it. Everything else in
//! `fastly.toml` (`manifest_version`, `name`, ...) is ignored. A bad seed is a [`ConfigError`] whose message names the config file, the
//! store and the entry, and says how to fix it. Things Viceroy silently tolerates but that are
//! probably mistakes (unknown fields, a key given twice, ...) are accepted and reported in
//! [`FastlyToml::warnings`].

mod acls;
mod backends;
mod config_stores;
mod device_detection;
mod geolocation;
mod secret_stores;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const CONFIG_FILE_NAME: &str = "fastly.toml";

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

/// What edgeshim takes from a `fastly.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FastlyToml {
    /// The KV stores to create at start, sorted by name.
    pub kv_stores: Vec<StoreSeed>,
    /// The static backends, sorted by name.
    pub backends: Vec<edgeshim_engine::BackendSpec>,
    /// The config stores (`[local_server.config_stores]` or `dictionaries`): name to entries.
    pub config_stores: BTreeMap<String, BTreeMap<String, String>>,
    /// The secret stores (`[local_server.secret_stores]`): name to secrets.
    pub secret_stores: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// `[local_server.geolocation]` (Viceroy's defaults when absent).
    pub geolocation: edgeshim_engine::Geolocation,
    /// `[local_server.acls]`: name to entries.
    pub acls: BTreeMap<String, Vec<edgeshim_engine::AclEntry>>,
    /// `[local_server.device_detection]`: user agent to its data (a JSON object).
    pub user_agents: BTreeMap<String, String>,
    /// The file this was read from (as given to [`FastlyToml::load`] or [`FastlyToml::parse`]).
    pub path: PathBuf,
    /// Things accepted (as Viceroy accepts them) that are probably mistakes, one line each,
    /// ready to log: unknown fields, a key given twice, an ignored `path`, a store name that
    /// `new KVStore(name)` can never open.
    pub warnings: Vec<String>,
}

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

/// Why a `fastly.toml` cannot be used.
#[derive(thiserror::Error, Debug)]
pub enum ConfigError {
    /// The config file itself cannot be read.
    #[error("cannot read config file {}: {err}", .path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        err: io::Error,
    },
    /// The config file is not valid TOML (the message has the line and column).
    #[error("{}: {}", .path.display(), .err.to_string().trim_end())]
    Toml {
        /// The config file.
        path: PathBuf,
        /// The parser's error.
        err: toml::de::Error,
    },
    /// `local_server` or its KV store table is not a table.
    #[error("{}: {message}", .path.display())]
    Layout {
        /// The config file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A backend of `[local_server.backends]` is invalid.
    #[error(
        "{}: invalid configuration for backend '{name}' in [local_server.backends]: {problem}",
        .path.display()
    )]
    Backend {
        /// The config file.
        path: PathBuf,
        /// The backend's name.
        name: String,
        /// What is wrong (Viceroy's wording).
        problem: backends::BackendProblem,
    },
    /// A config store of `[local_server.config_stores]` (or `dictionaries`) is invalid.
    #[error(
        "{}: invalid configuration for config store '{name}' in [local_server.{section}]: {problem}",
        .path.display()
    )]
    ConfigStore {
        /// The config file.
        path: PathBuf,
        /// `config_stores` or `dictionaries`.
        section: &'static str,
        /// The store's name.
        name: String,
        /// What is wrong (Viceroy's wording).
        problem: config_stores::StoreProblem,
    },
    /// A secret store of `[local_server.secret_stores]` is invalid.
    #[error(
        "{}: invalid configuration for secret store '{name}' in [local_server.secret_stores]: {problem}",
        .path.display()
    )]
    SecretStore {
        /// The config file.
        path: PathBuf,
        /// The store's name.
        name: String,
        /// What is wrong (Viceroy's wording).
        problem: secret_stores::SecretStoreProblem,
    },
    /// `[local_server.geolocation]` is invalid.
    #[error(
        "{}: invalid configuration for [local_server.geolocation]: {problem}",
        .path.display()
    )]
    Geolocation {
        /// The config file.
        path: PathBuf,
        /// What is wrong (Viceroy's wording).
        problem: geolocation::GeolocationProblem,
    },
    /// An ACL of `[local_server.acls]` is invalid.
    #[error(
        "{}: invalid configuration for ACL '{name}' in [local_server.acls]: {problem}",
        .path.display()
    )]
    Acl {
        /// The config file.
        path: PathBuf,
        /// The ACL's name.
        name: String,
        /// What is wrong (Viceroy's wording).
        problem: acls::AclProblem,
    },
    /// `[local_server.device_detection]` is invalid.
    #[error(
        "{}: invalid configuration for [local_server.device_detection]: {problem}",
        .path.display()
    )]
    DeviceDetection {
        /// The config file.
        path: PathBuf,
        /// What is wrong (Viceroy's wording).
        problem: device_detection::DeviceDetectionProblem,
    },
    /// The same store name appears under two spellings of the KV store table.
    #[error(
        "{}: KV store {store:?} is defined twice, in [local_server.{first}] and in \
         [local_server.{second}]; remove or rename one of them",
        .path.display()
    )]
    DuplicateStore {
        /// The config file.
        path: PathBuf,
        /// The store's name.
        store: String,
        /// The section spelling where it was seen first.
        first: String,
        /// The section spelling where it was seen again.
        second: String,
    },
    /// A store or one of its entries is invalid.
    #[error("{}: {location}: {problem}", .path.display())]
    Seed {
        /// The config file.
        path: PathBuf,
        /// Which store and entry.
        location: Box<SeedLocation>,
        /// What is wrong and how to fix it.
        problem: SeedProblem,
    },
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

impl FastlyToml {
    /// Reads and parses the `fastly.toml` at `path`. `base_dir` is the directory relative seed
    /// paths resolve against (the server's working directory).
    pub fn load(path: &Path, base_dir: &Path) -> Result<FastlyToml, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Read {
            path: path.to_path_buf(),
            err,
        })?;
        Self::parse(&text, path, base_dir)
    }

    /// Parses the text of a `fastly.toml`; `path` is only used in messages. `base_dir` is the
    /// directory relative seed paths resolve against (the server's working directory).
    pub fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<FastlyToml, ConfigError> {
        let doc: toml::Table = toml::from_str(text).map_err(|err| ConfigError::Toml {
            path: path.to_path_buf(),
            err,
        })?;
        let mut parser = Parser {
            path,
            base_dir,
            warnings: Vec::new(),
        };
        let kv_stores = parser.stores(&doc)?;
        let backends = match doc
            .get("local_server")
            .and_then(|l| l.as_table())
            .and_then(|l| l.get("backends"))
        {
            None => Vec::new(),
            Some(toml::Value::Table(table)) => {
                backends::parse(table, base_dir).map_err(|(name, problem)| {
                    ConfigError::Backend {
                        path: path.to_path_buf(),
                        name,
                        problem,
                    }
                })?
            }
            Some(other) => {
                return Err(parser.layout(format!(
                    "\"local_server.backends\" must be a table of backends such as \
                     [local_server.backends.origin] with url = \"http://127.0.0.1:8080\", found {}",
                    toml_type(other)
                )))
            }
        };
        let config_stores = parser.config_stores(&doc)?;
        let secret_stores = parser.secret_stores(&doc)?;
        let geolocation = parser.geolocation(&doc)?;
        let acls = parser.acls(&doc)?;
        let user_agents = parser.device_detection(&doc)?;
        Ok(FastlyToml {
            kv_stores,
            backends,
            config_stores,
            secret_stores,
            geolocation,
            acls,
            user_agents,
            path: path.to_path_buf(),
            warnings: parser.warnings,
        })
    }
}

/// Where to look when -C is not given: `fastly.toml` beside the app (inside it, if `app` is a
/// directory), then in the working directory; `None` if neither exists. A relative `app` is
/// taken relative to `cwd`.
pub fn find_config(app: &Path, cwd: &Path) -> Option<PathBuf> {
    let app = cwd.join(app);
    let app_dir = if app.is_dir() {
        Some(app.as_path())
    } else {
        app.parent()
    };
    app_dir
        .map(|dir| dir.join(CONFIG_FILE_NAME))
        .into_iter()
        .chain(std::iter::once(cwd.join(CONFIG_FILE_NAME)))
        .find(|candidate| candidate.is_file())
}

/// State of one parse.
struct Parser<'a> {
    path: &'a Path,
    base_dir: &'a Path,
    warnings: Vec<String>,
}

/// A problem found below a store, before the full location is known.
type Problem = (SeedItem, SeedProblem);

impl Parser<'_> {
    /// `[local_server.config_stores]` or its older name `dictionaries` (one of them: Viceroy
    /// reads them as one field).
    fn config_stores(
        &self,
        doc: &toml::Table,
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, ConfigError> {
        let Some(local_server) = doc.get("local_server").and_then(|l| l.as_table()) else {
            return Ok(BTreeMap::new());
        };
        let mut found = ["config_stores", "dictionaries"]
            .into_iter()
            .filter_map(|section| local_server.get(section).map(|v| (section, v)));
        let Some((section, value)) = found.next() else {
            return Ok(BTreeMap::new());
        };
        if found.next().is_some() {
            return Err(self.layout(
                "[local_server.config_stores] and [local_server.dictionaries] are the same \
                 table under two names; Viceroy reads only one: move every store into \
                 config_stores"
                    .to_owned(),
            ));
        }
        let toml::Value::Table(table) = value else {
            return Err(self.layout(format!(
                "\"local_server.{section}\" must be a table of stores such as \
                 [local_server.{section}.settings] with format = \"inline-toml\", found {}",
                toml_type(value)
            )));
        };
        config_stores::parse(table, self.base_dir).map_err(|(name, problem)| {
            ConfigError::ConfigStore {
                path: self.path.to_path_buf(),
                section,
                name,
                problem,
            }
        })
    }

    /// `[local_server.secret_stores]`; `env` secrets read the server's environment now.
    fn secret_stores(
        &self,
        doc: &toml::Table,
    ) -> Result<BTreeMap<String, secret_stores::Secrets>, ConfigError> {
        let Some(value) = doc
            .get("local_server")
            .and_then(|l| l.as_table())
            .and_then(|l| l.get("secret_stores"))
        else {
            return Ok(BTreeMap::new());
        };
        let toml::Value::Table(table) = value else {
            return Err(self.layout(format!(
                "\"local_server.secret_stores\" must be a table of stores such as \
                 [[local_server.secret_stores.api]] with key = \"token\" and data = \"...\", \
                 found {}",
                toml_type(value)
            )));
        };
        secret_stores::parse(table, self.base_dir, |name| std::env::var(name).ok()).map_err(
            |(name, problem)| ConfigError::SecretStore {
                path: self.path.to_path_buf(),
                name,
                problem,
            },
        )
    }

    /// The table `[local_server.{section}]`, if there is one.
    fn local_server_table<'d>(
        &self,
        doc: &'d toml::Table,
        section: &str,
        example: &str,
    ) -> Result<Option<&'d toml::Table>, ConfigError> {
        match doc
            .get("local_server")
            .and_then(|l| l.as_table())
            .and_then(|l| l.get(section))
        {
            None => Ok(None),
            Some(toml::Value::Table(table)) => Ok(Some(table)),
            Some(other) => Err(self.layout(format!(
                "\"local_server.{section}\" must be a table such as {example}, found {}",
                toml_type(other)
            ))),
        }
    }

    /// `[local_server.acls]`.
    fn acls(
        &self,
        doc: &toml::Table,
    ) -> Result<BTreeMap<String, Vec<edgeshim_engine::AclEntry>>, ConfigError> {
        let example = "[local_server.acls] with office = \"office-acl.json\"";
        let Some(table) = self.local_server_table(doc, "acls", example)? else {
            return Ok(BTreeMap::new());
        };
        acls::parse(table, self.base_dir).map_err(|(name, problem)| ConfigError::Acl {
            path: self.path.to_path_buf(),
            name,
            problem,
        })
    }

    /// `[local_server.device_detection]`.
    fn device_detection(&self, doc: &toml::Table) -> Result<BTreeMap<String, String>, ConfigError> {
        let Some(value) = doc
            .get("local_server")
            .and_then(|l| l.as_table())
            .and_then(|l| l.get("device_detection"))
        else {
            return Ok(BTreeMap::new());
        };
        let problem = |problem| ConfigError::DeviceDetection {
            path: self.path.to_path_buf(),
            problem,
        };
        let toml::Value::Table(table) = value else {
            return Err(problem(
                device_detection::DeviceDetectionProblem::InvalidEntryType,
            ));
        };
        device_detection::parse(table, self.base_dir).map_err(problem)
    }

    /// `[local_server.geolocation]`.
    fn geolocation(&self, doc: &toml::Table) -> Result<edgeshim_engine::Geolocation, ConfigError> {
        let Some(value) = doc
            .get("local_server")
            .and_then(|l| l.as_table())
            .and_then(|l| l.get("geolocation"))
        else {
            return Ok(edgeshim_engine::Geolocation::default());
        };
        let problem = |problem| ConfigError::Geolocation {
            path: self.path.to_path_buf(),
            problem,
        };
        let toml::Value::Table(table) = value else {
            return Err(problem(geolocation::GeolocationProblem::InvalidEntryType));
        };
        geolocation::parse(table, self.base_dir).map_err(problem)
    }

    fn stores(&mut self, doc: &toml::Table) -> Result<Vec<StoreSeed>, ConfigError> {
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

    fn layout(&self, message: String) -> ConfigError {
        ConfigError::Layout {
            path: self.path.to_path_buf(),
            message,
        }
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

/// A key or name for a message: quoted and escaped, shortened when very long.
fn quoted(s: &str) -> String {
    const MAX_CHARS: usize = 64;
    if s.chars().count() <= MAX_CHARS {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX_CHARS).collect();
        format!("{head:?}... ({} bytes)", s.len())
    }
}

fn toml_type(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "edgeshim-config-test-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }

        fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
            let path = self.0.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(&path, contents).unwrap();
            path
        }

        /// `name` inside the directory, for expected messages.
        fn show(&self, name: &str) -> String {
            self.0.join(name).display().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn parse_in(dir: &TempDir, text: &str) -> FastlyToml {
        match FastlyToml::parse(text, Path::new("fastly.toml"), dir.path()) {
            Ok(config) => config,
            Err(err) => panic!("unexpected error: {err}"),
        }
    }

    fn parse(text: &str) -> FastlyToml {
        parse_in(&TempDir::new(), text)
    }

    fn error_in(dir: &TempDir, text: &str) -> String {
        match FastlyToml::parse(text, Path::new("fastly.toml"), dir.path()) {
            Ok(config) => panic!("unexpectedly accepted: {config:?}"),
            Err(err) => err.to_string(),
        }
    }

    fn error(text: &str) -> String {
        error_in(&TempDir::new(), text)
    }

    /// The error for a one-entry array store `s`.
    fn entry_error(entry: &str) -> String {
        error(&format!("[local_server.kv_stores]\ns = [{entry}]\n"))
    }

    fn entry(key: &str, value: &[u8], metadata: Option<&[u8]>) -> SeedEntry {
        SeedEntry {
            key: key.to_owned(),
            value: value.to_vec(),
            metadata: metadata.map(<[u8]>::to_vec),
        }
    }

    fn store(name: &str, entries: Vec<SeedEntry>) -> StoreSeed {
        StoreSeed {
            name: name.to_owned(),
            entries,
        }
    }

    fn not_found() -> String {
        io::Error::from_raw_os_error(2).to_string()
    }

    // ---- accepted forms ----

    #[test]
    fn the_documented_example() {
        let dir = TempDir::new();
        dir.write("README.md", "# readme\n");
        dir.write(
            "kv.json",
            r#"{
                "first": "This is some data",
                "second": { "file": "README.md" },
                "third": { "data": "third", "metadata": "some metadata" },
                "fourth": { "file": "README.md", "metadata": "m4" }
            }"#,
        );
        let config = parse_in(
            &dir,
            r#"
manifest_version = 3
name = "my-app"
language = "javascript"

[local_server.kv_stores]
files = [
  { key = "hello", data = "world" },
  { key = "readme", file = "README.md", metadata = "text" },
]
other = { file = "kv.json", format = "json" }
empty = []
"#,
        );
        assert_eq!(config.path, Path::new("fastly.toml"));
        assert_eq!(config.warnings, Vec::<String>::new());
        assert_eq!(
            config.kv_stores,
            vec![
                store("empty", vec![]),
                store(
                    "files",
                    vec![
                        entry("hello", b"world", None),
                        entry("readme", b"# readme\n", Some(b"text")),
                    ]
                ),
                store(
                    "other",
                    vec![
                        entry("first", b"This is some data", None),
                        entry("fourth", b"# readme\n", Some(b"m4")),
                        entry("second", b"# readme\n", None),
                        entry("third", b"third", Some(b"some metadata")),
                    ]
                ),
            ]
        );
    }

    #[test]
    fn older_spellings_and_path_alias() {
        let dir = TempDir::new();
        dir.write("data/v.txt", "from a file");
        let config = parse_in(
            &dir,
            r#"
[local_server.object_stores]
one = [{ key = "a", path = "data/v.txt", metadata = "m" }]
"#,
        );
        assert_eq!(
            config.kv_stores,
            vec![store("one", vec![entry("a", b"from a file", Some(b"m"))])]
        );

        let config = parse_in(
            &dir,
            "[local_server.object_store]\ntwo = [{ key = \"b\", data = \"x\" }]\n",
        );
        assert_eq!(
            config.kv_stores,
            vec![store("two", vec![entry("b", b"x", None)])]
        );
    }

    #[test]
    fn spellings_are_merged_and_sorted() {
        let config = parse(
            r#"
[local_server.object_stores]
b = [{ key = "k", data = "from object_stores" }]
[local_server.kv_stores]
c = []
a = [{ key = "k", data = "from kv_stores" }]
[local_server.object_store]
aa = []
"#,
        );
        let names: Vec<&str> = config.kv_stores.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "aa", "b", "c"]);
        assert_eq!(
            config.kv_stores[0].entries,
            vec![entry("k", b"from kv_stores", None)]
        );
        assert_eq!(
            config.kv_stores[2].entries,
            vec![entry("k", b"from object_stores", None)]
        );
    }

    #[test]
    fn other_toml_spellings_of_the_same_thing() {
        // Viceroy's own tests use dotted keys under [local_server].
        let config = parse(
            r#"
[local_server]
kv_stores.empty_store = []
kv_stores.store_one = [{key = "first", data = "This is some data"}, {key = "third", data = "third", metadata = "some metadata"}]
"#,
        );
        assert_eq!(
            config.kv_stores,
            vec![
                store("empty_store", vec![]),
                store(
                    "store_one",
                    vec![
                        entry("first", b"This is some data", None),
                        entry("third", b"third", Some(b"some metadata")),
                    ]
                ),
            ]
        );

        // An array of tables, and multi-line and literal strings.
        let config = parse(
            r#"
[[local_server.kv_stores.s]]
key = "a"
data = """
line 1
line 2"""

[[local_server.kv_stores.s]]
key = 'b'
data = 'C:\raw'
metadata = '{"version": 1}'
"#,
        );
        assert_eq!(
            config.kv_stores,
            vec![store(
                "s",
                vec![
                    entry("a", b"line 1\nline 2", None),
                    entry("b", b"C:\\raw", Some(b"{\"version\": 1}")),
                ]
            )]
        );

        // A quoted store name.
        let config = parse("[local_server.kv_stores]\n\"my store.v2\" = []\n");
        assert_eq!(config.kv_stores, vec![store("my store.v2", vec![])]);
    }

    #[test]
    fn no_stores() {
        assert_eq!(parse("").kv_stores, vec![]);
        assert_eq!(parse("name = \"app\"\n").kv_stores, vec![]);
        assert_eq!(parse("[local_server]\n").kv_stores, vec![]);
        assert_eq!(parse("[local_server.kv_stores]\n").kv_stores, vec![]);
        let config = parse(
            r#"
manifest_version = 99
name = "app"
description = "d"
authors = ["me@example.com"]
language = "javascript"
service_id = "abc"

[scripts]
build = "npm run build"

[local_server]
fake_valid_fastly_keys = ["k"]

[local_server.backends]
origin = { url = "http://127.0.0.1:8080", override_host = "example.com" }

[local_server.config_stores.cfg]
format = "inline-toml"
[local_server.config_stores.cfg.contents]
a = "b"

[local_server.secret_stores]
sec = [{ key = "k", data = "v" }]

[setup.kv_stores.remote]
items = [{ key = "k", value = "v" }]
"#,
        );
        assert_eq!(config.kv_stores, vec![]);
        assert_eq!(config.warnings, Vec::<String>::new());
    }

    #[test]
    fn empty_stores() {
        let dir = TempDir::new();
        dir.write("empty.json", "{}");
        let config = parse_in(
            &dir,
            "[local_server.kv_stores]\na = []\nb = { file = \"empty.json\", format = \"json\" }\n",
        );
        assert_eq!(
            config.kv_stores,
            vec![store("a", vec![]), store("b", vec![])]
        );
    }

    #[test]
    fn json_seed_file_with_path_alias_and_nested_files() {
        let dir = TempDir::new();
        let binary: &[u8] = &[0, 159, 146, 150, 255, b'\n'];
        dir.write("bin/blob", binary);
        dir.write(
            "seeds/kv.json",
            "{\"b\": {\"file\": \"bin/blob\"}, \"a\": \"caf\\u00e9 \u{1F600}\", \"c\": {\"data\": \"\", \"metadata\": \"\"}}",
        );
        let config = parse_in(
            &dir,
            "[local_server.kv_stores]\nj = { path = \"seeds/kv.json\", format = \"json\" }\n",
        );
        assert_eq!(
            config.kv_stores,
            vec![store(
                "j",
                vec![
                    entry("a", "café 😀".as_bytes(), None),
                    entry("b", binary, None),
                    entry("c", b"", Some(b"")),
                ]
            )]
        );
        assert_eq!(config.warnings, Vec::<String>::new());
    }

    #[test]
    fn file_values_are_raw_bytes_and_absolute_paths_work() {
        let dir = TempDir::new();
        let binary: &[u8] = &[0xff, 0xfe, 0, 1, 2];
        let abs = dir.write("abs.bin", binary);
        let other = TempDir::new();
        let text = format!(
            "[local_server.kv_stores]\ns = [{{ key = \"k\", file = {:?} }}]\n",
            abs.display().to_string()
        );
        let config = parse_in(&other, &text);
        assert_eq!(
            config.kv_stores,
            vec![store("s", vec![entry("k", binary, None)])]
        );
    }

    #[test]
    fn empty_data_and_metadata() {
        let config = parse(
            "[local_server.kv_stores]\ns = [{ key = \"k\", data = \"\", metadata = \"\" }]\n",
        );
        assert_eq!(
            config.kv_stores,
            vec![store("s", vec![entry("k", b"", Some(b""))])]
        );
    }

    #[test]
    fn keys_that_are_allowed() {
        let long = "é".repeat(512); // exactly 1024 bytes
        let keys = [
            "a/b",
            "*",
            "[x]",
            ".a",
            "..a",
            "a..",
            "a.b",
            "a/.b",
            "a/..b",
            "  ",
            " a",
            ".well-known/acme",
            "well-known/acme-challenge",
            "\u{7f}",
            "\u{FFFE}",
            "\u{0}x",
            "日本語",
            long.as_str(),
        ];
        let entries: Vec<String> = keys
            .iter()
            .map(|k| {
                format!(
                    "{{ key = {}, data = \"v\" }}",
                    toml::Value::String((*k).to_owned())
                )
            })
            .collect();
        let config = parse(&format!(
            "[local_server.kv_stores]\ns = [{}]\n",
            entries.join(", ")
        ));
        let got: Vec<&str> = config.kv_stores[0]
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(got, keys);
    }

    #[test]
    fn duplicate_keys_last_wins_with_a_warning() {
        let config = parse(
            r#"
[local_server.kv_stores]
s = [
  { key = "a", data = "1", metadata = "m" },
  { key = "b", data = "2" },
  { key = "a", data = "3" },
]
"#,
        );
        assert_eq!(
            config.kv_stores,
            vec![store(
                "s",
                vec![entry("a", b"3", None), entry("b", b"2", None)]
            )]
        );
        assert_eq!(
            config.warnings,
            vec![
                "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 2 (key \"a\"): \
                 key \"a\" was already given at index 0; the last value wins, remove the duplicate"
                    .to_owned()
            ]
        );
    }

    #[test]
    fn unknown_fields_are_ignored_with_a_warning() {
        let dir = TempDir::new();
        dir.write("v.txt", "file");
        dir.write(
            "kv.json",
            r#"{"k": {"data": "d", "metdata": "oops", "path": "x"}}"#,
        );
        let config = parse_in(
            &dir,
            r#"
[local_server.kv_stores]
s = [{ key = "a", data = "1", metdata = "m", ttl = 5 }]
t = [{ key = "b", file = "v.txt", path = "missing.txt" }]
j = { file = "kv.json", format = "json", encoding = "utf-8" }
"#,
        );
        assert_eq!(
            config.kv_stores,
            vec![
                store("j", vec![entry("k", b"d", None)]),
                store("s", vec![entry("a", b"1", None)]),
                store("t", vec![entry("b", b"file", None)]),
            ]
        );
        assert_eq!(
            config.warnings,
            [
                "fastly.toml: [local_server.kv_stores] store \"j\": unknown field \"encoding\" \
                 ignored (the fields are file, path, format); check its spelling",
                "fastly.toml: [local_server.kv_stores] store \"j\", JSON file \"kv.json\", key \
                 \"k\": unknown field \"metdata\" ignored (the fields are data, file, metadata); \
                 check its spelling",
                "fastly.toml: [local_server.kv_stores] store \"j\", JSON file \"kv.json\", key \
                 \"k\": unknown field \"path\" ignored (the fields are data, file, metadata); \
                 check its spelling",
                "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0 (key \"a\"): \
                 unknown field \"metdata\" ignored (the fields are key, data, file, path, \
                 metadata); check its spelling",
                "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0 (key \"a\"): \
                 unknown field \"ttl\" ignored (the fields are key, data, file, path, metadata); \
                 check its spelling",
                "fastly.toml: [local_server.kv_stores] store \"t\", entry at index 0 (key \"b\"): \
                 both \"file\" and \"path\" are set; \"path\" (the older name of \"file\") is \
                 ignored, remove it",
            ]
        );
    }

    #[test]
    fn store_table_with_file_and_path_uses_file() {
        let dir = TempDir::new();
        dir.write("kv.json", r#"{"k": "v"}"#);
        let config = parse_in(
            &dir,
            "[local_server.kv_stores]\nj = { file = \"kv.json\", path = \"nope.json\", format = \"json\" }\n",
        );
        assert_eq!(
            config.kv_stores,
            vec![store("j", vec![entry("k", b"v", None)])]
        );
        assert_eq!(
            config.warnings,
            ["fastly.toml: [local_server.kv_stores] store \"j\": both \"file\" and \"path\" are \
              set; \"path\" (the older name of \"file\") is ignored, remove it"]
        );
    }

    #[test]
    fn store_names_that_can_never_be_opened_are_warned_about() {
        let long = "n".repeat(256);
        let config = parse(&format!(
            "[local_server.kv_stores]\n\"\" = []\n\"a\\tb\" = []\n{long} = []\nok = []\n"
        ));
        assert_eq!(config.kv_stores.len(), 4);
        assert_eq!(
            config.warnings,
            [
                "fastly.toml: [local_server.kv_stores] store \"\": the store name is empty, so \
                 new KVStore(name) can never open this store; rename it"
                    .to_owned(),
                "fastly.toml: [local_server.kv_stores] store \"a\\tb\": the store name contains a \
                 control character, so new KVStore(name) can never open this store; rename it"
                    .to_owned(),
                format!(
                    "fastly.toml: [local_server.kv_stores] store \"{}\"... (256 bytes): the \
                     store name is longer than 255 bytes, so new KVStore(name) can never open \
                     this store; rename it",
                    "n".repeat(64)
                ),
            ]
        );
    }

    #[test]
    fn load_reads_the_file() {
        let dir = TempDir::new();
        dir.write("v.txt", "value");
        let path = dir.write(
            "fastly.toml",
            "[local_server.kv_stores]\ns = [{ key = \"k\", file = \"v.txt\" }]\n",
        );
        let config = FastlyToml::load(&path, dir.path()).unwrap();
        assert_eq!(config.path, path);
        assert_eq!(
            config.kv_stores,
            vec![store("s", vec![entry("k", b"value", None)])]
        );
    }

    #[test]
    fn find_config_looks_beside_the_app_then_in_cwd() {
        let dir = TempDir::new();
        let cwd = dir.path().join("cwd");
        std::fs::create_dir_all(&cwd).unwrap();
        dir.write("app/bin/index.js", "");
        let app = dir.path().join("app/bin/index.js");

        assert_eq!(find_config(&app, &cwd), None);

        let in_cwd = dir.write("cwd/fastly.toml", "");
        assert_eq!(find_config(&app, &cwd), Some(in_cwd.clone()));

        let beside = dir.write("app/bin/fastly.toml", "");
        assert_eq!(find_config(&app, &cwd), Some(beside.clone()));

        // A relative app path is taken relative to cwd.
        dir.write("cwd/rel/app.js", "");
        assert_eq!(
            find_config(Path::new("rel/app.js"), &cwd),
            Some(in_cwd.clone())
        );
        let rel_beside = dir.write("cwd/rel/fastly.toml", "");
        assert_eq!(find_config(Path::new("rel/app.js"), &cwd), Some(rel_beside));
        assert_eq!(find_config(Path::new("app.js"), &cwd), Some(in_cwd.clone()));

        // An app directory is looked into.
        assert_eq!(find_config(&dir.path().join("app/bin"), &cwd), Some(beside));

        // A directory named fastly.toml does not count.
        std::fs::remove_file(&in_cwd).unwrap();
        std::fs::create_dir_all(&in_cwd).unwrap();
        assert_eq!(find_config(Path::new("app.js"), &cwd), None);
    }

    #[test]
    fn check_key_rules() {
        assert_eq!(check_key("a"), Ok(()));
        assert_eq!(check_key(""), Err(KeyProblem::Empty));
        assert_eq!(check_key(&"x".repeat(1025)), Err(KeyProblem::TooLong(1025)));
        assert_eq!(check_key("a|b#c"), Err(KeyProblem::ForbiddenChar('|')));
        assert_eq!(check_key("../x?"), Err(KeyProblem::ForbiddenChar('?')));
        assert_eq!(
            check_key(".well-known/acme-challenge"),
            Err(KeyProblem::AcmeChallenge)
        );
        assert_eq!(check_key("."), Err(KeyProblem::DotName(".")));
        assert_eq!(check_key(".."), Err(KeyProblem::DotName("..")));
        assert_eq!(check_key("a/../b"), Err(KeyProblem::DotSegment("../")));
        assert_eq!(check_key("a./b"), Err(KeyProblem::DotSegment("./")));
        assert_eq!(check_key("a/.."), Err(KeyProblem::DotSegment("/..")));
        assert_eq!(check_key("a/."), Err(KeyProblem::DotSegment("/.")));
        assert_eq!(check_key("\u{20}"), Err(KeyProblem::SingleControl(' ')));
        assert_eq!(check_key("\u{0}"), Err(KeyProblem::SingleControl('\0')));
    }

    // ---- rejected forms ----

    #[test]
    fn toml_syntax_errors_have_line_and_column() {
        assert_eq!(
            error("[local_server.kv_stores]\ns = [{ key = \"a\", data = }]\n"),
            "fastly.toml: TOML parse error at line 2, column 26\n  |\n2 | s = [{ key = \"a\", data = }]\n  |                          ^\ninvalid string\nexpected `\"`, `'`"
        );
        assert_eq!(
            error("[local_server.kv_stores]\na = []\na = []\n"),
            "fastly.toml: TOML parse error at line 3, column 1\n  |\n3 | a = []\n  | ^\nduplicate key `a` in table `local_server.kv_stores`"
        );
    }

    #[test]
    fn misplaced_sections() {
        assert_eq!(
            error("local_server = 5\n"),
            "fastly.toml: \"local_server\" must be a table ([local_server]), found an integer"
        );
        assert_eq!(
            error("[local_server]\nkv_stores = [{ key = \"a\", data = \"b\" }]\n"),
            "fastly.toml: \"local_server.kv_stores\" must be a table of KV stores such as \
             [local_server.kv_stores] with lines like name = [{ key = \"hello\", data = \
             \"world\" }], found an array"
        );
        assert_eq!(
            error("[local_server]\nobject_stores = \"x\"\n"),
            "fastly.toml: \"local_server.object_stores\" must be a table of KV stores such as \
             [local_server.object_stores] with lines like name = [{ key = \"hello\", data = \
             \"world\" }], found a string"
        );
    }

    #[test]
    fn the_same_store_under_two_spellings() {
        assert_eq!(
            error("[local_server.kv_stores]\ns = []\n[local_server.object_stores]\ns = []\n"),
            "fastly.toml: KV store \"s\" is defined twice, in [local_server.kv_stores] and in \
             [local_server.object_stores]; remove or rename one of them"
        );
        assert_eq!(
            error("[local_server.object_store]\ns = []\n[local_server.object_stores]\ns = []\n"),
            "fastly.toml: KV store \"s\" is defined twice, in [local_server.object_stores] and \
             in [local_server.object_store]; remove or rename one of them"
        );
    }

    #[test]
    fn store_of_the_wrong_type() {
        assert_eq!(
            error("[local_server.kv_stores]\ns = \"data.json\"\n"),
            "fastly.toml: [local_server.kv_stores] store \"s\": expected an array of entries \
             such as [{ key = \"hello\", data = \"world\" }] or a JSON seed file such as \
             { file = \"seeds.json\", format = \"json\" }, found a string"
        );
        assert_eq!(
            error("[local_server.object_store]\ns = 5\n"),
            "fastly.toml: [local_server.object_store] store \"s\": expected an array of entries \
             such as [{ key = \"hello\", data = \"world\" }] or a JSON seed file such as \
             { file = \"seeds.json\", format = \"json\" }, found an integer"
        );
    }

    #[test]
    fn entries_of_the_wrong_shape() {
        assert_eq!(
            entry_error("\"hello\""),
            "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0: expected an \
             inline table such as { key = \"hello\", data = \"world\" }, found a string"
        );
        assert_eq!(
            error("[local_server.kv_stores]\ns = [{ key = \"a\", data = \"b\" }, [1]]\n"),
            "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 1: expected an \
             inline table such as { key = \"hello\", data = \"world\" }, found an array"
        );
        assert_eq!(
            entry_error("{ data = \"b\" }"),
            "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0: the entry has \
             no \"key\"; add key = \"...\""
        );
        assert_eq!(
            entry_error("{ key = 3, data = \"b\" }"),
            "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0: \"key\" must \
             be a string, found an integer; write it as a string, e.g. key = \"...\""
        );
    }

    #[test]
    fn bad_keys() {
        let prefix = "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0";
        let cases: &[(&str, &str)] = &[
            (
                "",
                "(key \"\"): the key is empty; give the entry a non-empty key",
            ),
            (
                ".",
                "(key \".\"): the key is \".\"; keys cannot be \".\" or \"..\", rename it",
            ),
            (
                "..",
                "(key \"..\"): the key is \"..\"; keys cannot be \".\" or \"..\", rename it",
            ),
            (
                "a/../b",
                "(key \"a/../b\"): the key contains \"../\"; keys cannot contain \"./\" or \
                 \"../\" or end with \"/.\" or \"/..\", rename it",
            ),
            (
                "./a",
                "(key \"./a\"): the key contains \"./\"; keys cannot contain \"./\" or \"../\" \
                 or end with \"/.\" or \"/..\", rename it",
            ),
            (
                "a/.",
                "(key \"a/.\"): the key ends with \"/.\"; keys cannot contain \"./\" or \"../\" \
                 or end with \"/.\" or \"/..\", rename it",
            ),
            (
                "a/..",
                "(key \"a/..\"): the key ends with \"/..\"; keys cannot contain \"./\" or \
                 \"../\" or end with \"/.\" or \"/..\", rename it",
            ),
            (
                ".well-known/acme-challenge/token",
                "(key \".well-known/acme-challenge/token\"): the key starts with \
                 \".well-known/acme-challenge\", which is reserved; rename it",
            ),
            (
                ".well-known/acme-challengex",
                "(key \".well-known/acme-challengex\"): the key starts with \
                 \".well-known/acme-challenge\", which is reserved; rename it",
            ),
            (
                "a#b;c",
                "(key \"a#b;c\"): the key contains '#'; keys cannot contain '#', ';', '?', '^', \
                 '|', newlines or carriage returns, rename it",
            ),
            (
                "x?",
                "(key \"x?\"): the key contains '?'; keys cannot contain '#', ';', '?', '^', \
                 '|', newlines or carriage returns, rename it",
            ),
            (
                "^",
                "(key \"^\"): the key contains '^'; keys cannot contain '#', ';', '?', '^', \
                 '|', newlines or carriage returns, rename it",
            ),
            (
                "a|b",
                "(key \"a|b\"): the key contains '|'; keys cannot contain '#', ';', '?', '^', \
                 '|', newlines or carriage returns, rename it",
            ),
            (
                ";",
                "(key \";\"): the key contains ';'; keys cannot contain '#', ';', '?', '^', \
                 '|', newlines or carriage returns, rename it",
            ),
            (
                "line\nbreak",
                "(key \"line\\nbreak\"): the key contains a newline; keys cannot contain '#', \
                 ';', '?', '^', '|', newlines or carriage returns, rename it",
            ),
            (
                "cr\r",
                "(key \"cr\\r\"): the key contains a carriage return; keys cannot contain '#', \
                 ';', '?', '^', '|', newlines or carriage returns, rename it",
            ),
            (
                " ",
                "(key \" \"): the key is the single character U+0020; a one-character key \
                 cannot be a control character or a space, rename it",
            ),
            (
                "\u{1}",
                "(key \"\\u{1}\"): the key is the single character U+0001; a one-character key \
                 cannot be a control character or a space, rename it",
            ),
        ];
        for (key, expected) in cases {
            let entry = format!(
                "{{ key = {}, data = \"v\" }}",
                toml::Value::String((*key).to_owned())
            );
            assert_eq!(
                entry_error(&entry),
                format!("{prefix} {expected}"),
                "key {key:?}"
            );
        }

        let long = "k".repeat(1025);
        assert_eq!(
            entry_error(&format!("{{ key = \"{long}\", data = \"v\" }}")),
            format!(
                "{prefix} (key \"{}\"... (1025 bytes)): the key is 1025 bytes long; keys can be \
                 at most 1024 bytes (UTF-8), shorten it",
                "k".repeat(64)
            )
        );
    }

    #[test]
    fn fields_of_the_wrong_type() {
        let prefix =
            "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0 (key \"a\")";
        assert_eq!(
            entry_error("{ key = \"a\", data = \"v\", metadata = 1 }"),
            format!(
                "{prefix}: \"metadata\" must be a string, found an integer; write it as a \
                 string, e.g. metadata = '{{\"version\": 1}}' for JSON metadata"
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\", data = \"v\", metadata = { version = 1 } }"),
            format!(
                "{prefix}: \"metadata\" must be a string, found a table; write it as a string, \
                 e.g. metadata = '{{\"version\": 1}}' for JSON metadata"
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\", data = 1 }"),
            format!(
                "{prefix}: \"data\" must be a string, found an integer; write it as a string, \
                 e.g. data = \"...\""
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\", data = [1, 2] }"),
            format!(
                "{prefix}: \"data\" must be a string, found an array; write it as a string, \
                 e.g. data = \"...\""
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\", file = 1 }"),
            format!(
                "{prefix}: \"file\" must be a string, found an integer; write it as a string, \
                 e.g. file = \"...\""
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\", path = true }"),
            format!(
                "{prefix}: \"path\" must be a string, found a boolean; write it as a string, \
                 e.g. path = \"...\""
            )
        );
    }

    #[test]
    fn data_and_file_both_or_neither() {
        let prefix =
            "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0 (key \"a\")";
        assert_eq!(
            entry_error("{ key = \"a\", data = \"v\", file = \"f\" }"),
            format!(
                "{prefix}: both \"data\" and \"file\" are set; keep only one of them (data for \
                 the value itself, file for a file holding it)"
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\", data = \"v\", path = \"f\" }"),
            format!(
                "{prefix}: both \"data\" and \"path\" are set; keep only one of them (data for \
                 the value itself, path for a file holding it)"
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\" }"),
            format!(
                "{prefix}: the entry has neither \"data\" nor \"file\"; add data = \"...\" or \
                 file = \"<path>\""
            )
        );
        assert_eq!(
            entry_error("{ key = \"a\", metadata = \"m\", value = \"v\" }"),
            format!(
                "{prefix}: the entry has neither \"data\" nor \"file\"; add data = \"...\" or \
                 file = \"<path>\""
            )
        );
    }

    #[test]
    fn unreadable_files() {
        let dir = TempDir::new();
        assert_eq!(
            error_in(
                &dir,
                "[local_server.kv_stores]\ns = [{ key = \"a\", file = \"missing.txt\" }]\n"
            ),
            format!(
                "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0 (key \
                 \"a\"): cannot read file \"missing.txt\" ({}): {}; fix the path (a relative \
                 path is resolved against the directory the server runs in)",
                dir.show("missing.txt"),
                not_found()
            )
        );
        let abs = dir.show("gone.txt");
        assert_eq!(
            error_in(
                &dir,
                &format!(
                    "[local_server.kv_stores]\ns = [{{ key = \"a\", path = {} }}]\n",
                    toml::Value::String(abs.clone())
                )
            ),
            format!(
                "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0 (key \
                 \"a\"): cannot read file {abs:?}: {}; fix the path",
                not_found()
            )
        );
        // A directory is not a file.
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        let message = error_in(
            &dir,
            "[local_server.kv_stores]\ns = [{ key = \"a\", file = \"sub\" }]\n",
        );
        assert!(
            message.starts_with(&format!(
                "fastly.toml: [local_server.kv_stores] store \"s\", entry at index 0 (key \
                 \"a\"): cannot read file \"sub\" ({}): ",
                dir.show("sub")
            )),
            "{message}"
        );
    }

    #[test]
    fn bad_store_tables() {
        let prefix = "fastly.toml: [local_server.kv_stores] store \"s\"";
        let store_error = |table: &str| error(&format!("[local_server.kv_stores]\ns = {table}\n"));
        assert_eq!(
            store_error("{ file = \"kv.json\" }"),
            format!(
                "{prefix}: \"file\" is set but \"format\" is not; add format = \"json\" (the \
                 only supported format)"
            )
        );
        assert_eq!(
            store_error("{ path = \"kv.json\" }"),
            format!(
                "{prefix}: \"path\" is set but \"format\" is not; add format = \"json\" (the \
                 only supported format)"
            )
        );
        assert_eq!(
            store_error("{ format = \"json\" }"),
            format!(
                "{prefix}: \"format\" is set but \"file\" is not; add file = \"<path to a JSON \
                 file>\""
            )
        );
        assert_eq!(
            store_error("{}"),
            format!(
                "{prefix}: a table must name a JSON seed file, e.g. {{ file = \"seeds.json\", \
                 format = \"json\" }}; otherwise write the store as an array of entries, e.g. \
                 [{{ key = \"hello\", data = \"world\" }}]"
            )
        );
        assert_eq!(
            store_error("{ key = \"a\", data = \"b\" }"),
            format!(
                "{prefix}: a store is an array of entries, not a single entry; wrap it in an \
                 array, e.g. [{{ key = \"hello\", data = \"world\" }}]"
            )
        );
        assert_eq!(
            store_error("{ file = \"kv.yaml\", format = \"yaml\" }"),
            format!(
                "{prefix}: format \"yaml\" is not supported; use format = \"json\" with a JSON \
                 seed file"
            )
        );
        assert_eq!(
            store_error("{ file = \"kv.json\", format = \"JSON\" }"),
            format!(
                "{prefix}: format \"JSON\" is not supported; use format = \"json\" with a JSON \
                 seed file"
            )
        );
        assert_eq!(
            store_error("{ file = \"kv.json\", format = 1 }"),
            format!(
                "{prefix}: \"format\" must be a string, found an integer; write it as a string, \
                 e.g. format = \"...\""
            )
        );
        assert_eq!(
            store_error("{ file = [\"kv.json\"], format = \"json\" }"),
            format!(
                "{prefix}: \"file\" must be a string, found an array; write it as a string, \
                 e.g. file = \"...\""
            )
        );
        // Also as a [table] header.
        assert_eq!(
            error("[local_server.kv_stores.s]\nfile = \"kv.json\"\n"),
            format!(
                "{prefix}: \"file\" is set but \"format\" is not; add format = \"json\" (the \
                 only supported format)"
            )
        );
    }

    #[test]
    fn bad_json_seed_files() {
        let dir = TempDir::new();
        let json_error = |name: &str, contents: &str| {
            dir.write(name, contents);
            error_in(
                &dir,
                &format!(
                    "[local_server.kv_stores]\nj = {{ file = \"{name}\", format = \"json\" }}\n"
                ),
            )
        };
        let file = |name: &str| {
            format!("fastly.toml: [local_server.kv_stores] store \"j\", JSON file \"{name}\"")
        };

        assert_eq!(
            error_in(
                &dir,
                "[local_server.kv_stores]\nj = { file = \"none.json\", format = \"json\" }\n"
            ),
            format!(
                "{}: cannot read file \"none.json\" ({}): {}; fix the path (a relative path is \
                 resolved against the directory the server runs in)",
                file("none.json"),
                dir.show("none.json"),
                not_found()
            )
        );
        assert_eq!(
            json_error("a.json", "{\n  \"k\": \"v\",\n}\n"),
            format!(
                "{}: invalid JSON: trailing comma at line 3 column 1",
                file("a.json")
            )
        );
        assert_eq!(
            json_error("b.json", ""),
            format!(
                "{}: invalid JSON: EOF while parsing a value at line 1 column 0",
                file("b.json")
            )
        );
        assert_eq!(
            json_error("c.json", "[\"k\", \"v\"]"),
            format!(
                "{}: expected a JSON object mapping keys to values, such as {{\"hello\": \
                 \"world\"}}, found an array",
                file("c.json")
            )
        );
        let wrong = |found: &str| {
            format!(
                "expected a string (the data) or an object such as {{\"data\": \"...\", \
                 \"metadata\": \"...\"}} or {{\"file\": \"<path>\"}}, found {found}"
            )
        };
        assert_eq!(
            json_error("d.json", "{\"ok\": \"v\", \"k\": 42}"),
            format!("{}, key \"k\": {}", file("d.json"), wrong("a number"))
        );
        assert_eq!(
            json_error("e.json", "{\"k\": null}"),
            format!("{}, key \"k\": {}", file("e.json"), wrong("null"))
        );
        assert_eq!(
            json_error("f.json", "{\"k\": [\"v\"]}"),
            format!("{}, key \"k\": {}", file("f.json"), wrong("an array"))
        );
        assert_eq!(
            json_error("g.json", "{\"k\": {\"data\": \"v\", \"file\": \"x\"}}"),
            format!(
                "{}, key \"k\": both \"data\" and \"file\" are set; keep only one of them",
                file("g.json")
            )
        );
        assert_eq!(
            json_error("h.json", "{\"k\": {}}"),
            format!(
                "{}, key \"k\": the object has neither \"data\" nor \"file\"; add \"data\": \
                 \"...\" or \"file\": \"<path>\"",
                file("h.json")
            )
        );
        assert_eq!(
            json_error("i.json", "{\"k\": {\"path\": \"x\", \"metadata\": \"m\"}}"),
            format!(
                "{}, key \"k\": the object has neither \"data\" nor \"file\"; add \"data\": \
                 \"...\" or \"file\": \"<path>\" (JSON seed files do not accept \"path\"; rename \
                 it to \"file\")",
                file("i.json")
            )
        );
        assert_eq!(
            json_error(
                "j.json",
                "{\"k\": {\"data\": \"v\", \"metadata\": {\"a\": 1}}}"
            ),
            format!(
                "{}, key \"k\": \"metadata\" must be a string, found an object; write it as a \
                 string, e.g. \"metadata\": \"{{\\\"version\\\": 1}}\" for JSON metadata",
                file("j.json")
            )
        );
        assert_eq!(
            json_error("k.json", "{\"k\": {\"data\": 1}}"),
            format!(
                "{}, key \"k\": \"data\" must be a string, found a number; write it as a \
                 string, e.g. \"data\": \"...\"",
                file("k.json")
            )
        );
        assert_eq!(
            json_error("l.json", "{\"k\": {\"file\": false}}"),
            format!(
                "{}, key \"k\": \"file\" must be a string, found a boolean; write it as a \
                 string, e.g. \"file\": \"...\"",
                file("l.json")
            )
        );
        assert_eq!(
            json_error("m.json", "{\"k\": {\"file\": \"nowhere.bin\"}}"),
            format!(
                "{}, key \"k\": cannot read file \"nowhere.bin\" ({}): {}; fix the path (a \
                 relative path is resolved against the directory the server runs in)",
                file("m.json"),
                dir.show("nowhere.bin"),
                not_found()
            )
        );
        assert_eq!(
            json_error("n.json", "{\"a/../b\": \"v\"}"),
            format!(
                "{}, key \"a/../b\": the key contains \"../\"; keys cannot contain \"./\" or \
                 \"../\" or end with \"/.\" or \"/..\", rename it",
                file("n.json")
            )
        );
        assert_eq!(
            json_error("o.json", "{\"\": \"v\"}"),
            format!(
                "{}, key \"\": the key is empty; give the entry a non-empty key",
                file("o.json")
            )
        );
        let message = json_error("p.json", "\u{FEFF}{}");
        assert_eq!(
            message,
            format!(
                "{}: invalid JSON: expected value at line 1 column 1",
                file("p.json")
            )
        );
    }

    #[test]
    fn load_errors_name_the_file() {
        let dir = TempDir::new();
        let path = dir.path().join("fastly.toml");
        assert_eq!(
            FastlyToml::load(&path, dir.path()).unwrap_err().to_string(),
            format!(
                "cannot read config file {}: {}",
                path.display(),
                not_found()
            )
        );
        dir.write("fastly.toml", "[local_server.kv_stores]\ns = 1\n");
        assert_eq!(
            FastlyToml::load(&path, dir.path()).unwrap_err().to_string(),
            format!(
                "{}: [local_server.kv_stores] store \"s\": expected an array of entries such as \
                 [{{ key = \"hello\", data = \"world\" }}] or a JSON seed file such as {{ file = \
                 \"seeds.json\", format = \"json\" }}, found an integer",
                path.display()
            )
        );
    }

    #[test]
    fn errors_are_structured() {
        let err = FastlyToml::parse(
            "[local_server.object_stores]\ns = [{ key = \"ok\", data = \"\" }, { key = \"..\", data = \"v\" }]\n",
            Path::new("fastly.toml"),
            Path::new("."),
        )
        .unwrap_err();
        match err {
            ConfigError::Seed {
                path,
                location,
                problem: SeedProblem::InvalidKey(KeyProblem::DotName("..")),
            } => {
                assert_eq!(path, Path::new("fastly.toml"));
                assert_eq!(
                    *location,
                    SeedLocation {
                        section: "object_stores".to_owned(),
                        store: "s".to_owned(),
                        item: SeedItem::Entry {
                            index: 1,
                            key: Some("..".to_owned())
                        },
                    }
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
