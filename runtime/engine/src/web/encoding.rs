//! `TextEncoder` and `TextDecoder`: the project's own, following the WHATWG Encoding standard
//! (<https://encoding.spec.whatwg.org/>) as the platform (StarlingMonkey's text-codec, backed
//! by encoding_rs there too) implements it: `encodeInto`, every label encoding_rs knows
//! except `replacement`, the `fatal` and `ignoreBOM` options and streaming decodes.

use boa_engine::builtins::typed_array::TypedArrayKind;
use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::{
    JsArrayBuffer, JsSharedArrayBuffer, JsTypedArray, JsUint8Array,
};
use boa_engine::object::NativeObject;
use boa_engine::object::ObjectInitializer;
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::string::CodePoint;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsError, JsNativeError, JsObject, JsResult, JsString,
    JsSymbol, JsValue, Trace,
};
use encoding_rs::{Decoder, DecoderResult, Encoding};

use super::body::{buffer_source_bytes, uint8_array};
use crate::class_util::{
    class_prototype, define_enumerable_getter, define_enumerable_method, downcast_this,
    getter_name, too_few_arguments, wrong_receiver,
};

const ENCODER_CLASS: &str = "TextEncoder";
const DECODER_CLASS: &str = "TextDecoder";

/// The platform's messages, verbatim.
mod msg {
    pub const UNSUPPORTED_ENCODING: &str =
        "TextDecoder constructor: The given encoding is not supported.";
    pub const DECODING_FAILED: &str = "TextDecoder.decode: Decoding failed.";
    pub const DECODER_OPTIONS: &str =
        "TextDecoder constructor: options must be an object or undefined";
    pub const DECODE_OPTIONS: &str = "TextDecoder.decode: options must be an object or undefined";
    pub const DECODE_INPUT: &str =
        "TextDecoder#decode: input must be of type ArrayBuffer or ArrayBufferView";
    pub const ENCODE_INTO_DESTINATION: &str =
        "TextEncoder.encodeInto: destination must be a Uint8Array";

    pub fn without_new(class: &str) -> String {
        format!("calling a builtin {class} constructor without new is forbidden")
    }
}

/// Every error this module raises; [`EncodingError::into_js`] decides the JS class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("{}", msg::UNSUPPORTED_ENCODING)]
    UnsupportedEncoding,
    #[error("{}", msg::DECODING_FAILED)]
    DecodingFailed,
    #[error("{}", msg::DECODER_OPTIONS)]
    DecoderOptions,
    #[error("{}", msg::DECODE_OPTIONS)]
    DecodeOptions,
    #[error("{}", msg::DECODE_INPUT)]
    DecodeInput,
    #[error("{}", msg::ENCODE_INTO_DESTINATION)]
    EncodeIntoDestination,
    #[error("{}", msg::without_new(.0))]
    ConstructorWithoutNew(&'static str),
    #[error("{}", wrong_receiver(.method, .class))]
    WrongReceiver {
        method: &'static str,
        class: &'static str,
    },
    #[error("{}", too_few_arguments(.what, *.required, *.passed))]
    TooFewArguments {
        what: &'static str,
        required: usize,
        passed: usize,
    },
}

impl EncodingError {
    fn native(&self) -> JsNativeError {
        match self {
            Self::UnsupportedEncoding => JsNativeError::range(),
            _ => JsNativeError::typ(),
        }
    }

    pub fn into_js(self) -> JsError {
        let message = self.to_string();
        self.native().with_message(message).into()
    }
}

impl From<EncodingError> for JsError {
    fn from(err: EncodingError) -> Self {
        err.into_js()
    }
}

/// The receiver as a `T`, or the platform's TypeError naming `method` and `class`.
fn receiver<T: NativeObject>(
    this: &JsValue,
    method: &'static str,
    class: &'static str,
) -> Result<JsObject<T>, EncodingError> {
    downcast_this::<T>(this).ok_or(EncodingError::WrongReceiver { method, class })
}

/// The receiver of a getter. The platform's message names the getter `"<name> get"` when it
/// is called on the prototype and by its C++ function name (`"<name>_get"`) on any other
/// object; both spellings are kept.
fn getter_receiver<T: NativeObject + Class>(
    this: &JsValue,
    on_prototype: &'static str,
    elsewhere: &'static str,
    context: &Context,
) -> Result<JsObject<T>, EncodingError> {
    downcast_this::<T>(this).ok_or_else(|| EncodingError::WrongReceiver {
        method: getter_name::<T>(this, on_prototype, elsewhere, context),
        class: T::NAME,
    })
}

