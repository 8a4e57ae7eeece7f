//! The native half of `HTMLRewritingStream`, and the `Element` class its handlers receive.
//!
//! `js-lib/fastly.js` defines the `HTMLRewritingStream` class (a `TransformStream` around a
//! rewriter) and makes one rewriter per stream with the host helper `htmlRewriter()`. The
//! rewriter object (internal, no global) has:
//! - `onElement(selector, handler)`: the platform's checks, in its order;
//! - `push(chunk)`: rewrites a chunk, calling the handlers; the output (`Uint8Array`) or null;
//! - `finish()`: ends the document; the last output or null.
//!
//! The first `push` or `finish` starts the rewriting thread ([`super::rewriter`]); from then
//! on no handler can be added, as on Compute (lol_html takes its handlers when built).

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsError, JsObject, JsResult, JsString, JsValue,
    NativeFunction, Trace,
};

use super::error::{HtmlRewriterError, RewriteError};
use super::rewriter::{ElementOp, MatchedElement, Position, Reply, Rewriter};
use super::validation::{check_new_attribute_name, HandlerSelector};
use crate::class_util::{define_enumerable_getter, define_enumerable_method, getter_name};
use crate::host::Phase;
use crate::web::body::{buffer_source_bytes, uint8_array};

const REWRITER_CLASS: &str = "EdgeshimHtmlRewriter";
const ELEMENT_CLASS: &str = "Element";

enum Stage {
    /// Handlers may still be added.
    Building(Vec<HandlerSelector>),
    Running(Rewriter),
    /// Taken by a `push`/`finish` in progress (a handler calling back in sees it as used).
    Busy,
    /// Ended or failed.
    Done,
}

/// One stream's rewriter.
#[derive(Trace, Finalize, JsData)]
pub struct JsHtmlRewriter {
    /// The handlers, in registration order.
    handlers: Vec<JsObject>,
    /// Each handler's selector, as given (an element's `selector`).
    #[unsafe_ignore_trace]
    selectors: Vec<JsString>,
    #[unsafe_ignore_trace]
    stage: Stage,
}

impl Class for JsHtmlRewriter {
    const NAME: &'static str = REWRITER_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::CONFIGURABLE;

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(crate::class_util::type_error(
            "EdgeshimHtmlRewriter is internal",
        ))
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        class
            .method(
                js_string!("onElement"),
                2,
                NativeFunction::from_fn_ptr(on_element),
            )
            .method(js_string!("push"), 1, NativeFunction::from_fn_ptr(push))
            .method(js_string!("finish"), 0, NativeFunction::from_fn_ptr(finish));
        Ok(())
    }
}

/// What one element handler call sees and records.
struct ElementState {
    selector: JsString,
    tag: String,
    /// The attributes as the handler's changes so far leave them (what `getAttribute` reads).
    attributes: Vec<(String, String)>,
    ops: Vec<ElementOp>,
    /// The handler has returned: every use throws.
    expired: bool,
    /// A change lol_html would refuse was attempted: the rewriting stops.
    failed: bool,
}

/// An element passed to an `onElement` handler, valid until the handler returns.
#[derive(Trace, Finalize, JsData)]
pub struct JsElement {
    #[unsafe_ignore_trace]
    state: ElementState,
}

impl Class for JsElement {
    const NAME: &'static str = ELEMENT_CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::CONFIGURABLE;

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(HtmlRewriterError::ElementNotConstructible.into())
    }

    fn init(_: &mut ClassBuilder<'_>) -> JsResult<()> {
        Ok(())
    }
}

/// The prototype of internal class `C` (registered on first use; not a global, as on
/// js-compute 3.46, whose surface has neither an `Element` global nor a rewriter one).
fn internal_prototype<C: Class>(
    context: &mut Context,
    init: fn(&JsObject, &mut Context) -> JsResult<()>,
) -> JsResult<JsObject> {
    if let Some(class) = context.get_global_class::<C>() {
        return Ok(class.prototype());
    }
    context.register_global_class::<C>()?;
    let prototype = crate::class_util::class_prototype::<C>(context)?;
    context
        .global_object()
        .delete_property_or_throw(js_string!(C::NAME), context)?;
    init(&prototype, context)?;
    Ok(prototype)
}

