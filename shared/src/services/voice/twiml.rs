//! TwiML documents, built as a small element tree and serialized by an XML writer
//! (quick-xml), never by pasting strings: text and attribute values are always escaped.
//!
//! The shapes follow Twilio's `<Gather>` documentation and the TwiML strings asserted in
//! Twilio's SDK tests (`tests/fixtures/twilio/twiml_vectors.json`): the XML declaration
//! first, attributes in insertion order, empty elements as `<Hangup/>`.

use std::io::Cursor;

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// The voice every prompt is spoken with.
pub const VOICE: &str = "Polly.Joanna";
/// Content type Twilio accepts for TwiML.
pub const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// One TwiML element: a name, attributes in order, text or child elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: &'static str,
    pub attrs: Vec<(&'static str, String)>,
    pub text: Option<String>,
    pub children: Vec<Element>,
}

impl Element {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            attrs: Vec::new(),
            text: None,
            children: Vec::new(),
        }
    }

    pub fn attr(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attrs.push((key, value.into()));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    fn write(&self, w: &mut Writer<Cursor<Vec<u8>>>) -> std::io::Result<()> {
        let mut start = BytesStart::new(self.name);
        for (k, v) in &self.attrs {
            start.push_attribute((*k, v.as_str()));
        }
        let text = self.text.as_deref().filter(|t| !t.is_empty());
        if text.is_none() && self.children.is_empty() {
            return w.write_event(Event::Empty(start));
        }
        w.write_event(Event::Start(start))?;
        if let Some(t) = text {
            // Only <, > and & need escaping in text; quotes stay as spoken.
            w.write_event(Event::Text(BytesText::from_escaped(partial_escape(t))))?;
        }
        for c in &self.children {
            c.write(w)?;
        }
        w.write_event(Event::End(BytesEnd::new(self.name)))
    }
}

/// `<Say voice="Polly.Joanna">text</Say>`.
pub fn say(text: impl Into<String>) -> Element {
    Element::new("Say").attr("voice", VOICE).text(text)
}

/// `<Gather input="speech" action=… method="POST" speechTimeout="auto" …><Say>…</Say></Gather>`.
/// `actionOnEmptyResult` makes silence reach the action too, so the engine counts it.
pub fn gather_speech(action: &str, prompt: impl Into<String>) -> Element {
    Element::new("Gather")
        .attr("input", "speech")
        .attr("action", action)
        .attr("method", "POST")
        .attr("speechTimeout", "auto")
        .attr("language", "en-US")
        .attr("actionOnEmptyResult", "true")
        .child(say(prompt))
}

pub fn redirect(url: &str) -> Element {
    Element::new("Redirect").attr("method", "POST").text(url)
}

pub fn hangup() -> Element {
    Element::new("Hangup")
}

pub fn message(text: impl Into<String>) -> Element {
    Element::new("Message").text(text)
}

/// A `<Response>` document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub verbs: Vec<Element>,
}

impl Response {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn verb(mut self, verb: Element) -> Self {
        self.verbs.push(verb);
        self
    }

    /// Serializes the document (UTF-8, declaration first, no indentation).
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new(Cursor::new(Vec::with_capacity(512)));
        let root = Element {
            name: "Response",
            attrs: Vec::new(),
            text: None,
            children: self.verbs.clone(),
        };
        // Writing into a Vec cannot fail.
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        let _ = root.write(&mut w);
        String::from_utf8(w.into_inner().into_inner()).unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_shapes() {
        let xml = Response::new()
            .verb(gather_speech(
                "/twilio/voice/gather?a=1&b=2",
                "Tom & Jerry's <clinic>",
            ))
            .verb(hangup())
            .to_xml();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather input=\"speech\" \
             action=\"/twilio/voice/gather?a=1&amp;b=2\" method=\"POST\" speechTimeout=\"auto\" \
             language=\"en-US\" actionOnEmptyResult=\"true\"><Say voice=\"Polly.Joanna\">Tom &amp; \
             Jerry's &lt;clinic&gt;</Say></Gather><Hangup/></Response>"
        );
        assert_eq!(
            Response::new().to_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
    }
}