fn require(args: &[JsValue], what: &'static str, required: usize) -> Result<(), EncodingError> {
    if args.len() < required {
        return Err(EncodingError::TooFewArguments {
            what,
            required,
            passed: args.len(),
        });
    }
    Ok(())
}

/// The prototype a constructor call should give its object (`new.target.prototype`, falling
/// back to the registered class's).
fn prototype_for<C: Class>(new_target: &JsValue, context: &mut Context) -> JsResult<JsObject> {
    if let Some(target) = new_target.as_object() {
        if let Some(proto) = target.get(js_string!("prototype"), context)?.as_object() {
            return Ok(proto);
        }
    }
    class_prototype::<C>(context)
}

// ---------------------------------------------------------------------------------------------
// UTF-8 encoding

/// UTF-8 of `source` (lone surrogates as U+FFFD) that fits in `capacity` bytes without
/// splitting a character: the bytes and how many UTF-16 code units they cover.
pub fn encode_utf8_partial(source: &JsString, capacity: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(capacity.min(source.len().saturating_mul(3)));
    let mut read = 0;
    let mut buf = [0u8; 4];
    for point in source.code_points() {
        let c = match point {
            CodePoint::Unicode(c) => c,
            CodePoint::UnpairedSurrogate(_) => char::REPLACEMENT_CHARACTER,
        };
        let encoded = c.encode_utf8(&mut buf);
        if out.len() + encoded.len() > capacity {
            break;
        }
        out.extend_from_slice(encoded.as_bytes());
        read += point.code_unit_count();
    }
    (out, read)
}

/// Writes `bytes` at the start of the range `view` covers (the caller keeps `bytes` within
/// the view's byte length).
///
/// # Errors
/// From reading the view's buffer, or if its buffer is neither kind of ArrayBuffer.
pub fn write_into_view(view: &JsTypedArray, bytes: &[u8], context: &mut Context) -> JsResult<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let offset = view.byte_offset(context)?;
    let buffer = view.buffer(context)?;
    let Some(buffer) = buffer.as_object() else {
        return Ok(());
    };
    if let Ok(buffer) = JsArrayBuffer::from_object(buffer.clone()) {
        if let Some(mut data) = buffer.data_mut() {
            if let Some(target) = data.get_mut(offset..offset + bytes.len()) {
                target.copy_from_slice(bytes);
            }
        }
        return Ok(());
    }
    // A SharedArrayBuffer: its bytes are reached through a byte view and the engine's `set`.
    let shared = JsSharedArrayBuffer::from_object(buffer.clone())?;
    let window = JsUint8Array::from_shared_array_buffer(shared, context)?;
    let source = uint8_array(bytes, context)?;
    window.set_values(source.into(), Some(offset as u64), context)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// TextEncoder

#[derive(Debug, Clone, Trace, Finalize, JsData)]
pub struct JsTextEncoder;

fn encoder_encoding(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    getter_receiver::<JsTextEncoder>(this, "encoding get", "encoding_get", context)?;
    Ok(js_string!("utf-8").into())
}

fn encode(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    receiver::<JsTextEncoder>(this, "encode", ENCODER_CLASS)?;
    let input = args.first().cloned().unwrap_or_default();
    if input.is_undefined() {
        return Ok(uint8_array(&[], context)?.into());
    }
    let text = input.to_string(context)?.to_std_string_lossy();
    Ok(uint8_array(text.as_bytes(), context)?.into())
}

fn encode_into(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    receiver::<JsTextEncoder>(this, "encodeInto", ENCODER_CLASS)?;
    require(args, "encodeInto", 2)?;
    let source = args[0].to_string(context)?;
    let destination = args[1]
        .as_object()
        .and_then(|o| JsTypedArray::from_object(o.clone()).ok())
        .filter(|view| view.kind() == Some(TypedArrayKind::Uint8))
        .ok_or(EncodingError::EncodeIntoDestination)?;
    let capacity = destination.byte_length(context)?;
    let (bytes, read) = encode_utf8_partial(&source, capacity);
    write_into_view(&destination, &bytes, context)?;
    let result = ObjectInitializer::new(context)
        .property(js_string!("read"), read, Attribute::all())
        .property(js_string!("written"), bytes.len(), Attribute::all())
        .build();
    Ok(result.into())
}

