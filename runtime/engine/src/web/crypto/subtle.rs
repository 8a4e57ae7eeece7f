//! `SubtleCrypto` (<https://w3c.github.io/webcrypto/#subtlecrypto-interface>): `digest`,
//! and `importKey` (`"raw"` and `"jwk"`), `sign` and `verify` for HMAC. Every method returns a promise; every
//! failure, a wrong receiver or too few arguments included, rejects it.

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::{JsArray, JsPromise};
use boa_engine::property::Attribute;
use boa_engine::{Context, Finalize, JsData, JsObject, JsResult, JsValue, Trace};

use super::algorithm::{normalize_digest, normalize_import, normalize_sign, Hash, SignAlgorithm};
use super::error::{CryptoError, Failure};
use super::jwk::{self, Jwk};
use super::key::{JsCryptoKey, Usages};
use super::{class_prototype, define_to_string_tag};
use crate::class_util::define_enumerable_method;
use crate::web::body::{array_buffer, buffer_source_bytes};

pub const CLASS: &str = "SubtleCrypto";

#[derive(Debug, Clone, Trace, Finalize, JsData)]
pub struct JsSubtleCrypto;

impl JsSubtleCrypto {
    /// The one `SubtleCrypto` object (`crypto.subtle`).
    pub fn create(context: &mut Context) -> JsResult<JsObject> {
        let prototype = class_prototype::<Self>(context)?;
        Ok(JsObject::from_proto_and_data(prototype, Self).upcast())
    }
}

/// A promise settled with the outcome of an operation.
fn settled(result: Result<JsValue, Failure>, context: &mut Context) -> JsResult<JsValue> {
    Ok(match result {
        Ok(value) => JsPromise::resolve(value, context)?,
        Err(failure) => {
            let error = failure.into_js(context);
            JsPromise::reject(error, context)?
        }
    }
    .into())
}

fn check_receiver(this: &JsValue, method: &'static str) -> Result<(), CryptoError> {
    match this.as_object() {
        Some(o) if o.is::<JsSubtleCrypto>() => Ok(()),
        _ => Err(CryptoError::WrongReceiver {
            method,
            class: CLASS,
        }),
    }
}

fn require(args: &[JsValue], what: &'static str, required: usize) -> Result<(), CryptoError> {
    if args.len() < required {
        return Err(CryptoError::TooFewArguments {
            what,
            required,
            passed: args.len(),
        });
    }
    Ok(())
}

/// A copy of the bytes of a buffer source argument; `what` names it in the TypeError.
fn bytes_arg(
    value: &JsValue,
    what: &'static str,
    context: &mut Context,
) -> Result<Vec<u8>, Failure> {
    Ok(buffer_source_bytes(value, context)?.ok_or(CryptoError::NotABuffer(what))?)
}

// digest(algorithm, data)
fn digest(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let result = (|| -> Result<JsValue, Failure> {
        check_receiver(this, "SubtleCrypto.digest")?;
        require(args, "SubtleCrypto.digest", 2)?;
        // The data is read before the algorithm, as the platform does.
        let data = bytes_arg(&args[1], "SubtleCrypto.digest: data", context)?;
        let hash = normalize_digest(&args[0], context)?;
        Ok(array_buffer(&hash.digest(&data), context)?.into())
    })();
    settled(result, context)
}

/// `keyUsages`: an array of usage names.
fn usages_arg(value: &JsValue, context: &mut Context) -> Result<Usages, Failure> {
    let array = value
        .as_object()
        .filter(|o| o.is_array())
        .ok_or(CryptoError::UsagesNotSequence)?;
    let array = JsArray::from_object(array.clone())?;
    let mut usages = Usages::default();
    for i in 0..array.length(context)? {
        let name = array
            .get(i, context)?
            .to_string(context)?
            .to_std_string_lossy();
        usages = usages.union(Usages::parse(&name).ok_or(CryptoError::InvalidUsage)?);
    }
    Ok(usages)
}