/// The element prototype's members, as the platform's (`JSPROP_ENUMERATE`).
fn init_element_prototype(prototype: &JsObject, context: &mut Context) -> JsResult<()> {
    define_enumerable_getter(prototype, "selector", selector_get, context)?;
    define_enumerable_getter(prototype, "tag", tag_get, context)?;
    let methods: [(
        &'static str,
        usize,
        boa_engine::native_function::NativeFunctionPointer,
    ); 9] = [
        ("before", 1, before),
        ("prepend", 1, prepend),
        ("append", 1, append),
        ("after", 1, after),
        ("getAttribute", 1, get_attribute),
        ("setAttribute", 2, set_attribute),
        ("removeAttribute", 1, remove_attribute),
        ("replaceChildren", 1, replace_children),
        ("replaceWith", 1, replace_with),
    ];
    for (name, length, function) in methods {
        define_enumerable_method(prototype, name, length, function, context)?;
    }
    Ok(())
}

/// The host helper `htmlRewriter()`: a new rewriter with no handlers.
///
/// # Errors
/// Registering the internal class fails (it does not on a working context).
pub fn new_rewriter(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    if context.get_data::<Started>().is_none() {
        context.insert_data(Started::default());
    }
    let prototype = internal_prototype::<JsHtmlRewriter>(context, |_, _| Ok(()))?;
    let rewriter = JsHtmlRewriter {
        handlers: Vec::new(),
        selectors: Vec::new(),
        stage: Stage::Building(Vec::new()),
    };
    Ok(JsObject::from_proto_and_data(Some(prototype), rewriter).into())
}

fn this_rewriter(
    this: &JsValue,
    method: &'static str,
) -> Result<JsObject<JsHtmlRewriter>, HtmlRewriterError> {
    this.as_object()
        .and_then(|o| o.clone().downcast::<JsHtmlRewriter>().ok())
        .ok_or(HtmlRewriterError::WrongReceiver {
            method,
            class: REWRITER_CLASS,
        })
}

/// ToString as SpiderMonkey does it (a Symbol is its TypeError), lone surrogates replaced as
/// `core::encode` does when it makes UTF-8.
fn to_text(value: &JsValue, context: &mut Context) -> JsResult<String> {
    Ok(to_js_string(value, context)?.to_std_string_lossy())
}

fn to_js_string(value: &JsValue, context: &mut Context) -> JsResult<JsString> {
    if value.is_symbol() {
        return Err(HtmlRewriterError::SymbolToString.into());
    }
    value.to_string(context)
}

/// `onElement(selector, handler)` after the JS class's receiver and argument-count checks:
/// used, then the selector's ToString, then the handler, then the selector's syntax.
fn on_element(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let rewriter = this_rewriter(this, "onElement")?;
    if !matches!(rewriter.borrow().data().stage, Stage::Building(_)) {
        return Err(HtmlRewriterError::AlreadyUsed.into());
    }
    let selector = to_js_string(&args.first().cloned().unwrap_or_default(), context)?;
    let handler = args
        .get(1)
        .and_then(JsValue::as_object)
        .filter(JsObject::is_callable)
        .ok_or(HtmlRewriterError::HandlerNotFunction)?;
    let parsed = HandlerSelector::new(&selector.to_std_string_lossy())?;
    let mut rewriter = rewriter.borrow_mut();
    let data = rewriter.data_mut();
    // ToString may have run app code that used the rewriter meanwhile.
    let Stage::Building(selectors) = &mut data.stage else {
        return Err(HtmlRewriterError::AlreadyUsed.into());
    };
    selectors.push(parsed);
    data.handlers.push(handler);
    data.selectors.push(selector);
    Ok(JsValue::undefined())
}