impl Class for JsTextEncoder {
    const NAME: &'static str = ENCODER_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        // Members are defined by `register`, enumerable and after `constructor`, as the
        // platform has them.
        Ok(())
    }

    fn construct(
        new_target: &JsValue,
        args: &[JsValue],
        context: &mut Context,
    ) -> JsResult<JsObject> {
        if new_target.is_undefined() {
            return Err(EncodingError::ConstructorWithoutNew(ENCODER_CLASS).into());
        }
        let data = Self::data_constructor(new_target, args, context)?;
        let prototype = prototype_for::<Self>(new_target, context)?;
        Ok(JsObject::from_proto_and_data(prototype, data).upcast())
    }

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Ok(Self)
    }
}

// ---------------------------------------------------------------------------------------------
// TextDecoder

#[derive(Trace, Finalize, JsData)]
pub struct JsTextDecoder {
    #[unsafe_ignore_trace]
    encoding: &'static Encoding,
    /// The decoder with its state between streaming calls.
    #[unsafe_ignore_trace]
    decoder: Decoder,
    fatal: bool,
    ignore_bom: bool,
    /// The previous `decode` was a streaming one: its state carries over.
    streaming: bool,
}

impl std::fmt::Debug for JsTextDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsTextDecoder")
            .field("encoding", &self.encoding.name())
            .field("fatal", &self.fatal)
            .field("ignore_bom", &self.ignore_bom)
            .field("streaming", &self.streaming)
            .finish_non_exhaustive()
    }
}

/// What a `decode` call did wrong with the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl JsTextDecoder {
    /// A decoder for `label` (ASCII whitespace around it ignored, case-insensitive), as
    /// `new TextDecoder(label, { fatal, ignoreBOM })` makes it.
    ///
    /// # Errors
    /// [`EncodingError::UnsupportedEncoding`] for an unknown label or `replacement`'s.
    pub fn new(label: &str, fatal: bool, ignore_bom: bool) -> Result<Self, EncodingError> {
        let encoding = Encoding::for_label_no_replacement(label.as_bytes())
            .ok_or(EncodingError::UnsupportedEncoding)?;
        Ok(Self {
            encoding,
            decoder: Self::fresh_decoder(encoding, ignore_bom),
            fatal,
            ignore_bom,
            streaming: false,
        })
    }

    fn fresh_decoder(encoding: &'static Encoding, ignore_bom: bool) -> Decoder {
        if ignore_bom {
            encoding.new_decoder_without_bom_handling()
        } else {
            encoding.new_decoder_with_bom_removal()
        }
    }

    /// The encoding's name as the standard spells it (lower case).
    pub fn encoding_name(&self) -> String {
        self.encoding.name().to_ascii_lowercase()
    }

    /// Decodes `bytes` to UTF-16. With `stream`, an incomplete sequence at the end is kept
    /// for the next call; without it, the decoder is flushed and starts afresh next time.
    ///
    /// # Errors
    /// [`Malformed`] for invalid input when the decoder is fatal.
    pub fn decode(&mut self, bytes: &[u8], stream: bool) -> Result<Vec<u16>, Malformed> {
        if !self.streaming {
            self.decoder = Self::fresh_decoder(self.encoding, self.ignore_bom);
        }
        self.streaming = stream;
        let last = !stream;
        let capacity = self
            .decoder
            .max_utf16_buffer_length(bytes.len())
            .unwrap_or(usize::MAX / 4);
        let mut out = vec![0u16; capacity];
        let written = if self.fatal {
            let (result, _, written) = self
                .decoder
                .decode_to_utf16_without_replacement(bytes, &mut out, last);
            match result {
                DecoderResult::InputEmpty => written,
                DecoderResult::Malformed(_, _) | DecoderResult::OutputFull => {
                    // The next call starts afresh, as after a flush.
                    self.streaming = false;
                    return Err(Malformed);
                }
            }
        } else {
            let (_, _, written, _) = self.decoder.decode_to_utf16(bytes, &mut out, last);
            written
        };
        out.truncate(written);
        Ok(out)
    }
}

fn options_object(
    value: Option<&JsValue>,
    null_allowed: bool,
    error: EncodingError,
) -> Result<Option<JsObject>, EncodingError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_undefined() => Ok(None),
        Some(v) if v.is_null() && null_allowed => Ok(None),
        Some(v) => v.as_object().map(Some).ok_or(error),
    }
}

