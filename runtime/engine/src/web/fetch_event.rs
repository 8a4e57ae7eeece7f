//! `addEventListener("fetch", …)` and `FetchEvent`: how a Compute app receives a request.
//!
//! The event is a small state machine (see `FetchEventState`): listeners run while it is
//! *dispatching*; `respondWith` is allowed once and only then; afterwards the host awaits the
//! response. Mirrors js-compute-runtime's FetchEvent, whose messages it copies:
//! <https://js-compute-reference-docs.edgecompute.app/docs/globals/FetchEvent/>.

use std::cell::RefCell;

use boa_engine::class::{Class, ClassBuilder};
use boa_engine::object::builtins::JsPromise;
use boa_engine::property::Attribute;
use boa_engine::{
    js_string, Context, Finalize, JsData, JsNativeError, JsObject, JsResult, JsValue,
    NativeFunction, Trace,
};

use crate::class_util::{getter, require_args, this_as, type_error};

const CLASS: &str = "FetchEvent";

pub const RESPOND_WITH_TWICE: &str =
    "FetchEvent#respondWith can't be called twice on the same event";
pub const RESPOND_WITH_LATE: &str =
    "FetchEvent#respondWith must be called synchronously from within a FetchEvent handler";

/// Where the event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchEventState {
    /// Listeners are running; `respondWith` may be called.
    Dispatching,
    /// Listeners returned without calling `respondWith`.
    NoResponse,
    /// `respondWith` was called; the host is waiting for the response.
    Responded,
}

#[derive(Debug, Trace, Finalize, JsData)]
pub struct JsFetchEvent {
    request: JsObject,
    /// `event.client`, made on first use.
    client: Option<JsObject>,
    #[unsafe_ignore_trace]
    client_address: Option<std::net::SocketAddr>,
    /// The promise `respondWith` was given, resolved through `Promise.resolve`.
    response: Option<JsPromise>,
    wait_until: Vec<JsPromise>,
    #[unsafe_ignore_trace]
    state: FetchEventState,
}

impl JsFetchEvent {
    pub fn create(
        request: JsObject,
        client_address: Option<std::net::SocketAddr>,
        context: &mut Context,
    ) -> JsResult<JsObject<JsFetchEvent>> {
        let event = Self::from_data(
            Self {
                request,
                client: None,
                client_address,
                response: None,
                wait_until: Vec::new(),
                state: FetchEventState::Dispatching,
            },
            context,
        )?;
        event
            .downcast::<JsFetchEvent>()
            .map_err(|_| type_error("FetchEvent was not created as a FetchEvent"))
    }

    /// Ends dispatch: from now on `respondWith` throws.
    pub fn finish_dispatch(&mut self) -> FetchEventState {
        if self.state == FetchEventState::Dispatching {
            self.state = FetchEventState::NoResponse;
        }
        self.state
    }

    pub fn response(&self) -> Option<JsPromise> {
        self.response.clone()
    }

    pub fn wait_until(&self) -> &[JsPromise] {
        &self.wait_until
    }
}

/// `event.client` (js-compute's `ClientInfo`): the connection's address; the TLS and
/// fingerprint fields are `null` as for a plain-HTTP client, `geo` is the address's data
/// from `[local_server.geolocation]` (`fastly:geolocation`), `requestId` is the request's
/// `FASTLY_TRACE_ID`.
fn client_info(address: Option<std::net::SocketAddr>, context: &mut Context) -> JsResult<JsObject> {
    let geo = match address {
        Some(address) => crate::fastly::geolocation::Geolocation::value_for(context, address.ip())?,
        None => JsValue::null(),
    };
    let address = address.map_or_else(String::new, |a| a.ip().to_string());
    let request_id = context
        .get_data::<crate::fastly::env::Env>()
        .and_then(|env| env.get(crate::fastly::env::TRACE_ID, true))
        .unwrap_or_default();
    let mut object = boa_engine::object::ObjectInitializer::new(context);
    let read_only = Attribute::ENUMERABLE | Attribute::CONFIGURABLE;
    object
        .property(
            js_string!("requestId"),
            boa_engine::JsString::from(request_id.as_str()),
            read_only,
        )
        .property(
            js_string!("address"),
            boa_engine::JsString::from(address.as_str()),
            read_only,
        );
    object.property(js_string!("geo"), geo, read_only);
    for name in [
        "tlsJA3MD5",
        "tlsJA4",
        "h2Fingerprint",
        "ohFingerprint",
        "tlsCipherOpensslName",
        "tlsProtocol",
        "tlsClientCertificate",
        "tlsClientHello",
    ] {
        object.property(boa_engine::JsString::from(name), JsValue::null(), read_only);
    }
    Ok(object.build())
}

impl Class for JsFetchEvent {
    const NAME: &'static str = CLASS;
    const LENGTH: usize = 0;
    const ATTRIBUTES: Attribute = Attribute::WRITABLE.union(Attribute::CONFIGURABLE);

