//! Validated inputs of `fastly:kv-store`: store names, keys and `put` options.
//!
//! Each check lives in a constructor (`StoreName::new`, `Key::new`, ...) so that code past
//! the boundary never checks again. The rules and their order follow the contract
//! (`shared/reference/kv-store.md`, "new KVStore(name)", "Keys", "put").

use std::time::Duration;

use super::error::{KeyError, KvError, NameError};

/// The largest value `put` accepts after conversion: 30 MiB.
pub const MAX_VALUE_BYTES: usize = 30 * 1024 * 1024;
const MAX_NAME_BYTES: usize = 255;
const MAX_KEY_BYTES: usize = 1024;
/// `ttl` must stay below this many seconds (2^32).
const TTL_LIMIT_SECONDS: f64 = 4_294_967_296.0;

/// A store name that passed the constructor's checks (it may still name no configured store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreName(String);

impl StoreName {
    /// Checks in the platform's order: empty, longer than 255 UTF-8 bytes, control characters.
    pub fn new(name: String) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(NameError::TooLong);
        }
        if name.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(NameError::ControlChars);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key that passed the JS-side checks. The store applies its own host-side checks after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// `key` is the UTF-8 form of the JS string (lone surrogates already U+FFFD). Checks run
    /// in the platform's order and the first failure wins.
    pub fn new(key: String) -> Result<Self, KeyError> {
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong);
        }
        // The whole key is scanned (a NUL byte does not end it); the first offender by
        // position is the one named.
        let forbidden = key.chars().find_map(|c| match c {
            '#' => Some("#"),
            ';' => Some(";"),
            '?' => Some("?"),
            '^' => Some("^"),
            '|' => Some("|"),
            '\n' => Some("newline"),
            '\r' => Some("carriage return"),
            _ => None,
        });
        if let Some(what) = forbidden {
            return Err(KeyError::ForbiddenChar(what));
        }
        if key.starts_with(".well-known/acme-challenge/") {
            return Err(KeyError::AcmeChallenge);
        }
        if key == "." || key == ".." {
            return Err(KeyError::Dots);
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `key` passes `fastly:kv-store`'s key checks, else the runtime's message (for tools
/// that write the same stores, `edgeshim kv`).
///
/// # Errors
/// The message `KVStore.get` and friends would throw for it.
pub fn check_key(key: &str) -> Result<(), String> {
    Key::new(key.to_owned())
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `put`'s `ttl` after ToNumber: a RangeError outside `[0, 2^32)`, else whole seconds.
pub fn ttl_from_number(n: f64) -> Result<Duration, KvError> {
    if n.is_nan() {
        return Err(KvError::TtlNaN);
    }
    if n < 0.0 {
        return Err(KvError::TtlNegative);
    }
    if n >= TTL_LIMIT_SECONDS {
        return Err(KvError::TtlTooBig);
    }
    // In range, so the rounded value fits a u64 exactly.
    Ok(Duration::from_secs(n.round() as u64))
}

/// `put`'s `gen` once known to be a number other than 0: the platform truncates it to an
/// integer (`NaN` becomes 0, which matches no generation).
pub fn generation_from_number(n: f64) -> u64 {
    if n.is_nan() || n < 0.0 {
        0
    } else {
        n.trunc() as u64
    }
}

/// Whether `mode` is one of the four the docs list (case-sensitive).
pub fn is_documented_mode(mode: &str) -> bool {
    matches!(mode, "overwrite" | "add" | "append" | "prepend")
}

/// `put`'s `mode`: case-sensitive, and any other string silently means overwrite.
pub fn insert_mode(mode: &str) -> edgeshim_store::InsertMode {
    use edgeshim_store::InsertMode;
    match mode {
        "add" => InsertMode::Add,
        "append" => InsertMode::Append,
        "prepend" => InsertMode::Prepend,
        _ => InsertMode::Overwrite,
    }
}

/// `list`'s `limit` once known to be a number: `None` unless it is integral (NaN is not).
///
/// Production stores the limit in a `uint32`: an int32 value wraps (`-1` becomes
/// 4294967295, "list everything"), and other integral doubles saturate, as wasm's
/// float-to-int conversion does. 0 means the default (1000), as a limit of 0 could never
/// make progress.
pub fn list_limit_from_number(n: f64) -> Option<u64> {
    if n.is_nan() || n.floor() != n {
        return None;
    }
    let limit = if n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) {
        // In int32 range and integral, so the cast is exact; then reinterpret as uint32.
        (n as i32) as u32
    } else {
        // Saturating: below 0 gives 0, above (and Infinity) gives u32::MAX.
        n as u32
    };
    Some(u64::from(limit))
}

/// Refuses a converted value larger than 30 MiB.
pub fn check_value_size(len: usize) -> Result<(), KvError> {
    if len > MAX_VALUE_BYTES {
        Err(KvError::ValueTooBig)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_order() {
        assert_eq!(StoreName::new(String::new()), Err(NameError::Empty));
        assert_eq!(StoreName::new("a".repeat(255)).map(|n| n.0.len()), Ok(255));
        assert_eq!(StoreName::new("a".repeat(256)), Err(NameError::TooLong));
        // 128 two-byte characters are 256 bytes.
        assert_eq!(StoreName::new("é".repeat(128)), Err(NameError::TooLong));
        assert_eq!(
            StoreName::new("a\u{1f}".into()),
            Err(NameError::ControlChars)
        );
        assert_eq!(
            StoreName::new("a\u{7f}".into()),
            Err(NameError::ControlChars)
        );
        assert_eq!(StoreName::new("\0".into()), Err(NameError::ControlChars));
        // Length is checked before control characters.
        assert_eq!(StoreName::new("\n".repeat(256)), Err(NameError::TooLong));
        assert!(StoreName::new("files".into()).is_ok());
    }

    #[test]
    fn keys_in_order() {
        assert_eq!(Key::new(String::new()), Err(KeyError::Empty));
        assert!(Key::new("😀".repeat(256)).is_ok(), "exactly 1024 bytes");
        assert_eq!(
            Key::new("é".repeat(513)),
            Err(KeyError::TooLong),
            "1026 bytes"
        );
        assert!(Key::new("a".repeat(1024)).is_ok());
        assert_eq!(Key::new("a".repeat(1025)), Err(KeyError::TooLong));
        assert_eq!(Key::new("a|b#c".into()), Err(KeyError::ForbiddenChar("|")));
        assert_eq!(Key::new("a\0b?".into()), Err(KeyError::ForbiddenChar("?")));
        assert_eq!(
            Key::new("x\ny".into()),
            Err(KeyError::ForbiddenChar("newline"))
        );
        assert_eq!(
            Key::new("x\ry".into()),
            Err(KeyError::ForbiddenChar("carriage return"))
        );
        for c in ["#", ";", "^"] {
            assert_eq!(Key::new(format!("k{c}")), Err(KeyError::ForbiddenChar(c)));
        }
        assert_eq!(
            Key::new(".well-known/acme-challenge/x".into()),
            Err(KeyError::AcmeChallenge)
        );
        assert_eq!(
            Key::new(".well-known/acme-challenge/?".into()),
            Err(KeyError::ForbiddenChar("?")),
            "characters are checked before the prefix"
        );
        // Without the slash the JS check passes (the host refuses it later).
        assert!(Key::new(".well-known/acme-challenge".into()).is_ok());
        assert_eq!(Key::new(".".into()), Err(KeyError::Dots));
        assert_eq!(Key::new("..".into()), Err(KeyError::Dots));
        assert!(Key::new("...".into()).is_ok());
    }

    #[test]
    fn ttl_bounds_and_rounding() {
        assert_eq!(ttl_from_number(f64::NAN), Err(KvError::TtlNaN));
        assert_eq!(ttl_from_number(-0.5), Err(KvError::TtlNegative));
        assert_eq!(ttl_from_number(0.0), Ok(Duration::ZERO));
        assert_eq!(ttl_from_number(1.4), Ok(Duration::from_secs(1)));
        assert_eq!(ttl_from_number(1.5), Ok(Duration::from_secs(2)));
        assert_eq!(
            ttl_from_number(4_294_967_295.0),
            Ok(Duration::from_secs(4_294_967_295))
        );
        assert_eq!(ttl_from_number(4_294_967_296.0), Err(KvError::TtlTooBig));
        assert_eq!(ttl_from_number(f64::INFINITY), Err(KvError::TtlTooBig));
    }

    #[test]
    fn generations_truncate() {
        assert_eq!(generation_from_number(1.5), 1);
        assert_eq!(generation_from_number(f64::NAN), 0);
        assert_eq!(generation_from_number(7.0), 7);
    }

    #[test]
    fn modes_are_case_sensitive() {
        use edgeshim_store::InsertMode;
        assert_eq!(insert_mode("add"), InsertMode::Add);
        assert_eq!(insert_mode("append"), InsertMode::Append);
        assert_eq!(insert_mode("prepend"), InsertMode::Prepend);
        assert_eq!(insert_mode("overwrite"), InsertMode::Overwrite);
        assert_eq!(insert_mode("ADD"), InsertMode::Overwrite);
        assert_eq!(insert_mode("nonsense"), InsertMode::Overwrite);
    }

    #[test]
    fn list_limits_wrap_like_uint32() {
        assert_eq!(list_limit_from_number(10.0), Some(10));
        assert_eq!(list_limit_from_number(0.0), Some(0));
        assert_eq!(list_limit_from_number(-0.0), Some(0));
        assert_eq!(list_limit_from_number(-1.0), Some(4_294_967_295));
        assert_eq!(list_limit_from_number(5.5), None);
        assert_eq!(list_limit_from_number(f64::NAN), None);
        assert_eq!(list_limit_from_number(f64::INFINITY), Some(4_294_967_295));
        assert_eq!(list_limit_from_number(1e12), Some(4_294_967_295));
        assert_eq!(list_limit_from_number(-1e12), Some(0));
    }

    #[test]
    fn value_limit_is_30_mib() {
        assert_eq!(check_value_size(31_457_280), Ok(()));
        assert_eq!(check_value_size(31_457_281), Err(KvError::ValueTooBig));
    }

    // Generated input (issue 14): the checks never panic, and agree with their rules.
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn a_key_is_accepted_exactly_when_no_rule_refuses_it(
            key in "\\PC{0,12}|[#;?^|\\n\\r./a-z]{0,6}|\\.well-known/acme-challenge/[a-z]{0,3}",
        ) {
            let refused = key.is_empty()
                || key.len() > MAX_KEY_BYTES
                || key.contains(['#', ';', '?', '^', '|', '\n', '\r'])
                || key.starts_with(".well-known/acme-challenge/")
                || key == "."
                || key == "..";
            proptest::prop_assert_eq!(check_key(&key).is_err(), refused, "{:?}", key);
        }

        #[test]
        fn numbers_convert_without_panicking(n in proptest::num::f64::ANY) {
            match ttl_from_number(n) {
                Ok(ttl) => proptest::prop_assert!(ttl.as_secs_f64() < TTL_LIMIT_SECONDS + 1.0),
                Err(e) => proptest::prop_assert!(n.is_nan() || !(0.0..TTL_LIMIT_SECONDS).contains(&n), "{e:?}"),
            }
            let _ = generation_from_number(n);
            if let Some(limit) = list_limit_from_number(n) {
                proptest::prop_assert!(limit <= u64::from(u32::MAX));
            }
        }
    }
}
