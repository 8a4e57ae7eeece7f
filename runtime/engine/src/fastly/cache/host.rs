//! `host.cache`: the door through which the JS classes of `fastly:cache` (js-lib/fastly.js)
//! reach the edge cache, as plain values: keys and bodies as `Uint8Array`s, times in
//! milliseconds, lookups as `{ found, usable, stale, mustInsertOrUpdate, transaction, … }`.
//! The JS side checks arguments and owns the platform's messages for them; host failures
//! become JS errors here ([`super::error`]).

use std::time::Duration;

use boa_engine::object::builtins::{JsArray, JsPromise};
use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use boa_engine::{js_string, Context, JsError, JsNativeError, JsObject, JsResult, JsValue};
use bytes::Bytes;
use edgeshim_store::cache::{CacheOp, CacheReply, Found, Headers, Lookup, WriteOptions};

use super::error::cache_error;
use crate::event_loop::HostCompletion;
use crate::host::Phase;
use crate::host_call::{HostCall, HostHandle, HostReply};
use crate::web::body::{buffer_source_bytes, uint8_array};
use crate::web::body_stream;

/// The obligations this request holds (transaction ids), as context data: whatever is still
/// open when the request ends is cancelled, as the platform drops an instance's handles, so
/// that the requests waiting for it go on at once.
#[derive(Debug, Default)]
struct OpenTransactions(std::cell::RefCell<std::collections::BTreeSet<u64>>);

fn open_transactions(context: &mut Context) -> &OpenTransactions {
    if context.get_data::<OpenTransactions>().is_none() {
        context.insert_data(OpenTransactions::default());
    }
    context
        .get_data::<OpenTransactions>()
        .unwrap_or_else(|| unreachable!("inserted above"))
}

/// Keeps track of the obligation `reply` hands out.
fn track(reply: &CacheReply, context: &mut Context) {
    let open = open_transactions(context);
    if let CacheReply::Lookup(Lookup {
        transaction: Some(id),
        ..
    }) = reply
    {
        open.0.borrow_mut().insert(*id);
    }
}

/// Cancels the obligations the request still holds.
pub fn end_request(context: &mut Context) {
    let open = std::mem::take(&mut *open_transactions(context).0.borrow_mut());
    for transaction in open {
        if let Err(e) = run_blocking(CacheOp::TransactionCancel { transaction }, context) {
            tracing::debug!("cancelling cache transaction {transaction}: {e}");
        }
    }
}

fn host(context: &Context) -> JsResult<std::sync::Arc<dyn crate::host_call::Host>> {
    context
        .get_data::<HostHandle>()
        .map(|h| h.0.clone())
        .ok_or_else(|| {
            JsNativeError::typ()
                .with_message("the cache is not available here")
                .into()
        })
}

fn reply_of(reply: HostReply) -> JsResult<CacheReply> {
    match reply {
        HostReply::Cache(result) => result.map_err(cache_error),
        HostReply::Kv(_) | HostReply::Rate(_) => Err(JsNativeError::error()
            .with_message("the host answered a cache call with another service's reply")
            .into()),
    }
}

/// Runs `op` on the cache of the request's edge location, holding the JS thread.
fn run_blocking(op: CacheOp, context: &mut Context) -> JsResult<CacheReply> {
    let ends = match &op {
        CacheOp::TransactionInsert { transaction, .. }
        | CacheOp::TransactionUpdate { transaction, .. }
        | CacheOp::TransactionCancel { transaction } => Some(*transaction),
        _ => None,
    };
    let call = HostCall::Cache {
        pop: Phase::pop(context),
        op,
    };
    let reply = reply_of(host(context)?.call_blocking(call));
    // An obligation ends with its insert, update or cancel, whether or not the host agreed.
    if let Some(ended) = ends {
        open_transactions(context).0.borrow_mut().remove(&ended);
    }
    let reply = reply?;
    track(&reply, context);
    Ok(reply)
}