    fn data_constructor(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<Self> {
        Err(type_error("FetchEvent can't be instantiated directly"))
    }

    fn init(class: &mut ClassBuilder<'_>) -> JsResult<()> {
        getter(class, "request", |this, _, _| {
            let event = this_as::<JsFetchEvent>(this, "request", CLASS)?;
            let request = event.borrow().data().request.clone();
            Ok(request.into())
        });
        getter(class, "type", |this, _, _| {
            this_as::<JsFetchEvent>(this, "type", CLASS)?;
            Ok(js_string!("fetch").into())
        });
        getter(class, "client", |this, _, context| {
            let event = this_as::<JsFetchEvent>(this, "client", CLASS)?;
            if let Some(client) = event.borrow().data().client.clone() {
                return Ok(client.into());
            }
            let address = event.borrow().data().client_address;
            let client = client_info(address, context)?;
            event.borrow_mut().data_mut().client = Some(client.clone());
            Ok(client.into())
        });
        class
            .method(
                js_string!("respondWith"),
                1,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    require_args(args, "respondWith", 1)?;
                    let event = this_as::<JsFetchEvent>(this, "respondWith", CLASS)?;
                    match event.borrow().data().state {
                        FetchEventState::Dispatching => {}
                        FetchEventState::Responded => {
                            return Err(JsNativeError::error()
                                .with_message(RESPOND_WITH_TWICE)
                                .into())
                        }
                        FetchEventState::NoResponse => {
                            return Err(JsNativeError::error()
                                .with_message(RESPOND_WITH_LATE)
                                .into())
                        }
                    }
                    // Responded before resolving: resolving a thenable runs app code, which
                    // must not be able to call respondWith a second time.
                    event.borrow_mut().data_mut().state = FetchEventState::Responded;
                    let promise = JsPromise::resolve(args[0].clone(), ctx)?;
                    event.borrow_mut().data_mut().response = Some(promise);
                    Ok(JsValue::undefined())
                }),
            )
            .method(
                js_string!("waitUntil"),
                1,
                NativeFunction::from_fn_ptr(|this, args, ctx| {
                    require_args(args, "waitUntil", 1)?;
                    let event = this_as::<JsFetchEvent>(this, "waitUntil", CLASS)?;
                    let promise = JsPromise::resolve(args[0].clone(), ctx)?;
                    event.borrow_mut().data_mut().wait_until.push(promise);
                    Ok(JsValue::undefined())
                }),
            );
        Ok(())
    }
}

/// The app's `fetch` listeners, in registration order.
#[derive(Debug, Default)]
pub struct FetchListeners(pub RefCell<Vec<JsObject>>);

fn add_event_listener(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "addEventListener", 2)?;
    let kind = args[0].to_string(context)?.to_std_string_lossy();
    if kind != "fetch" {
        return Err(type_error(format!(
            "addEventListener only supports the event 'fetch' right now, but got event '{kind}'"
        )));
    }
    let Some(listener) = args[1].as_callable() else {
        return Err(type_error(
            "addEventListener: the listener must be a function",
        ));
    };
    if let Some(listeners) = context.get_data::<FetchListeners>() {
        listeners.0.borrow_mut().push(listener.clone());
    }
    Ok(JsValue::undefined())
}

/// `removeEventListener("fetch", listener)`: the listener no longer receives requests.
fn remove_event_listener(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    require_args(args, "removeEventListener", 2)?;
    let kind = args[0].to_string(context)?.to_std_string_lossy();
    if let (Some(listener), Some(listeners)) =
        (args[1].as_object(), context.get_data::<FetchListeners>())
    {
        if kind == "fetch" {
            listeners
                .0
                .borrow_mut()
                .retain(|l| !JsObject::equals(l, &listener));
        }
    }
    Ok(JsValue::undefined())
}

/// `dispatchEvent(event)`: calls the listeners of the event's type (only `fetch` listeners
/// can be registered), returns `true`.
fn dispatch_event(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    require_args(args, "dispatchEvent", 1)?;
    let event = &args[0];
    let kind = match event.as_object() {
        Some(object) => object.get(js_string!("type"), context)?,
        None => return Err(type_error("dispatchEvent: Argument 1 is not an object.")),
    };
    if kind.to_string(context)?.to_std_string_lossy() == "fetch" {
        let listeners = context
            .get_data::<FetchListeners>()
            .map(|l| l.0.borrow().clone())
            .unwrap_or_default();
        let this = JsValue::from(context.global_object());
        for listener in listeners {
            listener.call(&this, std::slice::from_ref(event), context)?;
        }
    }
    Ok(JsValue::from(true))
}

/// Registers `FetchEvent` and the global `addEventListener`.
pub fn register(context: &mut Context) -> JsResult<()> {
    context.insert_data(FetchListeners::default());
    context.register_global_class::<JsFetchEvent>()?;
    context.register_global_builtin_callable(
        js_string!("addEventListener"),
        2,
        NativeFunction::from_fn_ptr(add_event_listener),
    )?;
    context.register_global_builtin_callable(
        js_string!("removeEventListener"),
        2,
        NativeFunction::from_fn_ptr(remove_event_listener),
    )?;
    context.register_global_builtin_callable(
        js_string!("dispatchEvent"),
        1,
        NativeFunction::from_fn_ptr(dispatch_event),
    )?;
    Ok(())
}