fn decoder_encoding(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let decoder = getter_receiver::<JsTextDecoder>(this, "encoding get", "encoding_get", context)?;
    let name = decoder.borrow().data().encoding_name();
    Ok(JsString::from(name.as_str()).into())
}

fn decoder_fatal(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let decoder = getter_receiver::<JsTextDecoder>(this, "fatal get", "fatal_get", context)?;
    let fatal = decoder.borrow().data().fatal;
    Ok(fatal.into())
}

fn decoder_ignore_bom(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let decoder =
        getter_receiver::<JsTextDecoder>(this, "ignoreBOM get", "ignoreBOM_get", context)?;
    let ignore_bom = decoder.borrow().data().ignore_bom;
    Ok(ignore_bom.into())
}

fn decode(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let decoder = receiver::<JsTextDecoder>(this, "decode", DECODER_CLASS)?;
    let input = args.first().cloned().unwrap_or_default();
    let bytes = if input.is_undefined() {
        Vec::new()
    } else {
        buffer_source_bytes(&input, context)?.ok_or(EncodingError::DecodeInput)?
    };
    let stream = match options_object(args.get(1), false, EncodingError::DecodeOptions)? {
        Some(options) => options.get(js_string!("stream"), context)?.to_boolean(),
        None => false,
    };
    let decoded = decoder
        .borrow_mut()
        .data_mut()
        .decode(&bytes, stream)
        .map_err(|Malformed| EncodingError::DecodingFailed)?;
    Ok(JsString::from(&decoded[..]).into())
}

impl Class for JsTextDecoder {
    const NAME: &'static str = DECODER_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        // Members are defined by `register`, as for TextEncoder.
        Ok(())
    }

    fn construct(
        new_target: &JsValue,
        args: &[JsValue],
        context: &mut Context,
    ) -> JsResult<JsObject> {
        if new_target.is_undefined() {
            return Err(EncodingError::ConstructorWithoutNew(DECODER_CLASS).into());
        }
        let data = Self::data_constructor(new_target, args, context)?;
        let prototype = prototype_for::<Self>(new_target, context)?;
        Ok(JsObject::from_proto_and_data(prototype, data).upcast())
    }

    fn data_constructor(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<Self> {
        let label = match args.first() {
            None => "utf-8".to_owned(),
            Some(v) if v.is_undefined() => "utf-8".to_owned(),
            Some(v) => v.to_string(context)?.to_std_string_lossy(),
        };
        // The label is checked before the options are read, as the platform does.
        Encoding::for_label_no_replacement(label.as_bytes())
            .ok_or(EncodingError::UnsupportedEncoding)?;
        let (mut fatal, mut ignore_bom) = (false, false);
        if let Some(options) = options_object(args.get(1), true, EncodingError::DecoderOptions)? {
            fatal = options.get(js_string!("fatal"), context)?.to_boolean();
            ignore_bom = options.get(js_string!("ignoreBOM"), context)?.to_boolean();
        }
        Ok(Self::new(&label, fatal, ignore_bom)?)
    }
}