fn bytes_arg(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<Bytes> {
    let value = args.get(index).cloned().unwrap_or_default();
    if let Some(bytes) = buffer_source_bytes(&value, context)? {
        return Ok(bytes.into());
    }
    Ok(Bytes::from(
        value.to_string(context)?.to_std_string_lossy().into_bytes(),
    ))
}

fn u64_arg(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<u64> {
    let number = args
        .get(index)
        .cloned()
        .unwrap_or_default()
        .to_number(context)?;
    // Transaction ids and counts are small whole numbers the host handed out.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(number.max(0.0) as u64)
}

pub(crate) fn strings(value: &JsValue, context: &mut Context) -> JsResult<Vec<String>> {
    let Some(object) = value.as_object() else {
        return Ok(Vec::new());
    };
    let array = JsArray::from_object(object.clone())?;
    let mut out = Vec::new();
    for i in 0..array.length(context)? {
        out.push(
            array
                .get(i, context)?
                .to_string(context)?
                .to_std_string_lossy(),
        );
    }
    Ok(out)
}

/// `[[name, value], …]`, as the JS side flattens a `Headers`.
pub(crate) fn headers_arg(
    args: &[JsValue],
    index: usize,
    context: &mut Context,
) -> JsResult<Headers> {
    let Some(object) = args.get(index).and_then(JsValue::as_object) else {
        return Ok(Vec::new());
    };
    let array = JsArray::from_object(object.clone())?;
    let mut out = Vec::new();
    for i in 0..array.length(context)? {
        let pair = strings(&array.get(i, context)?, context)?;
        if let [name, value] = pair.as_slice() {
            out.push((name.clone(), value.clone()));
        }
    }
    Ok(out)
}

fn millis(object: &JsObject, name: &str, context: &mut Context) -> JsResult<Duration> {
    let value = object.get(js_string!(name), context)?;
    if value.is_undefined() {
        return Ok(Duration::ZERO);
    }
    let ms = value.to_number(context)?;
    Ok(Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).unwrap_or(Duration::MAX))
}

/// The write options the JS side checked: `{ maxAge, initialAge, staleWhileRevalidate }` in
/// milliseconds, `vary`, `surrogateKeys`, `length`, `userMetadata` (bytes), `sensitive`.
fn options_arg(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<WriteOptions> {
    let Some(object) = args.get(index).and_then(JsValue::as_object) else {
        return Ok(WriteOptions::default());
    };
    let length = object.get(js_string!("length"), context)?;
    let metadata = object.get(js_string!("userMetadata"), context)?;
    Ok(WriteOptions {
        max_age: millis(&object, "maxAge", context)?,
        initial_age: millis(&object, "initialAge", context)?,
        stale_while_revalidate: millis(&object, "staleWhileRevalidate", context)?,
        // Only the guest HTTP cache sets it (`fastly:cache` has no such option).
        stale_if_error: millis(&object, "staleIfError", context)?,
        vary: strings(&object.get(js_string!("vary"), context)?, context)?,
        surrogate_keys: strings(&object.get(js_string!("surrogateKeys"), context)?, context)?,
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        length: (!length.is_undefined())
            .then(|| length.to_number(context).map(|n| n.max(0.0) as u64))
            .transpose()?,
        user_metadata: buffer_source_bytes(&metadata, context)?
            .map(Bytes::from)
            .unwrap_or_default(),
        sensitive: object.get(js_string!("sensitive"), context)?.to_boolean(),
    })
}

fn ms(duration: Duration) -> JsValue {
    // Milliseconds as the platform reports them: whole numbers.
    #[allow(clippy::cast_precision_loss)]
    JsValue::from(duration.as_millis() as f64)
}

fn found_object(found: &Found, context: &mut Context) -> JsResult<JsObject> {
    let body = uint8_array(&found.body, context)?;
    let metadata = uint8_array(&found.user_metadata, context)?;
    #[allow(clippy::cast_precision_loss)]
    let (length, hits) = (found.length as f64, found.hits as f64);
    Ok(ObjectInitializer::new(context)
        .property(js_string!("body"), body, Attribute::all())
        .property(js_string!("length"), length, Attribute::all())
        .property(js_string!("maxAge"), ms(found.max_age), Attribute::all())
        .property(
            js_string!("staleWhileRevalidate"),
            ms(found.stale_while_revalidate),
            Attribute::all(),
        )
        .property(js_string!("age"), ms(found.age), Attribute::all())
        .property(js_string!("hits"), hits, Attribute::all())
        .property(js_string!("userMetadata"), metadata, Attribute::all())
        .build())
}

fn lookup_object(lookup: &Lookup, context: &mut Context) -> JsResult<JsValue> {
    let found = match &lookup.found {
        Some(found) => found_object(found, context)?.into(),
        None => JsValue::null(),
    };
    #[allow(clippy::cast_precision_loss)]
    let transaction = lookup
        .transaction
        .map_or(JsValue::null(), |t| JsValue::from(t as f64));
    let state = lookup.state;
    Ok(ObjectInitializer::new(context)
        .property(js_string!("found"), state.found, Attribute::all())
        .property(js_string!("usable"), state.usable, Attribute::all())
        .property(js_string!("stale"), state.stale, Attribute::all())
        .property(
            js_string!("mustInsertOrUpdate"),
            state.must_insert_or_update,
            Attribute::all(),
        )
        .property(js_string!("transaction"), transaction, Attribute::all())
        .property(js_string!("object"), found, Attribute::all())
        .build()
        .into())
}

fn answer(reply: CacheReply, context: &mut Context) -> JsResult<JsValue> {
    match reply {
        CacheReply::Lookup(lookup) => lookup_object(&lookup, context),
        CacheReply::Written(Some(found)) => Ok(found_object(&found, context)?.into()),
        CacheReply::Written(None) | CacheReply::Done => Ok(JsValue::undefined()),
        #[allow(clippy::cast_precision_loss)]
        CacheReply::Purged(n) => Ok(JsValue::from(n as f64)),
    }
}

fn lookup(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = CacheOp::Lookup {
        key: bytes_arg(args, 0, context)?,
        headers: headers_arg(args, 1, context)?,
    };
    let reply = run_blocking(op, context)?;
    answer(reply, context)
}

fn transaction_lookup(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = CacheOp::TransactionLookup {
        key: bytes_arg(args, 0, context)?,
        headers: headers_arg(args, 1, context)?,
    };
    let reply = run_blocking(op, context)?;
    answer(reply, context)
}

/// The promise of a transaction lookup: the JS thread runs on while it waits.
fn transaction_lookup_async(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    let call = HostCall::Cache {
        pop: Phase::pop(context),
        op: CacheOp::TransactionLookup {
            key: bytes_arg(args, 0, context)?,
            headers: headers_arg(args, 1, context)?,
        },
    };
    let reply = host(context)?.call(call);
    let (promise, resolvers) = JsPromise::new_pending(context);
    body_stream::event_loop(context)?.spawn_host_op(async move {
        let reply = reply.await;
        let completion: HostCompletion = Box::new(move |context: &mut Context| {
            let outcome = reply_of(reply).and_then(|reply| {
                track(&reply, context);
                answer(reply, context)
            });
            crate::event_loop::settle(&resolvers, outcome, context)
        });
        completion
    });
    Ok(promise.into())
}

fn insert(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = CacheOp::Insert {
        key: bytes_arg(args, 0, context)?,
        headers: headers_arg(args, 1, context)?,
        options: options_arg(args, 2, context)?,
        body: bytes_arg(args, 3, context)?,
    };
    let reply = run_blocking(op, context)?;
    answer(reply, context)
}

fn transaction_insert(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = CacheOp::TransactionInsert {
        transaction: u64_arg(args, 0, context)?,
        options: options_arg(args, 1, context)?,
        body: bytes_arg(args, 2, context)?,
        stream_back: args.get(3).is_some_and(JsValue::to_boolean),
    };
    let reply = run_blocking(op, context)?;
    answer(reply, context)
}

fn transaction_update(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = CacheOp::TransactionUpdate {
        transaction: u64_arg(args, 0, context)?,
        options: options_arg(args, 1, context)?,
    };
    let reply = run_blocking(op, context)?;
    answer(reply, context)
}

fn transaction_cancel(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let op = CacheOp::TransactionCancel {
        transaction: u64_arg(args, 0, context)?,
    };
    let reply = run_blocking(op, context)?;
    answer(reply, context)
}

/// Purges the request's edge location's cache of `surrogate_key`; how many objects it
/// reached.
pub fn purge(surrogate_key: &str, soft: bool, context: &mut Context) -> JsResult<usize> {
    let op = CacheOp::Purge {
        surrogate_key: surrogate_key.to_owned(),
        soft,
    };
    match run_blocking(op, context)? {
        CacheReply::Purged(n) => Ok(n),
        _ => Err(JsError::from_native(
            JsNativeError::error().with_message("the host answered a purge with something else"),
        )),
    }
}

fn purge_fn(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let key = args
        .first()
        .cloned()
        .unwrap_or_default()
        .to_string(context)?
        .to_std_string_lossy();
    let soft = args.get(1).is_some_and(JsValue::to_boolean);
    #[allow(clippy::cast_precision_loss)]
    Ok(JsValue::from(purge(&key, soft, context)? as f64))
}

/// The surrogate keys `SimpleCache` gives an object so that `purge` can reach it: the
/// SHA-256 of the key, and of the key followed by `FASTLY_POP`, in uppercase hex, as
/// js-compute writes them (`cache-simple.cpp`). Its `std::remove` runs over the first 32
/// characters of OpenSSL's colon-separated hex only, so each key is the first 11 bytes of the
/// digest: 22 hex digits. What production purges, so copied as it is.
fn simple_surrogate_key(text: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(text);
    digest[..11].iter().map(|b| format!("{b:02X}")).collect()
}

fn fastly_pop(context: &Context) -> Option<String> {
    context
        .get_data::<crate::fastly::env::Env>()
        .and_then(|env| env.get("FASTLY_POP", true))
}

/// `host.cache.surrogateKeys(key, scope)`: both keys (`scope` undefined), or the one a purge
/// of scope `"pop"` or `"global"` uses.
fn surrogate_keys(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let key = bytes_arg(args, 0, context)?;
    let scope = args.get(1).cloned().unwrap_or_default();
    let global = simple_surrogate_key(&key);
    let pop = fastly_pop(context).map(|pop| {
        let mut text = key.to_vec();
        text.extend_from_slice(pop.as_bytes());
        simple_surrogate_key(&text)
    });
    let keys: Vec<String> = if scope.is_undefined() {
        std::iter::once(global).chain(pop).collect()
    } else if scope.to_string(context)?.to_std_string_lossy() == "pop" {
        vec![pop.unwrap_or(global)]
    } else {
        vec![global]
    };
    let values: Vec<JsValue> = keys
        .into_iter()
        .map(|k| boa_engine::JsString::from(k.as_str()).into())
        .collect();
    Ok(JsArray::from_iter(values, context).into())
}

/// The `host.cache` object of the JS libraries.
pub fn host_object(context: &mut Context) -> JsObject {
    crate::class_util::native_object(
        context,
        &[
            ("lookup", 2, lookup),
            ("transactionLookup", 2, transaction_lookup),
            ("transactionLookupAsync", 2, transaction_lookup_async),
            ("insert", 4, insert),
            ("transactionInsert", 4, transaction_insert),
            ("transactionUpdate", 2, transaction_update),
            ("transactionCancel", 1, transaction_cancel),
            ("purge", 2, purge_fn),
            ("surrogateKeys", 2, surrogate_keys),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::simple_surrogate_key;

    #[test]
    fn simple_cache_surrogate_keys_are_the_first_11_digest_bytes() {
        // sha256("hello") = 2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824
        assert_eq!(simple_surrogate_key(b"hello"), "2CF24DBA5FB0A30E26E83B");
    }
}
