//! Small helpers shared by the native classes: receiver (brand) checks and accessors.
//!
//! Boa's `#[boa_class]` receiver check throws a plain string, not a TypeError, so the classes
//! here check their receiver by hand with the message SpiderMonkey (the platform's engine)
//! uses.

use boa_engine::class::ClassBuilder;
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::object::{JsObject, NativeObject};
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::{js_string, JsError, JsNativeError, JsResult, JsValue, NativeFunction};

/// SpiderMonkey's text for a method called on the wrong kind of object.
pub fn wrong_receiver(method: &str, class: &str) -> String {
    format!("Method '{method}' called on receiver that's not an instance of {class}")
}

/// SpiderMonkey's text for a call with too few arguments.
pub fn too_few_arguments(what: &str, required: usize, passed: usize) -> String {
    let noun = if required == 1 {
        "argument"
    } else {
        "arguments"
    };
    format!("{what}: At least {required} {noun} required, but only {passed} passed")
}

/// The receiver as a `T` object, or the platform's TypeError naming `method` and `class`.
pub fn this_as<T: NativeObject>(
    this: &JsValue,
    method: &str,
    class: &str,
) -> JsResult<JsObject<T>> {
    this.as_object()
        .and_then(|o| o.clone().downcast::<T>().ok())
        .ok_or_else(|| type_error(wrong_receiver(method, class)))
}

pub fn type_error(message: impl Into<String>) -> JsError {
    JsNativeError::typ().with_message(message.into()).into()
}

pub fn range_error(message: impl Into<String>) -> JsError {
    JsNativeError::range().with_message(message.into()).into()
}

/// Throws the argument-count TypeError unless at least `required` arguments were passed.
pub fn require_args(args: &[JsValue], what: &str, required: usize) -> JsResult<()> {
    if args.len() < required {
        return Err(type_error(too_few_arguments(what, required, args.len())));
    }
    Ok(())
}

/// Adds a read-only accessor (enumerable and configurable, as WebIDL attributes are).
pub fn getter(
    class: &mut ClassBuilder<'_>,
    name: &'static str,
    get: boa_engine::native_function::NativeFunctionPointer,
) {
    let realm = class.context().realm().clone();
    let function =
        boa_engine::object::FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(get))
            .name(js_string!(format!("get {name}")))
            .length(0)
            .build();
    class.accessor(
        js_string!(name),
        Some(function),
        None,
        Attribute::CONFIGURABLE | Attribute::ENUMERABLE,
    );
}

/// Defines a method as the platform's built-ins have it: writable, enumerable, configurable,
/// not a constructor.
pub fn define_enumerable_method(
    target: &JsObject,
    name: &'static str,
    length: usize,
    function: boa_engine::native_function::NativeFunctionPointer,
    context: &mut boa_engine::Context,
) -> JsResult<()> {
    let realm = context.realm().clone();
    let function = FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(function))
        .name(js_string!(name))
        .length(length)
        .constructor(false)
        .build();
    target.define_property_or_throw(
        js_string!(name),
        PropertyDescriptor::builder()
            .value(function)
            .writable(true)
            .enumerable(true)
            .configurable(true),
        context,
    )?;
    Ok(())
}

/// Defines an enumerable, configurable accessor with a getter and no setter.
pub fn define_enumerable_getter(
    target: &JsObject,
    name: &'static str,
    get: boa_engine::native_function::NativeFunctionPointer,
    context: &mut boa_engine::Context,
) -> JsResult<()> {
    let realm = context.realm().clone();
    let getter = FunctionObjectBuilder::new(&realm, NativeFunction::from_fn_ptr(get))
        .name(js_string!(format!("get {name}")))
        .length(0)
        .build();
    target.define_property_or_throw(
        js_string!(name),
        PropertyDescriptor::builder()
            .get(getter)
            .enumerable(true)
            .configurable(true),
        context,
    )?;
    Ok(())
}

/// A plain object of native functions, `(name, length, function)` each: the `host.*`
/// objects the JS libraries call.
pub fn native_object(
    context: &mut boa_engine::Context,
    functions: &[(
        &str,
        usize,
        boa_engine::native_function::NativeFunctionPointer,
    )],
) -> JsObject {
    let mut object = boa_engine::object::ObjectInitializer::new(context);
    for &(name, length, function) in functions {
        object.function(
            NativeFunction::from_fn_ptr(function),
            js_string!(name),
            length,
        );
    }
    object.build()
}