/// The rewriters started in this request (context data): each one's thread ends with the
/// request even when its stream was abandoned half-way, rather than when the garbage
/// collector finds the object (which, with `--reuse-instances`, may be never).
#[derive(Default)]
struct Started(std::cell::RefCell<Vec<JsObject<JsHtmlRewriter>>>);

/// Ends the threads of the rewriters this request started (their streams fail from now on).
pub fn end_request(context: &mut Context) {
    let started = context
        .get_data::<Started>()
        .map(|s| std::mem::take(&mut *s.0.borrow_mut()))
        .unwrap_or_default();
    for rewriter in started {
        // Dropping the running rewriter closes its input: the thread returns.
        if let Ok(mut object) = rewriter.try_borrow_mut() {
            object.data_mut().stage = Stage::Done;
        }
    }
}

/// The running rewriter, taken out of the object while the handlers run (they may call back
/// into it); started on first use.
fn take_running(rewriter: &JsObject<JsHtmlRewriter>, context: &Context) -> JsResult<Rewriter> {
    let stage = std::mem::replace(&mut rewriter.borrow_mut().data_mut().stage, Stage::Busy);
    match stage {
        Stage::Running(running) => Ok(running),
        Stage::Building(selectors) => {
            // The thread cannot exist in the instance the server copies by fork.
            if !Phase::in_request(context) {
                rewriter.borrow_mut().data_mut().stage = Stage::Building(selectors);
                return Err(HtmlRewriterError::OutsideRequest.into());
            }
            let running = Rewriter::start(selectors)
                .map_err(|e| JsError::from(HtmlRewriterError::from(e)))?;
            // Registered by `new_rewriter`, which made this rewriter.
            if let Some(started) = context.get_data::<Started>() {
                started.0.borrow_mut().push(rewriter.clone());
            }
            Ok(running)
        }
        Stage::Busy | Stage::Done => {
            rewriter.borrow_mut().data_mut().stage = stage;
            Err(HtmlRewriterError::from(RewriteError::Closed).into())
        }
    }
}

fn restore(object: &JsObject<JsHtmlRewriter>, running: Rewriter) {
    object.borrow_mut().data_mut().stage = Stage::Running(running);
}

/// Runs `step` (a write or the end) with the JS handlers, then puts the rewriter back (or
/// marks it done) and turns its output into a `Uint8Array`, or null when there is none.
fn drive(
    object: &JsObject<JsHtmlRewriter>,
    mut running: Rewriter,
    ends: bool,
    context: &mut Context,
    step: impl FnOnce(
        &mut Rewriter,
        &mut dyn FnMut(MatchedElement) -> Reply,
    ) -> Result<Vec<u8>, RewriteError>,
) -> JsResult<JsValue> {
    let (handlers, selectors) = {
        let data = object.borrow();
        (data.data().handlers.clone(), data.data().selectors.clone())
    };
    // An error no script may catch (a runtime limit) is not the handler's to lose.
    let mut fatal: Option<JsError> = None;
    let result = {
        let mut on_element = |matched: MatchedElement| {
            call_handler(&handlers, &selectors, matched, &mut fatal, context)
        };
        step(&mut running, &mut on_element)
    };
    object.borrow_mut().data_mut().stage = match (&result, ends) {
        (Ok(_), false) => Stage::Running(running),
        _ => Stage::Done,
    };
    if let Some(error) = fatal {
        return Err(error);
    }
    let output = result.map_err(HtmlRewriterError::from)?;
    if output.is_empty() {
        return Ok(JsValue::null());
    }
    Ok(uint8_array(&output, context)?.into())
}