fn define_to_string_tag(prototype: &JsObject, tag: &str, context: &mut Context) -> JsResult<()> {
    prototype.define_property_or_throw(
        JsSymbol::to_string_tag(),
        PropertyDescriptor::builder()
            .value(JsString::from(tag))
            .writable(false)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    Ok(())
}

/// Registers `TextEncoder` and `TextDecoder` with their members in the platform's order.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.register_global_class::<JsTextEncoder>()?;
    context.register_global_class::<JsTextDecoder>()?;

    // SpiderMonkey's `JS_InitClass` defines the accessors before the methods.
    let encoder = class_prototype::<JsTextEncoder>(context)?;
    define_enumerable_getter(&encoder, "encoding", encoder_encoding, context)?;
    define_to_string_tag(&encoder, ENCODER_CLASS, context)?;
    define_enumerable_method(&encoder, "encode", 0, encode, context)?;
    define_enumerable_method(&encoder, "encodeInto", 2, encode_into, context)?;

    let decoder = class_prototype::<JsTextDecoder>(context)?;
    define_enumerable_getter(&decoder, "encoding", decoder_encoding, context)?;
    define_enumerable_getter(&decoder, "fatal", decoder_fatal, context)?;
    define_enumerable_getter(&decoder, "ignoreBOM", decoder_ignore_bom, context)?;
    define_to_string_tag(&decoder, DECODER_CLASS, context)?;
    define_enumerable_method(&decoder, "decode", 0, decode, context)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn partial_encoding_never_splits_a_character() {
        let s = JsString::from("a\u{e9}\u{1f600}");
        assert_eq!(encode_utf8_partial(&s, 0), (vec![], 0));
        assert_eq!(encode_utf8_partial(&s, 2), (b"a".to_vec(), 1));
        assert_eq!(
            encode_utf8_partial(&s, 3),
            ("a\u{e9}".as_bytes().to_vec(), 2)
        );
        assert_eq!(
            encode_utf8_partial(&s, 6),
            ("a\u{e9}".as_bytes().to_vec(), 2)
        );
        assert_eq!(
            encode_utf8_partial(&s, 7),
            ("a\u{e9}\u{1f600}".as_bytes().to_vec(), 4)
        );
        let lone = JsString::from(&[0xD800u16, 0x61][..]);
        assert_eq!(
            encode_utf8_partial(&lone, 10),
            (b"\xEF\xBF\xBDa".to_vec(), 2)
        );
    }

    #[test]
    fn streaming_keeps_partial_sequences() {
        let mut d = JsTextDecoder::new("utf-8", false, false).unwrap();
        assert_eq!(d.decode(b"\xE2\x82", true).unwrap(), utf16(""));
        assert_eq!(d.decode(b"\xAC!", false).unwrap(), utf16("\u{20ac}!"));
        // A flushed incomplete sequence is a replacement character.
        assert_eq!(d.decode(b"\xE2\x82", false).unwrap(), utf16("\u{fffd}"));
    }

    #[test]
    fn fatal_and_bom() {
        let mut d = JsTextDecoder::new("utf-8", true, false).unwrap();
        assert_eq!(d.decode(b"\xFF", false), Err(Malformed));
        assert_eq!(d.decode(b"\xEF\xBB\xBFok", false).unwrap(), utf16("ok"));
        let mut keep = JsTextDecoder::new("utf-8", false, true).unwrap();
        assert_eq!(
            keep.decode(b"\xEF\xBB\xBFok", false).unwrap(),
            utf16("\u{feff}ok")
        );
    }

    #[test]
    fn error_classes() {
        let mut ctx = Context::default();
        let cases = [
            (
                EncodingError::UnsupportedEncoding,
                "RangeError",
                "TextDecoder constructor: The given encoding is not supported.",
            ),
            (
                EncodingError::DecodingFailed,
                "TypeError",
                "TextDecoder.decode: Decoding failed.",
            ),
            (
                EncodingError::ConstructorWithoutNew(DECODER_CLASS),
                "TypeError",
                "calling a builtin TextDecoder constructor without new is forbidden",
            ),
        ];
        for (err, class, message) in cases {
            let value = err.into_js().into_opaque(&mut ctx).unwrap();
            let obj = value.as_object().unwrap();
            let name = obj.get(js_string!("name"), &mut ctx).unwrap();
            let text = obj.get(js_string!("message"), &mut ctx).unwrap();
            assert_eq!(
                name.to_string(&mut ctx).unwrap().to_std_string_escaped(),
                class
            );
            assert_eq!(
                text.to_string(&mut ctx).unwrap().to_std_string_escaped(),
                message
            );
        }
    }

    #[test]
    fn labels() {
        assert_eq!(
            JsTextDecoder::new(" UTF8\n", false, false)
                .unwrap()
                .encoding_name(),
            "utf-8"
        );
        assert_eq!(
            JsTextDecoder::new("utf-16", false, false)
                .unwrap()
                .encoding_name(),
            "utf-16le"
        );
        assert_eq!(
            JsTextDecoder::new("sjis", false, false)
                .unwrap()
                .encoding_name(),
            "shift_jis"
        );
        assert_eq!(
            JsTextDecoder::new("replacement", false, false).err(),
            Some(EncodingError::UnsupportedEncoding)
        );
        assert_eq!(
            JsTextDecoder::new("iso-2022-kr", false, false).err(),
            Some(EncodingError::UnsupportedEncoding)
        );
        assert_eq!(
            JsTextDecoder::new("\u{b}utf-8", false, false).err(),
            Some(EncodingError::UnsupportedEncoding)
        );
    }
}
