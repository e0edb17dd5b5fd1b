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

use crate::domain::Locale;

/// The Amazon Polly voice (Twilio's names) prompts are spoken with in English.
pub const VOICE_EN: &str = "Polly.Joanna-Neural";
/// The Amazon Polly voice (Twilio's names) prompts are spoken with in Spanish (US).
pub const VOICE_ES: &str = "Polly.Lupe-Neural";
/// The key that ends a keyed entry early (without it, Twilio waits `timeout` seconds).
pub const FINISH_KEY: &str = "#";

/// The voice of a locale.
pub fn voice(locale: Locale) -> &'static str {
    match locale {
        Locale::En => VOICE_EN,
        Locale::Es => VOICE_ES,
    }
}
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

/// `<Say voice="Polly.Joanna-Neural" language="en-US">text</Say>` (English).
pub fn say(text: impl Into<String>) -> Element {
    say_in(Locale::En, text)
}

/// `<Say voice=… language=…>text</Say>` in the locale's voice and language.
pub fn say_in(locale: Locale, text: impl Into<String>) -> Element {
    Element::new("Say")
        .attr("voice", voice(locale))
        .attr("language", locale.speech_tag())
        .text(text)
}

/// What a `<Gather>` listens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Listen {
    /// How many keys answer (`numDigits`): Twilio posts as soon as they are pressed.
    /// `None`: any number, ended by `#` or a pause.
    pub num_digits: Option<u8>,
}

/// `<Gather input="dtmf speech" action=… method="POST" speechTimeout="auto" …><Say>…</Say></Gather>`:
/// the caller may answer by voice or by keypad, and interrupt the prompt with either (the
/// `<Say>` is nested, and `bargeIn` keeps Twilio's default). `finishOnKey="#"` ends a keyed
/// entry; `numDigits` when a known number of keys answers. `actionOnEmptyResult` makes silence
/// reach the action too, so the engine counts it.
pub fn gather(action: &str, locale: Locale, listen: Listen, prompt: impl Into<String>) -> Element {
    let mut g = Element::new("Gather")
        .attr("input", "dtmf speech")
        .attr("action", action)
        .attr("method", "POST")
        .attr("speechTimeout", "auto")
        .attr("language", locale.speech_tag())
        .attr("finishOnKey", FINISH_KEY);
    if let Some(n) = listen.num_digits {
        g = g.attr("numDigits", n.to_string());
    }
    g.attr("actionOnEmptyResult", "true")
        .child(say_in(locale, prompt))
}

/// [`gather`] in English, any keyed entry.
pub fn gather_speech(action: &str, prompt: impl Into<String>) -> Element {
    gather(action, Locale::En, Listen::default(), prompt)
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
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather input=\"dtmf speech\" \
             action=\"/twilio/voice/gather?a=1&amp;b=2\" method=\"POST\" speechTimeout=\"auto\" \
             language=\"en-US\" finishOnKey=\"#\" actionOnEmptyResult=\"true\">\
             <Say voice=\"Polly.Joanna-Neural\" language=\"en-US\">Tom &amp; \
             Jerry's &lt;clinic&gt;</Say></Gather><Hangup/></Response>"
        );
        let es = Response::new()
            .verb(gather(
                "/g",
                Locale::Es,
                Listen {
                    num_digits: Some(1),
                },
                "Hola",
            ))
            .to_xml();
        assert_eq!(
            es,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather input=\"dtmf speech\" \
             action=\"/g\" method=\"POST\" speechTimeout=\"auto\" language=\"es-US\" \
             finishOnKey=\"#\" numDigits=\"1\" actionOnEmptyResult=\"true\">\
             <Say voice=\"Polly.Lupe-Neural\" language=\"es-US\">Hola</Say></Gather></Response>"
        );
        assert_eq!(
            Response::new().to_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
    }
}
