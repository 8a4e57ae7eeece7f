//! Reading `fastly.toml`: its `[local_server]` section, one submodule per table, as Viceroy
//! splits its config (`src/config/*.rs`): `kv_stores`, `backends`, `config_stores`,
//! `secret_stores`, `geolocation`, `acls`, `device_detection`.
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
//! Everything else in `fastly.toml` (`manifest_version`, `name`, ...) is ignored. A bad seed is a [`ConfigError`] whose message names the config file, the
//! store and the entry, and says how to fix it. Things Viceroy silently tolerates but that are
//! probably mistakes (unknown fields, a key given twice, ...) are accepted and reported in
//! [`FastlyToml::warnings`].

mod acls;
mod backends;
mod config_stores;
mod device_detection;
mod geolocation;
mod kv_stores;
mod mapping_file;
#[cfg(test)]
mod proptests;
mod secret_stores;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub use kv_stores::{
    check_key, KeyProblem, SeedEntry, SeedItem, SeedLocation, SeedProblem, StoreSeed, MAX_KEY_BYTES,
};

/// The manifest's file name.
pub const CONFIG_FILE_NAME: &str = "fastly.toml";

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

    fn layout(&self, message: String) -> ConfigError {
        ConfigError::Layout {
            path: self.path.to_path_buf(),
            message,
        }
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
