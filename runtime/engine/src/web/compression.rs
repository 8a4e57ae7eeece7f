//! The byte work behind `CompressionStream` and `DecompressionStream`
//! (<https://compression.spec.whatwg.org/>; the JS classes are in
//! `js-lib/streams-writable.js`): a codec object per stream, made by the JS library's host
//! helper `codec(mode, format)`, with `push(chunk)` and `finish()`, each returning the bytes
//! ready so far (`null` when none).
//!
//! Errors are StarlingMonkey's (`builtins/web/streams/*compression-stream.cpp`): bad input is
//! reported when the stream closes, with `DecompressionStream transform: error decompressing
//! chunk`; input that stops early is not an error there, and is not one here.

use std::io::Write;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::Attribute;
use boa_engine::{Context, Finalize, JsData, JsObject, JsResult, JsValue, NativeFunction, Trace};
use flate2::write::{
    DeflateDecoder, DeflateEncoder, GzDecoder, GzEncoder, ZlibDecoder, ZlibEncoder,
};
use flate2::Compression;

use crate::class_util::{this_as, type_error};
use crate::web::body::{buffer_source_bytes, uint8_array};

const DECOMPRESS_FAILED: &str = "DecompressionStream transform: error decompressing chunk";
const COMPRESS_FAILED: &str = "CompressionStream transform: error compressing chunk";

enum Coder {
    Gzip(GzEncoder<Vec<u8>>),
    Zlib(ZlibEncoder<Vec<u8>>),
    Raw(DeflateEncoder<Vec<u8>>),
    Gunzip(GzDecoder<Vec<u8>>),
    Unzlib(ZlibDecoder<Vec<u8>>),
    Inflate(DeflateDecoder<Vec<u8>>),
}

impl Coder {
    fn new(compress: bool, format: &str) -> Option<Self> {
        let level = Compression::default();
        Some(match (compress, format) {
            (true, "gzip") => Self::Gzip(GzEncoder::new(Vec::new(), level)),
            (true, "deflate") => Self::Zlib(ZlibEncoder::new(Vec::new(), level)),
            (true, "deflate-raw") => Self::Raw(DeflateEncoder::new(Vec::new(), level)),
            (false, "gzip") => Self::Gunzip(GzDecoder::new(Vec::new())),
            (false, "deflate") => Self::Unzlib(ZlibDecoder::new(Vec::new())),
            (false, "deflate-raw") => Self::Inflate(DeflateDecoder::new(Vec::new())),
            _ => return None,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Gzip(c) => c.write_all(bytes),
            Self::Zlib(c) => c.write_all(bytes),
            Self::Raw(c) => c.write_all(bytes),
            Self::Gunzip(c) => c.write_all(bytes),
            Self::Unzlib(c) => c.write_all(bytes),
            Self::Inflate(c) => c.write_all(bytes),
        }
    }

    /// Ends the stream: the trailer for an encoder; a decoder's last bytes.
    fn finish(&mut self) -> std::io::Result<()> {
        match self {
            Self::Gzip(c) => c.try_finish(),
            Self::Zlib(c) => c.try_finish(),
            Self::Raw(c) => c.try_finish(),
            // Input that stops early is not an error (zlib's Z_BUF_ERROR, which
            // StarlingMonkey lets through).
            Self::Gunzip(c) => c.try_finish().or(Ok(())),
            Self::Unzlib(c) => c.try_finish().or(Ok(())),
            Self::Inflate(c) => c.try_finish().or(Ok(())),
        }
    }

    /// The output so far, taken.
    fn take(&mut self) -> Vec<u8> {
        let out = match self {
            Self::Gzip(c) => c.get_mut(),
            Self::Zlib(c) => c.get_mut(),
            Self::Raw(c) => c.get_mut(),
            Self::Gunzip(c) => c.get_mut(),
            Self::Unzlib(c) => c.get_mut(),
            Self::Inflate(c) => c.get_mut(),
        };
        std::mem::take(out)
    }

    fn compresses(&self) -> bool {
        matches!(self, Self::Gzip(_) | Self::Zlib(_) | Self::Raw(_))
    }
}

/// One stream's codec (not a global: only the JS library makes them).
#[derive(Trace, Finalize, JsData)]
pub struct JsCodec {
    #[unsafe_ignore_trace]
    coder: Coder,
    /// Bad input was seen; reported when the stream closes.
    #[unsafe_ignore_trace]
    failed: bool,
}

impl Class for JsCodec {
    const NAME: &'static str = "EdgeshimCodec";
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::CONFIGURABLE;

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(type_error("EdgeshimCodec is internal"))
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        class
            .method(
                boa_engine::js_string!("push"),
                1,
                NativeFunction::from_fn_ptr(push),
            )
            .method(
                boa_engine::js_string!("finish"),
                0,
                NativeFunction::from_fn_ptr(finish),
            );
        Ok(())
    }
}