/// Calls the handler for `matched` with a fresh element; the changes it recorded, or `Stop`
/// when it threw (as on Compute, the stream then fails with `Error processing HTML: The
/// rewriter has been stopped.`, not with the handler's own error).
fn call_handler(
    handlers: &[JsObject],
    selectors: &[JsString],
    matched: MatchedElement,
    fatal: &mut Option<JsError>,
    context: &mut Context,
) -> Reply {
    let (Some(handler), Some(selector)) = (
        handlers.get(matched.handler),
        selectors.get(matched.handler),
    ) else {
        return Reply::Stop;
    };
    let state = ElementState {
        selector: selector.clone(),
        tag: matched.tag,
        attributes: matched.attributes,
        ops: Vec::new(),
        expired: false,
        failed: false,
    };
    let prototype = match internal_prototype::<JsElement>(context, init_element_prototype) {
        Ok(prototype) => prototype,
        Err(error) => {
            *fatal = Some(error);
            return Reply::Stop;
        }
    };
    let element = JsObject::from_proto_and_data(Some(prototype), JsElement { state });
    let result = handler.call(&JsValue::undefined(), &[element.clone().into()], context);
    let (ops, failed) = match element.downcast_mut::<JsElement>() {
        Some(mut element) => {
            let state = &mut element.state;
            state.expired = true;
            (std::mem::take(&mut state.ops), state.failed)
        }
        None => (Vec::new(), true),
    };
    match result {
        Err(error) => {
            if is_runtime_limit(&error) {
                *fatal = Some(error);
            } else {
                tracing::debug!(target: "edgeshim::html_rewriter", "an onElement handler threw: {error}");
            }
            Reply::Stop
        }
        Ok(_) if failed => Reply::Stop,
        Ok(_) => Reply::Apply(ops),
    }
}

/// Boa's runtime limits (loop, recursion, stack) are errors scripts cannot catch.
fn is_runtime_limit(error: &JsError) -> bool {
    matches!(
        error.as_engine(),
        Some(boa_engine::error::EngineError::RuntimeLimit(_))
    )
}

/// `push(chunk)`: as the platform's transform algorithm, the rewriter is built before the
/// chunk is checked, and an empty chunk writes nothing.
fn push(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let object = this_rewriter(this, "push")?;
    let running = take_running(&object, context)?;
    let chunk = args.first().cloned().unwrap_or_default();
    let bytes = match buffer_source_bytes(&chunk, context) {
        Ok(Some(bytes)) if !bytes.is_empty() => bytes,
        Ok(Some(_)) => {
            restore(&object, running);
            return Ok(JsValue::null());
        }
        Ok(None) => {
            restore(&object, running);
            return Err(HtmlRewriterError::ChunkNotBytes.into());
        }
        Err(error) => {
            restore(&object, running);
            return Err(error);
        }
    };
    drive(&object, running, false, context, |rewriter, on_element| {
        rewriter.write(bytes, on_element)
    })
}

/// `finish()`: the platform's flush algorithm (it builds the rewriter too if no chunk came).
fn finish(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let object = this_rewriter(this, "finish")?;
    let running = take_running(&object, context)?;
    drive(&object, running, true, context, |rewriter, on_element| {
        rewriter.end(on_element)
    })
}

// ---- Element ---------------------------------------------------------------------------

fn this_element(
    this: &JsValue,
    method: &'static str,
) -> Result<JsObject<JsElement>, HtmlRewriterError> {
    this.as_object()
        .and_then(|o| o.clone().downcast::<JsElement>().ok())
        .ok_or(HtmlRewriterError::WrongReceiver {
            method,
            class: ELEMENT_CLASS,
        })
}

/// The platform's `ELEMENT_METHOD_HEADER`: receiver, argument count, then "still valid".
fn live_element(
    this: &JsValue,
    args: &[JsValue],
    method: &'static str,
    required: usize,
) -> JsResult<JsObject<JsElement>> {
    let element = this_element(this, method)?;
    if args.len() < required {
        return Err(HtmlRewriterError::TooFewArguments {
            what: method,
            required,
            passed: args.len(),
        }
        .into());
    }
    if element.borrow().data().state.expired {
        return Err(HtmlRewriterError::ElementOutsideHandler.into());
    }
    Ok(element)
}

