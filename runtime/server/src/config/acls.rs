//! `[local_server.acls]`: the ACLs `Acl.open` finds, read as Viceroy reads them (its
//! `src/config/acl.rs` and `src/acl.rs`; the wording of each problem is Viceroy's).
//!
//! ```toml
//! [local_server.acls]
//! office = "acls/office.json"            # or: office = { file = "acls/office.json" }
//! ```
//!
//! Each file is `{"entries": [{"prefix": "192.0.2.0/24", "action": "BLOCK"}, ...]}`, relative
//! to the working directory.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use edgeshim_engine::AclEntry;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// What is wrong with one ACL: Viceroy's `AclConfigError` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclProblem {
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Json(String),
    #[error("acl must be a TOML table or string")]
    InvalidType,
    #[error("missing 'file' field")]
    MissingFile,
}

#[derive(Deserialize)]
struct AclFile {
    entries: Vec<FileEntry>,
}

#[derive(Deserialize)]
struct FileEntry {
    prefix: Prefix,
    action: Action,
}

struct Prefix(IpAddr, u8);

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let text = String::deserialize(de)?;
        let (ip, mask) = text
            .split_once('/')
            .ok_or_else(|| D::Error::custom(format!("invalid format '{text}': want IP/MASK")))?;
        let mask = mask
            .parse::<u8>()
            .map_err(|err| D::Error::custom(format!("invalid prefix {mask}: {err}")))?;
        let ip = if ip.contains(':') {
            if !(1..=128).contains(&mask) {
                return Err(D::Error::custom(format!(
                    "mask outside allowed range [1, 128]: {mask}"
                )));
            }
            ip.parse::<Ipv6Addr>().map(IpAddr::V6)
        } else {
            if !(1..=32).contains(&mask) {
                return Err(D::Error::custom(format!(
                    "mask outside allowed range [1, 32]: {mask}"
                )));
            }
            ip.parse::<Ipv4Addr>().map(IpAddr::V4)
        }
        .map_err(|err| D::Error::custom(format!("invalid ip address {ip}: {err}")))?;
        Ok(Self(ip, mask))
    }
}

/// `ALLOW` and `BLOCK` in any case; anything else as Viceroy prints it, `Other(<as written>)`.
struct Action(String);

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let action = String::deserialize(de)?;
        Ok(Self(match action.to_uppercase().as_str() {
            "ALLOW" => "ALLOW".to_owned(),
            "BLOCK" => "BLOCK".to_owned(),
            _ => format!("Other({action})"),
        }))
    }
}

/// Reads the table; `Err((acl, problem))` names the one that is wrong.
pub fn parse(
    table: &toml::Table,
    base_dir: &Path,
) -> Result<BTreeMap<String, Vec<AclEntry>>, (String, AclProblem)> {
    table
        .iter()
        .map(|(name, value)| {
            acl(value, base_dir)
                .map(|entries| (name.clone(), entries))
                .map_err(|problem| (name.clone(), problem))
        })
        .collect()
}

fn acl(value: &toml::Value, base_dir: &Path) -> Result<Vec<AclEntry>, AclProblem> {
    let file = match value {
        toml::Value::String(file) => file,
        toml::Value::Table(table) => table
            .get("file")
            .and_then(toml::Value::as_str)
            .ok_or(AclProblem::MissingFile)?,
        _ => return Err(AclProblem::InvalidType),
    };
    let path = base_dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| AclProblem::Io(format!("{}: {e}", path.display())))?;
    let parsed: AclFile =
        serde_json::from_str(&text).map_err(|e| AclProblem::Json(e.to_string()))?;
    Ok(parsed
        .entries
        .into_iter()
        .map(|entry| AclEntry::new(entry.prefix.0, entry.prefix.1, entry.action.0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_file(json: &str) -> Result<Vec<AclEntry>, AclProblem> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("acl.json"), json).expect("write");
        let table: toml::Table = toml::from_str("a = \"acl.json\"").expect("TOML");
        parse(&table, dir.path())
            .map(|mut acls| acls.remove("a").expect("the ACL"))
            .map_err(|(_, problem)| problem)
    }

    #[test]
    fn entries_are_masked_and_actions_normalized() {
        let entries = parse_file(
            r#"{"entries":[{"prefix":"100.100.7.7/16","action":"block"},
                           {"prefix":"2a03:4b80::/32","action":"ALLOW"},
                           {"prefix":"10.0.0.0/8","action":"log"}]}"#,
        )
        .expect("valid");
        let shown: Vec<String> = entries
            .iter()
            .map(|e| format!("{}/{} {}", e.ip, e.mask, e.action))
            .collect();
        assert_eq!(
            shown,
            [
                "100.100.0.0/16 BLOCK",
                "2a03:4b80::/32 ALLOW",
                "10.0.0.0/8 Other(log)"
            ]
        );
    }

    #[test]
    fn viceroys_messages_for_each_mistake() {
        for (json, message) in [
            (
                r#"{"entries":[{"prefix":"1.2.3.4","action":"ALLOW"}]}"#,
                "invalid format '1.2.3.4': want IP/MASK at line 1 column 31",
            ),
            (
                r#"{"entries":[{"prefix":"1.2.3.4/33","action":"ALLOW"}]}"#,
                "mask outside allowed range [1, 32]: 33 at line 1 column 34",
            ),
            (
                r#"{"entries":[{"prefix":"1.2.3/8","action":"ALLOW"}]}"#,
                "invalid ip address 1.2.3: invalid IPv4 address syntax at line 1 column 31",
            ),
        ] {
            assert_eq!(parse_file(json).expect_err(json).to_string(), message);
        }
        let table: toml::Table = toml::from_str("a = 1\n").expect("TOML");
        assert_eq!(
            parse(&table, Path::new(".")).expect_err("a number").1,
            AclProblem::InvalidType
        );
        let table: toml::Table = toml::from_str("[a]\npath = \"x\"\n").expect("TOML");
        assert_eq!(
            parse(&table, Path::new(".")).expect_err("no file").1,
            AclProblem::MissingFile
        );
    }
}