// importKey(format, keyData, algorithm, extractable, keyUsages)
fn import_key(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let result = (|| -> Result<JsValue, Failure> {
        require(args, "SubtleCrypto.importKey", 5)?;
        check_receiver(this, "SubtleCrypto.importKey")?;
        let format = args[0].to_string(context)?.to_std_string_lossy();
        let format = match format.as_str() {
            "raw" => KeyFormat::Raw,
            "jwk" => KeyFormat::Jwk,
            "spki" | "pkcs8" => KeyFormat::Other,
            _ => return Err(CryptoError::UnknownFormat.into()),
        };
        let extractable = args[3].to_boolean();
        let usages = usages_arg(&args[4], context)?;
        let import = normalize_import(&args[2], context)?;
        let secret = match format {
            // The platform names no argument in this message.
            KeyFormat::Raw => {
                let secret = bytes_arg(&args[1], "", context)?;
                check_hmac_usages(usages)?;
                secret
            }
            KeyFormat::Jwk => {
                let jwk = jwk::parse(&args[1], "oct", context)?;
                check_hmac_usages(usages)?;
                hmac_secret_from_jwk(&jwk, import.hash, extractable, usages)?
            }
            // No HMAC key comes in these.
            KeyFormat::Other => return Err(CryptoError::FormatNotSupported.into()),
        };
        let bits = (secret.len() as u64) * 8;
        if bits == 0 {
            return Err(CryptoError::EmptyKey.into());
        }
        let length = match import.length {
            Some(length) if length > bits || length <= bits - 8 => {
                return Err(CryptoError::HmacLength.into())
            }
            Some(length) => length,
            None => bits,
        };
        let key = JsCryptoKey::create_hmac(secret, import, length, extractable, usages, context)?;
        Ok(key.into())
    })();
    settled(result, context)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFormat {
    Raw,
    Jwk,
    /// `spki` or `pkcs8`.
    Other,
}

/// The platform's usage check for HMAC keys (see [`Usages::has_sign_or_verify`]).
fn check_hmac_usages(usages: Usages) -> Result<(), CryptoError> {
    if usages.has_sign_or_verify() {
        Ok(())
    } else {
        Err(CryptoError::HmacUsages)
    }
}

/// Steps 6.4–6.16 of the HMAC "import key" for a JWK, as the platform has them: the secret
/// from `k`, and `alg`, `use`, `key_ops` and `ext` checked against the call.
fn hmac_secret_from_jwk(
    jwk: &Jwk,
    hash: Hash,
    extractable: bool,
    usages: Usages,
) -> Result<Vec<u8>, CryptoError> {
    let secret =
        jwk::base64url_decode(jwk.k.as_deref().unwrap_or_default()).ok_or(CryptoError::JwkBadK)?;
    let expected_alg = match hash {
        Hash::Sha1 => "HS1",
        Hash::Sha256 => "HS256",
        Hash::Sha384 => "HS384",
        Hash::Sha512 => "HS512",
        Hash::Md5 => return Err(CryptoError::OperationNotPermitted),
    };
    if jwk.alg.as_deref().is_some_and(|alg| alg != expected_alg) {
        return Err(CryptoError::OperationNotPermitted);
    }
    // The platform compares `use` with "sign" (RFC 7517 spells the value "sig").
    if !usages.is_empty() && jwk.use_.as_deref().is_some_and(|u| u != "sign") {
        return Err(CryptoError::OperationNotPermitted);
    }
    if !jwk.key_ops.is_empty() {
        let ops = jwk
            .key_ops
            .iter()
            .filter_map(|op| Usages::parse(op))
            .fold(Usages::default(), Usages::union);
        // The platform's "superset" test is that the two share a usage.
        if !ops.intersects(usages) {
            return Err(CryptoError::JwkKeyOpsInconsistent);
        }
    }
    if jwk.ext == Some(false) && extractable {
        return Err(CryptoError::DataRequirements);
    }
    Ok(secret)
}

/// The HMAC key behind a `sign`/`verify` call, checked against the algorithm and the usage.
fn signing_key(
    key: &JsObject<JsCryptoKey>,
    algorithm: SignAlgorithm,
    usage: Usages,
    missing_usage: CryptoError,
) -> Result<(Vec<u8>, Hash), CryptoError> {
    let key = key.borrow();
    let key = key.data();
    let name = match algorithm {
        SignAlgorithm::Hmac => "HMAC",
        SignAlgorithm::Other(name) => name,
    };
    if name != key.algorithm_name() {
        return Err(CryptoError::KeyAlgorithmMismatch);
    }
    if !key.usages().contains(usage) {
        return Err(missing_usage);
    }
    Ok((key.secret().to_vec(), key.hash()))
}

fn key_arg(value: &JsValue, method: &'static str) -> Result<JsObject<JsCryptoKey>, CryptoError> {
    value
        .as_object()
        .and_then(|o| o.clone().downcast::<JsCryptoKey>().ok())
        .ok_or(CryptoError::NotAKey(method))
}

// sign(algorithm, key, data)
fn sign(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let result = (|| -> Result<JsValue, Failure> {
        require(args, "SubtleCrypto.sign", 3)?;
        check_receiver(this, "SubtleCrypto.sign")?;
        let key = key_arg(&args[1], "sign")?;
        let data = bytes_arg(&args[2], "crypto.subtle.sign: data", context)?;
        let algorithm = normalize_sign(&args[0], "sign", context)?;
        let (secret, hash) = signing_key(&key, algorithm, Usages::SIGN, CryptoError::CannotSign)?;
        Ok(array_buffer(&hash.hmac(&secret, &data), context)?.into())
    })();
    settled(result, context)
}

// verify(algorithm, key, signature, data)
fn verify(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let result = (|| -> Result<JsValue, Failure> {
        require(args, "SubtleCrypto.verify", 4)?;
        check_receiver(this, "SubtleCrypto.verify")?;
        let key = key_arg(&args[1], "verify")?;
        let signature = bytes_arg(
            &args[2],
            "SubtleCrypto.verify: signature (argument 3)",
            context,
        )?;
        let data = bytes_arg(&args[3], "SubtleCrypto.verify: data (argument 4)", context)?;
        let algorithm = normalize_sign(&args[0], "verify", context)?;
        let (secret, hash) =
            signing_key(&key, algorithm, Usages::VERIFY, CryptoError::CannotVerify)?;
        Ok(hash.hmac_verify(&secret, &data, &signature).into())
    })();
    settled(result, context)
}

impl Class for JsSubtleCrypto {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }

    fn construct(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsObject> {
        Err(CryptoError::NotConstructible(CLASS).into_native())
    }

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(CryptoError::NotConstructible(CLASS).into_native())
    }
}

pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsSubtleCrypto>()?;
    let prototype = class_prototype::<JsSubtleCrypto>(context)?;
    define_to_string_tag(&prototype, CLASS, context)?;
    define_enumerable_method(&prototype, "digest", 2, digest, context)?;
    define_enumerable_method(&prototype, "importKey", 5, import_key, context)?;
    define_enumerable_method(&prototype, "sign", 3, sign, context)?;
    define_enumerable_method(&prototype, "verify", 4, verify, context)?;
    Ok(())
}
