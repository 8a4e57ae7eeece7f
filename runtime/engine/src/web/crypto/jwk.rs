//! JSON Web Keys (<https://www.rfc-editor.org/rfc/rfc7517>) as `importKey("jwk", ...)` reads
//! them: only the members an HMAC (`"oct"`) key uses.

use boa_engine::object::builtins::JsArray;
use boa_engine::{js_string, Context, JsObject, JsValue};

use super::error::{CryptoError, Failure};

/// The members of a JWK that an `"oct"` key import looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwk {
    pub use_: Option<String>,
    pub alg: Option<String>,
    pub k: Option<String>,
    pub ext: Option<bool>,
    /// `key_ops`, when present.
    pub key_ops: Vec<String>,
}

const KEY_OPS: [&str; 8] = [
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "deriveKey",
    "deriveBits",
    "wrapKey",
    "unwrapKey",
];

/// A string member: absent (by `in`), or present and converted with ToString.
fn string_member(
    object: &JsObject,
    name: &'static str,
    context: &mut Context,
) -> Result<Option<String>, Failure> {
    if !object.has_property(js_string!(name), context)? {
        return Ok(None);
    }
    let value = object.get(js_string!(name), context)?;
    Ok(Some(value.to_string(context)?.to_std_string_lossy()))
}

/// Reads `value` as a JWK whose `kty` must be `required_kty`.
pub fn parse(
    value: &JsValue,
    required_kty: &'static str,
    context: &mut Context,
) -> Result<Jwk, Failure> {
    let object = value.as_object().ok_or(CryptoError::JwkNotAnObject)?;
    let kty = string_member(&object, "kty", context)?.ok_or(CryptoError::JwkNotAnObject)?;
    if kty != required_kty {
        return Err(CryptoError::JwkKty(required_kty).into());
    }
    let use_ = string_member(&object, "use", context)?;
    let alg = string_member(&object, "alg", context)?;
    let k = string_member(&object, "k", context)?;
    let ext = if object.has_property(js_string!("ext"), context)? {
        Some(object.get(js_string!("ext"), context)?.to_boolean())
    } else {
        None
    };
    let mut key_ops = Vec::new();
    if object.has_property(js_string!("key_ops"), context)? {
        let ops = object.get(js_string!("key_ops"), context)?;
        let ops = ops
            .as_object()
            .filter(|o| o.is_array())
            .ok_or(CryptoError::JwkKeyOpsNotSequence)?;
        let ops = JsArray::from_object(ops.clone())?;
        for i in 0..ops.length(context)? {
            let op = ops
                .get(i, context)?
                .to_string(context)?
                .to_std_string_lossy();
            if !KEY_OPS.contains(&op.as_str()) {
                return Err(CryptoError::JwkInvalidKeyOp.into());
            }
            if key_ops.contains(&op) {
                return Err(CryptoError::JwkDuplicateKeyOp.into());
            }
            key_ops.push(op);
        }
    }
    Ok(Jwk {
        use_,
        alg,
        k,
        ext,
        key_ops,
    })
}

fn base64url_value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    }))
}

/// WHATWG "forgiving-base64 decode" with the base64url alphabet, as the platform reads `k`:
/// ASCII whitespace is ignored, as is `=` padding that completes a multiple of 4.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut data: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' '))
        .collect();
    // (`usize::is_multiple_of` is newer than the workspace's minimum Rust.)
    let remainder = data.len() % 4;
    if !data.is_empty() && remainder == 0 {
        for _ in 0..2 {
            if data.last() == Some(&b'=') {
                data.pop();
            }
        }
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in data {
        buffer = (buffer << 6) | base64url_value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base64url() {
        assert_eq!(base64url_decode("").unwrap(), b"");
        assert_eq!(base64url_decode("SmVmZQ").unwrap(), b"Jefe");
        assert_eq!(base64url_decode("SmVmZQ==").unwrap(), b"Jefe");
        assert_eq!(base64url_decode(" SmVm\nZQ ").unwrap(), b"Jefe");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(
            base64url_decode("+/8"),
            None,
            "the standard alphabet is not base64url"
        );
        assert_eq!(
            base64url_decode("SmVmZQ="),
            None,
            "padding that leaves a remainder"
        );
        assert_eq!(base64url_decode("S"), None);
    }
}
