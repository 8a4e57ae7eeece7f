//! Algorithm identifiers and their normalization
//! (<https://w3c.github.io/webcrypto/#algorithm-normalization-normalize-an-algorithm>), and
//! the digest and HMAC operations themselves.

use boa_engine::{js_string, Context, JsValue};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Digest;

use super::error::{CryptoError, Failure};

/// Every algorithm name the platform recognizes (it rejects others as unrecognized before
/// asking whether the operation supports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    RsassaPkcs1V15,
    RsaPss,
    RsaOaep,
    Ecdsa,
    Ecdh,
    AesCtr,
    AesCbc,
    AesGcm,
    AesKw,
    Hmac,
    Hash(Hash),
    Hkdf,
    Pbkdf2,
}

impl Algorithm {
    /// The registered algorithm whose name is a case-insensitive match for `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "RSASSA-PKCS1-V1_5" => Self::RsassaPkcs1V15,
            "RSA-PSS" => Self::RsaPss,
            "RSA-OAEP" => Self::RsaOaep,
            "ECDSA" => Self::Ecdsa,
            "ECDH" => Self::Ecdh,
            "AES-CTR" => Self::AesCtr,
            "AES-CBC" => Self::AesCbc,
            "AES-GCM" => Self::AesGcm,
            "AES-KW" => Self::AesKw,
            "HMAC" => Self::Hmac,
            "MD5" => Self::Hash(Hash::Md5),
            "SHA-1" => Self::Hash(Hash::Sha1),
            "SHA-256" => Self::Hash(Hash::Sha256),
            "SHA-384" => Self::Hash(Hash::Sha384),
            "SHA-512" => Self::Hash(Hash::Sha512),
            "HKDF" => Self::Hkdf,
            "PBKDF2" => Self::Pbkdf2,
            _ => return None,
        })
    }
}

/// The digests: SHA-1 and SHA-2 as Web Crypto has them, and MD5, which the platform adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

macro_rules! for_hash {
    ($hash:expr, $d:ident => $body:expr) => {
        match $hash {
            Hash::Md5 => {
                type $d = md5::Md5;
                $body
            }
            Hash::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            Hash::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            Hash::Sha384 => {
                type $d = sha2::Sha384;
                $body
            }
            Hash::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
        }
    };
}

impl Hash {
    /// The name Web Crypto gives it (in a key's `algorithm.hash.name`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        for_hash!(self, D => D::digest(data).to_vec())
    }

    /// HMAC of `data` under `key`, with this hash.
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        for_hash!(self, D => {
            // HMAC takes a key of any length.
            match <Hmac<D> as KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        })
    }

    /// Whether `signature` is the HMAC of `data` under `key`, compared in constant time.
    pub fn hmac_verify(self, key: &[u8], data: &[u8], signature: &[u8]) -> bool {
        for_hash!(self, D => {
            match <Hmac<D> as KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.verify_slice(signature).is_ok()
                }
                Err(_) => false,
            }
        })
    }
}

/// The algorithm's name as given: `alg` itself, or its `name` member for an object, converted
/// with ToString (whose exceptions pass through).
fn algorithm_name(alg: &JsValue, context: &mut Context) -> Result<String, Failure> {
    let name = match alg.as_object() {
        Some(object) => object.get(js_string!("name"), context)?,
        None => alg.clone(),
    };
    Ok(name.to_string(context)?.to_std_string_lossy())
}

/// Steps 1–5.1 of "normalize an algorithm", shared by every operation.
pub fn normalize_identifier(alg: &JsValue, context: &mut Context) -> Result<Algorithm, Failure> {
    let name = algorithm_name(alg, context)?;
    Ok(Algorithm::from_name(&name).ok_or(CryptoError::UnrecognizedAlgorithm)?)
}

/// "Normalize an algorithm" for `digest` (also how an HMAC import's `hash` is read).
pub fn normalize_digest(alg: &JsValue, context: &mut Context) -> Result<Hash, Failure> {
    match normalize_identifier(alg, context)? {
        Algorithm::Hash(hash) => Ok(hash),
        _ => Err(CryptoError::NoDigest.into()),
    }
}