fn selector_get(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let method = getter_name::<JsElement>(this, "selector get", "selector_get", context);
    let element = live_element(this, &[], method, 0)?;
    let selector = element.borrow().data().state.selector.clone();
    Ok(selector.into())
}

fn tag_get(this: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let method = getter_name::<JsElement>(this, "tag get", "tag_get", context);
    let element = live_element(this, &[], method, 0)?;
    let tag = element.borrow().data().state.tag.clone();
    Ok(JsString::from(tag).into())
}

/// `{ escapeHTML: true }` (exactly the boolean) asks for the content as text.
fn escape_html(options: Option<&JsValue>, context: &mut Context) -> JsResult<bool> {
    let Some(options) = options.and_then(JsValue::as_object) else {
        return Ok(false);
    };
    Ok(options.get(js_string!("escapeHTML"), context)?.as_boolean() == Some(true))
}

fn insert(
    this: &JsValue,
    args: &[JsValue],
    context: &mut Context,
    method: &'static str,
    at: Position,
) -> JsResult<JsValue> {
    let element = live_element(this, args, method, 1)?;
    let content = to_text(&args[0], context)?;
    let as_text = escape_html(args.get(1), context)?;
    element
        .borrow_mut()
        .data_mut()
        .state
        .ops
        .push(ElementOp::Insert {
            at,
            content,
            as_text,
        });
    Ok(JsValue::undefined())
}

fn before(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    insert(this, args, context, "before", Position::Before)
}

fn prepend(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    insert(this, args, context, "prepend", Position::Prepend)
}

fn append(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    insert(this, args, context, "append", Position::Append)
}

fn after(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    insert(this, args, context, "after", Position::After)
}

fn replace_children(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    insert(
        this,
        args,
        context,
        "replaceChildren",
        Position::ReplaceChildren,
    )
}

fn replace_with(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    insert(this, args, context, "replaceWith", Position::ReplaceWith)
}

/// lol_html compares attribute names ASCII-case-insensitively (it lowercases the name asked).
fn get_attribute(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let element = live_element(this, args, "getAttribute", 1)?;
    let name = to_text(&args[0], context)?.to_ascii_lowercase();
    let value = element
        .borrow()
        .data()
        .state
        .attributes
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone());
    Ok(value.map_or_else(JsValue::null, |v| JsString::from(v).into()))
}

fn set_attribute(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let element = live_element(this, args, "setAttribute", 2)?;
    let name = to_text(&args[0], context)?.to_ascii_lowercase();
    let value = to_text(&args[1], context)?;
    let mut element = element.borrow_mut();
    let state = &mut element.data_mut().state;
    match state.attributes.iter_mut().find(|(n, _)| *n == name) {
        // lol_html checks only the name of an attribute it adds.
        Some(existing) => existing.1.clone_from(&value),
        None => {
            if let Err(error) = check_new_attribute_name(&name) {
                state.failed = true;
                return Err(error.into());
            }
            state.attributes.push((name.clone(), value.clone()));
        }
    }
    state.ops.push(ElementOp::SetAttribute { name, value });
    Ok(JsValue::undefined())
}

