//! The rewriting itself: lol_html on a thread of its own, driven by the JS thread.
//!
//! lol_html calls an element handler synchronously, in the middle of `write`, and the change
//! must be made on the element before the handler returns; a JS handler needs the JS thread's
//! `&mut Context`, which cannot be lent to a rewriter that outlives one call. So the rewriter
//! lives on its own thread and the JS thread drives it: [`Rewriter::write`] hands a chunk over
//! and then serves the worker's requests until the chunk is done. For each matched element
//! the worker sends the tag and attributes ([`MatchedElement`]) and blocks until the JS
//! thread answers with the operations the handler recorded ([`Reply`]), which it applies to
//! the real element. Only one of the two threads runs at a time, so a request still uses at
//! most as much CPU time as wall time (what the server's CPU-limit watch assumes).
//!
//! Nothing here knows about the engine: handlers are plain Rust closures, so this is tested
//! with plain `#[test]`s.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc::{channel, Receiver, Sender};

use lol_html::html_content::{ContentType, Element};
use lol_html::{ElementContentHandlers, HtmlRewriter, MemorySettings, Selector, Settings};

use super::error::RewriteError;
use super::validation::HandlerSelector;

/// The error a handler that failed gives lol_html: the text of js-compute-runtime's C API
/// (`RewriterDirective::Stop`), which ends up in the stream's error message.
pub const STOPPED: &str = "The rewriter has been stopped.";

/// A matched element as the JS handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedElement {
    /// Which handler (index in registration order) matched.
    pub handler: usize,
    /// The tag name, ASCII-lowercased (lol_html's `tag_name()`).
    pub tag: String,
    /// Name (lowercased) and value of each attribute, in document order, as the element has
    /// them now (earlier handlers' changes included).
    pub attributes: Vec<(String, String)>,
}

/// Where content goes, relative to the element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Before,
    Prepend,
    Append,
    After,
    /// `replaceChildren`: lol_html's `set_inner_content`.
    ReplaceChildren,
    /// `replaceWith`: lol_html's `replace`.
    ReplaceWith,
}

/// One change a handler made to its element, applied in the order made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementOp {
    Insert {
        at: Position,
        content: String,
        /// `escapeHTML: true`: inserted as text (escaped), else as HTML.
        as_text: bool,
    },
    SetAttribute {
        name: String,
        value: String,
    },
    RemoveAttribute(String),
}

/// The JS thread's answer for one matched element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The handler returned: apply these.
    Apply(Vec<ElementOp>),
    /// The handler failed: stop rewriting.
    Stop,
}

enum Input {
    Chunk(Vec<u8>),
    End,
}

enum Event {
    Element(MatchedElement),
    /// The chunk (or the end) is processed: the output it produced, or lol_html's error.
    Done(Result<Vec<u8>, String>),
}

/// One document being rewritten; dropped, it stops its thread (closing the input channel
/// ends the worker's loop).
pub struct Rewriter {
    inputs: Sender<Input>,
    events: Receiver<Event>,
    replies: Sender<Reply>,
    /// A write failed or the end was written: the worker is gone.
    closed: bool,
}

impl Rewriter {
    /// Starts the worker for handlers on `selectors` (in registration order).
    ///
    /// # Errors
    /// The OS refuses a new thread.
    pub fn start(selectors: Vec<HandlerSelector>) -> Result<Self, RewriteError> {
        let (inputs, input_rx) = channel();
        let (event_tx, events) = channel();
        let (replies, reply_rx) = channel();
        let selectors: Vec<Selector> = selectors
            .into_iter()
            .map(HandlerSelector::into_inner)
            .collect();
        // Detached: it ends when the input channel closes (this value dropped) or the
        // document ends, and it never waits on anything else between two `write`s.
        std::thread::Builder::new()
            .name("html-rewriter".into())
            .spawn(move || worker(&selectors, &input_rx, &event_tx, reply_rx))
            .map_err(|e| RewriteError::Thread(e.to_string()))?;
        Ok(Self {
            inputs,
            events,
            replies,
            closed: false,
        })
    }

    /// Rewrites `chunk`, calling `on_element` for each matched element; the output ready.
    ///
    /// # Errors
    /// lol_html's error (a handler that stopped included); after one, every call fails.
    pub fn write(
        &mut self,
        chunk: Vec<u8>,
        on_element: &mut dyn FnMut(MatchedElement) -> Reply,
    ) -> Result<Vec<u8>, RewriteError> {
        self.run(Input::Chunk(chunk), on_element)
    }

    /// Ends the document; the last output.
    ///
    /// # Errors
    /// As [`Rewriter::write`].
    pub fn end(
        &mut self,
        on_element: &mut dyn FnMut(MatchedElement) -> Reply,
    ) -> Result<Vec<u8>, RewriteError> {
        let result = self.run(Input::End, on_element);
        self.closed = true;
        result
    }

