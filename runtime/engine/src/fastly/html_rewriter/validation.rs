//! The checked values of `fastly:html-rewriter`: handler selectors and new attribute names.

use lol_html::errors::AttributeNameError;
use lol_html::Selector;

use super::error::HtmlRewriterError;

/// A CSS selector lol_html accepts (the platform parses it when `onElement` is called).
#[derive(Debug)]
pub struct HandlerSelector(Selector);

impl HandlerSelector {
    /// # Errors
    /// [`HtmlRewriterError::InvalidSelector`] with lol_html's reason.
    pub fn new(selector: &str) -> Result<Self, HtmlRewriterError> {
        selector
            .parse::<Selector>()
            .map(Self)
            .map_err(|e| HtmlRewriterError::InvalidSelector(e.to_string()))
    }

    pub fn into_inner(self) -> Selector {
        self.0
    }
}

/// Checks the name of an attribute `setAttribute` would add, as lol_html's
/// `Element::set_attribute` does (the document is UTF-8, so every character is encodable);
/// checked on the JS thread so that the failure surfaces in the handler, as on Compute.
///
/// # Errors
/// [`HtmlRewriterError::AttributeName`] with lol_html's text.
pub fn check_new_attribute_name(name: &str) -> Result<(), HtmlRewriterError> {
    let refusal = if name.is_empty() {
        Some(AttributeNameError::Empty)
    } else {
        name.chars()
            .find(|c| matches!(c, ' ' | '\n' | '\r' | '\t' | '\x0C' | '/' | '>' | '='))
            .map(AttributeNameError::ForbiddenCharacter)
    };
    match refusal {
        Some(e) => Err(HtmlRewriterError::AttributeName(e.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn selectors_are_lol_html_s() {
        for ok in [
            "*",
            "h1",
            "div.a-class > h1[id^=\"an\"]",
            "p:nth-child(2n+1)",
            "a[href$=x i]",
        ] {
            assert!(HandlerSelector::new(ok).is_ok(), "{ok}");
        }
        let refused = |s: &str| HandlerSelector::new(s).unwrap_err().to_string();
        assert_eq!(
            refused("div..a-class"),
            "HTMLRewriter: invalid selector - Invalid or unescaped class name in selector."
        );
        assert_eq!(
            refused(""),
            "HTMLRewriter: invalid selector - The selector is empty."
        );
        assert_eq!(
            refused("p:hover"),
            "HTMLRewriter: invalid selector - Unsupported pseudo-class or pseudo-element in selector."
        );
    }

    #[test]
    fn new_attribute_names_are_checked_as_lol_html_does() {
        assert!(check_new_attribute_name("data-x").is_ok());
        assert!(check_new_attribute_name("ünï").is_ok());
        let refused = |s: &str| check_new_attribute_name(s).unwrap_err().to_string();
        assert_eq!(refused(""), "Attribute name can't be empty.");
        assert_eq!(
            refused("a=b"),
            "`=` character is forbidden in the attribute name"
        );
        assert_eq!(
            refused("a b"),
            "` ` character is forbidden in the attribute name"
        );
    }
}