fn remove_attribute(this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let element = live_element(this, args, "removeAttribute", 1)?;
    let name = to_text(&args[0], context)?.to_ascii_lowercase();
    let mut element = element.borrow_mut();
    let state = &mut element.data_mut().state;
    // lol_html removes the first attribute of that name.
    if let Some(index) = state.attributes.iter().position(|(n, _)| *n == name) {
        state.attributes.remove(index);
    }
    state.ops.push(ElementOp::RemoveAttribute(name));
    Ok(JsValue::undefined())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use boa_engine::Source;

    use super::*;

    /// Runs `scenario` (an async function body) in a fresh context handling a request; what
    /// it returns or throws, as text.
    fn run(scenario: &str) -> String {
        let mut context = Context::default();
        crate::js_lib::register(&mut context).unwrap();
        Phase::install(&mut context);
        Phase::enter_request(&context);
        let code = format!(
            "const enc = (s) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
             const dec = (u) => String.fromCharCode(...u);
             async function rewrite(stream, chunks) {{
               const source = new ReadableStream({{ start(c) {{ for (const x of chunks) c.enqueue(enc(x)); c.close(); }} }});
               const reader = source.pipeThrough(stream).getReader();
               let out = '';
               for (;;) {{ const r = await reader.read(); if (r.done) return out; out += dec(r.value); }}
             }}
             globalThis.result = 'pending';
             (async () => {{ {scenario} }})().then(
               (r) => {{ globalThis.result = String(r); }},
               (e) => {{ globalThis.result = 'threw ' + e.name + ': ' + e.message; }});"
        );
        context.eval(Source::from_bytes(&code)).unwrap();
        context.run_jobs().unwrap();
        context
            .eval(Source::from_bytes("globalThis.result"))
            .unwrap()
            .to_string(&mut context)
            .unwrap()
            .to_std_string_escaped()
    }

    const PAGE: &str = "<!DOCTYPE html><html><head><title>Test</title></head><body><h1 class=\"a-class\" id=\"an-id\">Hello, World!</h1></body></html>";

    #[test]
    fn handlers_rewrite_across_chunks_and_read_their_own_changes() {
        let result = run(&format!(
            "const seen = [];
             const out = await rewrite(new HTMLRewritingStream()
               .onElement('h1', (e) => {{
                 seen.push(e.tag, e.selector, e.getAttribute('CLASS'), e.getAttribute('nope'));
                 e.setAttribute('class', 'b');
                 e.setAttribute('data-x', '1');
                 e.removeAttribute('id');
                 seen.push(e.getAttribute('class'), e.getAttribute('data-x'), e.getAttribute('id'));
                 e.before('<i>', {{ escapeHTML: true }});
                 e.prepend('P ');
                 e.append(' A', {{ escapeHTML: 1 }});
                 e.after('<hr>');
               }}), ['{a}', '{b}']);
             return out + ' | ' + seen.join(',');",
            a = &PAGE[..75],
            b = &PAGE[75..]
        ));
        assert_eq!(
            result,
            "<!DOCTYPE html><html><head><title>Test</title></head><body>&lt;i&gt;<h1 class=\"b\" data-x=\"1\">P Hello, World! A</h1><hr></body></html> \
             | h1,h1,a-class,,b,1,"
        );
    }

    #[test]
    fn a_throwing_handler_fails_the_stream_with_the_platform_message() {
        let result = run(&format!(
            "return await rewrite(new HTMLRewritingStream().onElement('h1', () => {{ throw new RangeError('mine'); }}), ['{PAGE}']);"
        ));
        assert_eq!(
            result,
            "threw Error: Error processing HTML: The rewriter has been stopped."
        );
        let result = run(&format!(
            "let caught;
             const stream = new HTMLRewritingStream().onElement('h1', (e) => {{
               try {{ e.setAttribute('a=b', 'x'); }} catch (err) {{ caught = err.name + ': ' + err.message; }}
             }});
             const out = await rewrite(stream, ['{PAGE}']).catch((e) => e.message);
             return caught + ' | ' + out;"
        ));
        assert_eq!(
            result,
            "Error: `=` character is forbidden in the attribute name | Error processing HTML: The rewriter has been stopped."
        );
    }

    #[test]
    fn on_element_checks_in_the_platform_order() {
        let result = run(
            "const r = new HTMLRewritingStream();
             const errors = [];
             const attempt = (f) => { try { f(); errors.push('ok'); } catch (e) { errors.push(e.name + ': ' + e.message); } };
             attempt(() => r.onElement('h1'));
             attempt(() => r.onElement.call({}, 'h1', () => {}));
             attempt(() => r.onElement('div..a-class', () => {}));
             attempt(() => r.onElement('div', 'not a function'));
             attempt(() => r.onElement(Symbol(), () => {}));
             attempt(() => { if (r.onElement('p', () => {}) !== r) throw new Error('not chained'); });
             await rewrite(r, []);
             attempt(() => r.onElement('p', () => {}));
             return errors.join('\\n');",
        );
        assert_eq!(
            result,
            "TypeError: onElement: At least 2 arguments required, but only 1 passed\n\
             TypeError: Method 'onElement' called on receiver that's not an instance of HTMLRewritingStream\n\
             Error: HTMLRewriter: invalid selector - Invalid or unescaped class name in selector.\n\
             Error: HTMLRewriter: element handler must be a function\n\
             TypeError: can't convert symbol to string\n\
             ok\n\
             Error: HTMLRewriter: cannot add handlers after the rewriter has been used"
        );
    }

    #[test]
    fn elements_expire_when_their_handler_returns() {
        let result = run(&format!(
            "let saved;
             await rewrite(new HTMLRewritingStream().onElement('h1', (e) => {{ saved = e; }}), ['{PAGE}']);
             const errors = [];
             for (const f of [() => saved.tag, () => saved.selector, () => saved.before('x'), () => saved.getAttribute(),
                              () => Object.getPrototypeOf(saved).before.call({{}}, 'x'),
                              () => new (Object.getPrototypeOf(saved).constructor)()]) {{
               try {{ f(); errors.push('ok'); }} catch (e) {{ errors.push(e.name + ': ' + e.message); }}
             }}
             const proto = Object.getPrototypeOf(saved);
             const keys = Object.getOwnPropertyNames(proto).filter((k) => Object.getOwnPropertyDescriptor(proto, k).enumerable);
             return errors.join('\\n') + '\\n' + keys.join() + '\\n' + typeof globalThis.Element;"
        ));
        assert_eq!(
            result,
            "Error: Element objects are only valid within onElement handlers\n\
             Error: Element objects are only valid within onElement handlers\n\
             Error: Element objects are only valid within onElement handlers\n\
             TypeError: getAttribute: At least 1 argument required, but only 0 passed\n\
             TypeError: Method 'before' called on receiver that's not an instance of Element\n\
             TypeError: Element builtin can't be instantiated directly\n\
             selector,tag,before,prepend,append,after,getAttribute,setAttribute,removeAttribute,replaceChildren,replaceWith\n\
             undefined"
        );
    }

    #[test]
    fn chunks_must_be_bytes_and_plain_text_passes_through() {
        let plain = run(
            "return await rewrite(new HTMLRewritingStream().onElement('div.a', () => {}), ['This is not HTML content']);",
        );
        assert_eq!(plain, "This is not HTML content");
        let result = run("const t = new HTMLRewritingStream();
             const w = t.writable.getWriter();
             const read = t.readable.getReader().read();
             w.write('text').catch(() => {});
             return await read;");
        assert_eq!(
            result,
            "threw TypeError: HTMLRewritingStream transform: chunks must be of type ArrayBuffer or ArrayBufferView"
        );
    }

    #[test]
    fn rewriting_during_initialization_is_refused() {
        let mut context = Context::default();
        crate::js_lib::register(&mut context).unwrap();
        Phase::install(&mut context);
        let code = "globalThis.result = 'pending';
             const t = new HTMLRewritingStream();
             t.readable.getReader().read().then(() => { result = 'read'; }, (e) => { result = e.message; });
             t.writable.getWriter().close().catch(() => {});";
        context.eval(Source::from_bytes(code)).unwrap();
        context.run_jobs().unwrap();
        let result = context
            .eval(Source::from_bytes("result"))
            .unwrap()
            .to_string(&mut context)
            .unwrap()
            .to_std_string_escaped();
        assert_eq!(result, super::super::messages::OUTSIDE_REQUEST);
    }
}