fn output(bytes: Vec<u8>, context: &mut Context) -> JsResult<JsValue> {
    if bytes.is_empty() {
        return Ok(JsValue::null());
    }
    Ok(uint8_array(&bytes, context)?.into())
}

fn push(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let codec = this_as::<JsCodec>(this, "push", "EdgeshimCodec")?;
    let chunk = args.first().cloned().unwrap_or_default();
    let compresses = codec.borrow().data().coder.compresses();
    let Some(bytes) = buffer_source_bytes(&chunk, context)? else {
        let what = if compresses {
            "CompressionStream transform: chunks"
        } else {
            "DecompressionStream transform: chunks"
        };
        return Err(type_error(format!(
            "{what} must be of type ArrayBuffer or ArrayBufferView"
        )));
    };
    let mut codec = codec.borrow_mut();
    let data = codec.data_mut();
    if data.failed {
        return Ok(JsValue::null());
    }
    if data.coder.write(&bytes).is_err() {
        if compresses {
            return Err(type_error(COMPRESS_FAILED));
        }
        data.failed = true;
    }
    let out = data.coder.take();
    drop(codec);
    output(out, context)
}

fn finish(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let codec = this_as::<JsCodec>(this, "finish", "EdgeshimCodec")?;
    let mut codec = codec.borrow_mut();
    let data = codec.data_mut();
    let compresses = data.coder.compresses();
    if data.failed || data.coder.finish().is_err() {
        return Err(type_error(if compresses {
            COMPRESS_FAILED
        } else {
            DECOMPRESS_FAILED
        }));
    }
    let out = data.coder.take();
    drop(codec);
    output(out, context)
}

/// `codec(mode, format)`: a codec for `"compress"` or `"decompress"` and a format, or `null`
/// for an unknown format (the JS classes throw their own messages first).
pub fn make_codec(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let text = |i: usize, context: &mut Context| -> JsResult<String> {
        Ok(args
            .get(i)
            .cloned()
            .unwrap_or_default()
            .to_string(context)?
            .to_std_string_lossy())
    };
    let compress = text(0, context)? == "compress";
    let format = text(1, context)?;
    let Some(coder) = Coder::new(compress, &format) else {
        return Ok(JsValue::null());
    };
    let prototype = match context.get_global_class::<JsCodec>() {
        Some(class) => class.prototype(),
        None => {
            context.register_global_class::<JsCodec>()?;
            let class = context
                .get_global_class::<JsCodec>()
                .ok_or_else(|| type_error("EdgeshimCodec is not registered"))?;
            // Internal: not reachable from the global object.
            context
                .global_object()
                .delete_property_or_throw(boa_engine::js_string!("EdgeshimCodec"), context)?;
            class.prototype()
        }
    };
    let codec = JsCodec {
        coder,
        failed: false,
    };
    Ok(JsObject::from_proto_and_data(Some(prototype), codec).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(coder: &mut Coder, input: &[u8]) -> Vec<u8> {
        coder.write(input).expect("write");
        let mut out = coder.take();
        coder.finish().expect("finish");
        out.extend(coder.take());
        out
    }

    #[test]
    fn every_format_round_trips() {
        let text = b"hello hello hello hello, compression".repeat(50);
        for format in ["gzip", "deflate", "deflate-raw"] {
            let packed = run(&mut Coder::new(true, format).expect("format"), &text);
            assert!(packed.len() < text.len(), "{format}");
            let unpacked = run(&mut Coder::new(false, format).expect("format"), &packed);
            assert_eq!(unpacked, text, "{format}");
        }
        assert!(Coder::new(true, "br").is_none());
    }
}