/// What `sign` and `verify` can be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlgorithm {
    Hmac,
    /// Recognized by the platform for signing, but no key of that kind can exist here.
    Other(&'static str),
}

/// "Normalize an algorithm" for `sign` and `verify`.
pub fn normalize_sign(
    alg: &JsValue,
    operation: &'static str,
    context: &mut Context,
) -> Result<SignAlgorithm, Failure> {
    match normalize_identifier(alg, context)? {
        Algorithm::Hmac => Ok(SignAlgorithm::Hmac),
        Algorithm::RsassaPkcs1V15 => Ok(SignAlgorithm::Other("RSASSA-PKCS1-v1_5")),
        Algorithm::Ecdsa => Ok(SignAlgorithm::Other("ECDSA")),
        Algorithm::RsaPss => Err(CryptoError::NotYetSupported.into()),
        _ => Err(CryptoError::NoOperation(operation).into()),
    }
}

/// The parameters of an HMAC key import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HmacImport {
    pub hash: Hash,
    /// The `length` member, in bits, if present.
    pub length: Option<u64>,
}

/// "Normalize an algorithm" for `importKey`: only HMAC is supported here.
pub fn normalize_import(alg: &JsValue, context: &mut Context) -> Result<HmacImport, Failure> {
    match normalize_identifier(alg, context)? {
        Algorithm::Hmac => {}
        // The platform imports these two; this implementation does not (yet).
        Algorithm::RsassaPkcs1V15 | Algorithm::Ecdsa => {
            return Err(CryptoError::NotYetSupported.into())
        }
        Algorithm::RsaPss
        | Algorithm::RsaOaep
        | Algorithm::AesCtr
        | Algorithm::AesCbc
        | Algorithm::AesGcm
        | Algorithm::AesKw
        | Algorithm::Ecdh
        | Algorithm::Hkdf
        | Algorithm::Pbkdf2 => return Err(CryptoError::NotYetSupported.into()),
        Algorithm::Hash(_) => return Err(CryptoError::NoImportKey.into()),
    }
    // A string names the algorithm alone: it has no `hash`, which then reads as undefined.
    let params = alg.as_object();
    let hash_value = match &params {
        Some(p) => p.get(js_string!("hash"), context)?,
        None => JsValue::undefined(),
    };
    let hash = normalize_digest(&hash_value, context)?;
    let length = match &params {
        Some(p) if p.has_property(js_string!("length"), context)? => {
            let value = p.get(js_string!("length"), context)?;
            let bits = value.as_number().ok_or(CryptoError::HmacLengthNotNumber)?;
            // As the platform converts it to an unsigned integer.
            Some(if bits.is_finite() && bits > 0.0 {
                bits as u64
            } else {
                0
            })
        }
        _ => None,
    };
    Ok(HmacImport { hash, length })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn digests() {
        assert_eq!(
            hex(&Hash::Md5.digest(b"")),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            hex(&Hash::Sha1.digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&Hash::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_rfc4231_case_2() {
        let mac = Hash::Sha256.hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(Hash::Sha256.hmac_verify(b"Jefe", b"what do ya want for nothing?", &mac));
        assert!(!Hash::Sha256.hmac_verify(b"Jefe", b"what do ya want for nothing!", &mac));
        assert!(!Hash::Sha256.hmac_verify(b"Jefe", b"what do ya want for nothing?", &mac[..31]));
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(
            Algorithm::from_name("sha-256"),
            Some(Algorithm::Hash(Hash::Sha256))
        );
        assert_eq!(Algorithm::from_name("hmac"), Some(Algorithm::Hmac));
        assert_eq!(
            Algorithm::from_name("rsassa-pkcs1-v1_5"),
            Some(Algorithm::RsassaPkcs1V15)
        );
        assert_eq!(Algorithm::from_name("SHA256"), None);
        assert_eq!(Algorithm::from_name("SHA-224"), None);
    }
}