    fn run(
        &mut self,
        input: Input,
        on_element: &mut dyn FnMut(MatchedElement) -> Reply,
    ) -> Result<Vec<u8>, RewriteError> {
        let sent = !self.closed && self.inputs.send(input).is_ok();
        if !sent {
            return Err(RewriteError::Closed);
        }
        loop {
            match self.events.recv() {
                Ok(Event::Element(element)) => {
                    // The worker waits for this answer; if it is gone, `recv` says so next.
                    let _ = self.replies.send(on_element(element));
                }
                Ok(Event::Done(Ok(output))) => return Ok(output),
                Ok(Event::Done(Err(message))) => {
                    self.closed = true;
                    return Err(RewriteError::Html(message));
                }
                Err(_) => {
                    self.closed = true;
                    return Err(RewriteError::Closed);
                }
            }
        }
    }
}

/// The worker: builds the lol_html rewriter and feeds it until the end or an error.
fn worker(
    selectors: &[Selector],
    inputs: &Receiver<Input>,
    events: &Sender<Event>,
    replies: Receiver<Reply>,
) {
    let output = Rc::new(RefCell::new(Vec::new()));
    let replies = Rc::new(replies);
    let handlers = selectors
        .iter()
        .enumerate()
        .map(|(index, selector)| {
            let events = events.clone();
            let replies = Rc::clone(&replies);
            let handler = move |element: &mut Element<'_, '_>| -> lol_html::HandlerResult {
                handle_element(index, element, &events, &replies)
            };
            (
                std::borrow::Cow::Borrowed(selector),
                ElementContentHandlers::default().element(handler),
            )
        })
        .collect();
    // As js-compute-runtime builds it: UTF-8, strict, 1 KiB preallocated, no memory cap.
    let settings = Settings {
        element_content_handlers: handlers,
        memory_settings: MemorySettings {
            preallocated_parsing_buffer_size: 1024,
            max_allowed_memory_usage: usize::MAX,
        },
        strict: true,
        enable_esi_tags: false,
        adjust_charset_on_meta_tag: false,
        ..Settings::new()
    };
    let sink = Rc::clone(&output);
    let mut rewriter = HtmlRewriter::new(settings, move |bytes: &[u8]| {
        sink.borrow_mut().extend_from_slice(bytes);
    });
    let take = || std::mem::take(&mut *output.borrow_mut());
    while let Ok(input) = inputs.recv() {
        match input {
            Input::Chunk(chunk) => {
                let result = rewriter.write(&chunk).map_err(|e| e.to_string());
                let failed = result.is_err();
                if events.send(Event::Done(result.map(|()| take()))).is_err() || failed {
                    return;
                }
            }
            Input::End => {
                let result = rewriter.end().map_err(|e| e.to_string());
                let _ = events.send(Event::Done(result.map(|()| take())));
                return;
            }
        }
    }
}

fn handle_element(
    handler: usize,
    element: &mut Element<'_, '_>,
    events: &Sender<Event>,
    replies: &Receiver<Reply>,
) -> lol_html::HandlerResult {
    let matched = MatchedElement {
        handler,
        tag: element.tag_name(),
        attributes: element
            .attributes()
            .iter()
            .map(|a| (a.name(), a.value()))
            .collect(),
    };
    if events.send(Event::Element(matched)).is_err() {
        return Err(STOPPED.into());
    }
    let Ok(Reply::Apply(ops)) = replies.recv() else {
        return Err(STOPPED.into());
    };
    for op in ops {
        apply(element, op)?;
    }
    Ok(())
}