/// The receiver as a `T` object, if it is one (the brand check every class makes).
pub fn downcast_this<T: NativeObject>(this: &JsValue) -> Option<JsObject<T>> {
    this.as_object()
        .and_then(|o| o.clone().downcast::<T>().ok())
}

/// The method name the platform's wrong-receiver message uses for a getter: `on_prototype`
/// (`"<name> get"`) when it was called on the class's own prototype, else `elsewhere` (the
/// C++ function name, `"<name>_get"`).
pub fn getter_name<T: boa_engine::class::Class>(
    this: &JsValue,
    on_prototype: &'static str,
    elsewhere: &'static str,
    context: &boa_engine::Context,
) -> &'static str {
    let is_prototype = this.as_object().is_some_and(|o| {
        context
            .get_global_class::<T>()
            .is_some_and(|c| JsObject::equals(&c.prototype(), &o))
    });
    if is_prototype {
        on_prototype
    } else {
        elsewhere
    }
}

/// StarlingMonkey's text for constructing a class that has no constructor.
pub fn not_constructible(class: &str) -> String {
    format!("{class} builtin can't be instantiated directly")
}

fn throw_not_constructible<T: boa_engine::class::Class>(
    _: &JsValue,
    _: &[JsValue],
    _: &mut boa_engine::Context,
) -> JsResult<JsValue> {
    Err(type_error(not_constructible(T::NAME)))
}

/// Registers `T` as the platform's `BuiltinNoConstructor` classes are: the global is a
/// function that throws `{name} builtin can't be instantiated directly` (a TypeError) whether
/// called or constructed; instances are made from Rust with the returned prototype.
pub fn register_no_constructor_class<T: boa_engine::class::Class>(
    context: &mut boa_engine::Context,
) -> JsResult<(JsObject, JsObject)> {
    context.register_global_class::<T>()?;
    let prototype = context
        .get_global_class::<T>()
        .ok_or_else(|| type_error(format!("{} is not registered", T::NAME)))?
        .prototype();
    let realm = context.realm().clone();
    let constructor: JsObject = FunctionObjectBuilder::new(
        &realm,
        NativeFunction::from_fn_ptr(throw_not_constructible::<T>),
    )
    .name(js_string!(T::NAME))
    .length(T::LENGTH)
    .constructor(true)
    .build()
    .into();
    constructor.define_property_or_throw(
        js_string!("prototype"),
        PropertyDescriptor::builder()
            .value(prototype.clone())
            .writable(false)
            .enumerable(false)
            .configurable(false),
        context,
    )?;
    prototype.define_property_or_throw(
        js_string!("constructor"),
        PropertyDescriptor::builder()
            .value(constructor.clone())
            .writable(true)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    context.global_object().define_property_or_throw(
        js_string!(T::NAME),
        PropertyDescriptor::builder()
            .value(constructor.clone())
            .writable(true)
            .enumerable(false)
            .configurable(true),
        context,
    )?;
    Ok((constructor, prototype))
}

/// The constructor of `T`'s prototype (`JS_GetConstructor`): what a module exports for a
/// class registered with [`register_no_constructor_class`].
pub fn constructor_of<T: boa_engine::class::Class>(
    context: &mut boa_engine::Context,
) -> JsResult<JsValue> {
    let prototype = context
        .get_global_class::<T>()
        .ok_or_else(|| type_error(format!("{} is not registered", T::NAME)))?
        .prototype();
    prototype.get(js_string!("constructor"), context)
}

/// The prototype of the registered global class `C`.
pub fn class_prototype<C: boa_engine::class::Class>(
    context: &boa_engine::Context,
) -> JsResult<JsObject> {
    Ok(context
        .get_global_class::<C>()
        .ok_or_else(|| type_error(format!("{} is not registered", C::NAME)))?
        .prototype())
}

/// ToString of argument `i` (`"undefined"` when it is missing), as a Rust string.
pub fn string_arg(
    args: &[JsValue],
    i: usize,
    context: &mut boa_engine::Context,
) -> JsResult<String> {
    Ok(args
        .get(i)
        .cloned()
        .unwrap_or_default()
        .to_string(context)?
        .to_std_string_lossy())
}

/// An HTTP token character (RFC 9110 `tchar`): what header names and methods are made of.
pub fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