fn apply(element: &mut Element<'_, '_>, op: ElementOp) -> lol_html::HandlerResult {
    match op {
        ElementOp::Insert {
            at,
            content,
            as_text,
        } => {
            let kind = if as_text {
                ContentType::Text
            } else {
                ContentType::Html
            };
            match at {
                Position::Before => element.before(&content, kind),
                Position::Prepend => element.prepend(&content, kind),
                Position::Append => element.append(&content, kind),
                Position::After => element.after(&content, kind),
                Position::ReplaceChildren => element.set_inner_content(&content, kind),
                Position::ReplaceWith => element.replace(&content, kind),
            }
        }
        // The JS side checked the name (`AttributeName`); a refusal here still stops cleanly.
        ElementOp::SetAttribute { name, value } => element.set_attribute(&name, &value)?,
        ElementOp::RemoveAttribute(name) => element.remove_attribute(&name),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn selectors(list: &[&str]) -> Vec<HandlerSelector> {
        list.iter()
            .map(|s| HandlerSelector::new(s).unwrap())
            .collect()
    }

    /// Rewrites `chunks` with one handler per selector; the output as text.
    fn rewrite(
        list: &[&str],
        chunks: &[&str],
        mut on_element: impl FnMut(MatchedElement) -> Reply,
    ) -> Result<String, RewriteError> {
        let mut rewriter = Rewriter::start(selectors(list))?;
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(rewriter.write(chunk.as_bytes().to_vec(), &mut on_element)?);
        }
        out.extend(rewriter.end(&mut on_element)?);
        Ok(String::from_utf8(out).unwrap())
    }

    const PAGE: &str = "<html><body><h1 class=\"a\" ID=x>Hi</h1><p>t</p><h1>Two</h1></body></html>";

    #[test]
    fn without_handlers_the_bytes_pass_through_whatever_the_chunking() {
        let split: Vec<&str> = vec![&PAGE[..7], &PAGE[7..23], &PAGE[23..24], &PAGE[24..]];
        assert_eq!(rewrite(&[], &split, |_| Reply::Stop).unwrap(), PAGE);
        assert_eq!(rewrite(&[], &[], |_| Reply::Stop).unwrap(), "");
        assert_eq!(
            rewrite(&[], &["This is not HTML content"], |_| Reply::Stop).unwrap(),
            "This is not HTML content"
        );
    }

    #[test]
    fn handlers_see_tag_and_attributes_and_their_ops_are_applied_in_order() {
        let mut seen = Vec::new();
        let out = rewrite(&["h1", "h1.a"], &[&PAGE[..20], &PAGE[20..]], |m| {
            seen.push(m.clone());
            Reply::Apply(match m.handler {
                0 => vec![
                    ElementOp::SetAttribute {
                        name: "data-n".into(),
                        value: "1".into(),
                    },
                    ElementOp::Insert {
                        at: Position::Before,
                        content: "<b>".into(),
                        as_text: true,
                    },
                    ElementOp::Insert {
                        at: Position::Append,
                        content: "<i>!</i>".into(),
                        as_text: false,
                    },
                ],
                _ => vec![ElementOp::RemoveAttribute("id".into())],
            })
        })
        .unwrap();
        assert_eq!(
            out,
            "<html><body>&lt;b&gt;<h1 class=\"a\" data-n=\"1\">Hi<i>!</i></h1><p>t</p>\
             &lt;b&gt;<h1 data-n=\"1\">Two<i>!</i></h1></body></html>"
        );
        let tags: Vec<(usize, &str, usize)> = seen
            .iter()
            .map(|m| (m.handler, m.tag.as_str(), m.attributes.len()))
            .collect();
        // The second handler sees the first one's attribute.
        assert_eq!(tags, [(0, "h1", 2), (1, "h1", 3), (0, "h1", 0)]);
        assert_eq!(seen[0].attributes[1], ("id".into(), "x".into()));
    }

    #[test]
    fn replacing_removes_the_content_and_later_matches_in_it() {
        let out = rewrite(
            &["div", "span"],
            &["<div><span>a</span></div><span>b</span>"],
            |m| {
                Reply::Apply(if m.handler == 0 {
                    vec![ElementOp::Insert {
                        at: Position::ReplaceWith,
                        content: "<span>new</span>".into(),
                        as_text: false,
                    }]
                } else {
                    vec![ElementOp::Insert {
                        at: Position::ReplaceChildren,
                        content: "x".into(),
                        as_text: false,
                    }]
                })
            },
        )
        .unwrap();
        assert_eq!(out, "<span>new</span><span>x</span>");
    }

    #[test]
    fn a_stopped_handler_fails_the_write_and_every_later_call() {
        let mut rewriter = Rewriter::start(selectors(&["p"])).unwrap();
        let mut stop = |_| Reply::Stop;
        let first = rewriter.write(b"<p>a</p>".to_vec(), &mut stop);
        assert_eq!(first, Err(RewriteError::Html(STOPPED.into())));
        assert_eq!(
            rewriter.write(b"x".to_vec(), &mut stop),
            Err(RewriteError::Closed)
        );
        assert_eq!(rewriter.end(&mut stop), Err(RewriteError::Closed));
    }

    #[test]
    fn a_rewriter_dropped_mid_document_ends_its_thread() {
        let mut rewriter = Rewriter::start(selectors(&["p"])).unwrap();
        let out = rewriter
            .write(b"<p>a".to_vec(), &mut |_| Reply::Apply(vec![]))
            .unwrap();
        assert_eq!(out, b"<p>a");
        drop(rewriter);
    }

    /// What the rewriter holds is one chunk and its output: each write hands back the bytes of
    /// its own chunk (lol_html keeps at most an unfinished tag), never the page so far.
    #[test]
    fn a_10_mib_page_is_rewritten_chunk_by_chunk() {
        let block = "<p class=\"c\">Some text, <a href=\"/x\">a link</a>.</p>\n<h1>T</h1>\n";
        let page = block.repeat((10 << 20) / block.len());
        let mut rewriter = Rewriter::start(selectors(&["h1"])).unwrap();
        let mut set = |_| {
            Reply::Apply(vec![ElementOp::SetAttribute {
                name: "id".into(),
                value: "t".into(),
            }])
        };
        let (mut total, mut largest) = (0, 0);
        for chunk in page.as_bytes().chunks(64 << 10) {
            let out = rewriter.write(chunk.to_vec(), &mut set).unwrap();
            largest = out.len().max(largest);
            total += out.len();
        }
        total += rewriter.end(&mut set).unwrap().len();
        let headings = page.len() / block.len();
        assert_eq!(total, page.len() + headings * " id=\"t\"".len());
        // 64 KiB of input holds about 1100 headings: 7 bytes more each, and a tag carried over.
        assert!(
            largest < (64 << 10) + (16 << 10),
            "a write gave back {largest} bytes"
        );
    }
}
