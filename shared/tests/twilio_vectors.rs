//! Twilio's own published vectors (copied into `tests/fixtures/twilio/`, sources in its
//! README): all 41 `X-Twilio-Signature` cases through our validator, and the TwiML strings
//! of Twilio's SDK tests rebuilt with our writer and compared as parsed XML (exactly, for
//! the twilio-node strings, whose conventions — insertion order, `<X/>` — we share).
#![allow(clippy::unwrap_used)]

use gomomo::http::twilio::signature::{self, SignedPayload};
use gomomo::services::voice::twiml::{Element, Response};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/twilio/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn params_of(v: &Value) -> Vec<(String, String)> {
    if let Some(body) = v["body"].as_str() {
        if v["kind"] == "form" {
            return form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
        }
    }
    let mut out = Vec::new();
    for (k, val) in v["params"].as_object().unwrap() {
        match val {
            Value::Array(items) => {
                for i in items {
                    out.push((k.clone(), i.as_str().unwrap().to_string()));
                }
            }
            Value::String(s) => out.push((k.clone(), s.clone())),
            other => out.push((k.clone(), other.to_string())),
        }
    }
    out
}

#[test]
fn all_41_signature_vectors() {
    let doc = fixture("signature_vectors.json");
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 41, "the collection has 41 vectors");
    let mut failures = Vec::new();
    for v in vectors {
        let id = v["id"].as_str().unwrap();
        let token = v["auth_token"].as_str().unwrap();
        let url = v["url"].as_str().unwrap();
        let sig = v["signature"].as_str().unwrap();
        let want = v["expected_valid"].as_bool().unwrap();
        let params = params_of(v);
        let got = match v["kind"].as_str().unwrap() {
            "json" => signature::validate(
                token,
                url,
                SignedPayload::Body(v["body"].as_str().unwrap().as_bytes()),
                sig,
            ),
            _ => signature::validate(token, url, SignedPayload::Form(&params), sig),
        };
        if got != want {
            failures.push(format!("{id}: expected {want}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "failing vectors: {failures:#?}");
}

#[test]
fn body_hash_vectors_match_sha256() {
    use sha2::Digest;
    for v in fixture("signature_vectors.json")["body_hash_vectors"]
        .as_array()
        .unwrap()
    {
        let body = v["body"].as_str().unwrap();
        assert_eq!(
            hex::encode(sha2::Sha256::digest(body.as_bytes())),
            v["sha256_hex"].as_str().unwrap()
        );
    }
}

#[test]
fn signing_is_what_validation_accepts() {
    // GIVEN a form with repeated keys and a prefix pair (Reason < ReasonConferenceEnded)
    let params: Vec<(String, String)> = [
        ("ReasonConferenceEnded", "x"),
        ("Reason", "y"),
        ("Digits", "2"),
        ("Digits", "1"),
        ("Digits", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = "https://gomomo.example.com/twilio/sms?x=1";
    let sig = signature::sign("tok", url, &params);
    // THEN it validates whatever the order, and fails for another token or URL
    let mut shuffled = params.clone();
    shuffled.rotate_left(2);
    assert!(signature::validate(
        "tok",
        url,
        SignedPayload::Form(&shuffled),
        &sig
    ));
    assert!(!signature::validate(
        "tok2",
        url,
        SignedPayload::Form(&params),
        &sig
    ));
    assert!(!signature::validate(
        "tok",
        "https://gomomo.example.com/twilio/sms?x=2",
        SignedPayload::Form(&params),
        &sig
    ));
    assert_eq!(
        signature::signing_data(url, &params),
        format!("{url}Digits1Digits2ReasonyReasonConferenceEndedx")
    );
}

#[derive(Debug, PartialEq)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

fn tree(xml: &str) -> Node {
    let doc = roxmltree::Document::parse(xml).unwrap();
    fn walk(n: roxmltree::Node) -> Node {
        let mut attrs: Vec<(String, String)> = n
            .attributes()
            .map(|a| (a.name().to_string(), a.value().to_string()))
            .collect();
        attrs.sort();
        Node {
            name: n.tag_name().name().to_string(),
            attrs,
            text: n
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect(),
            children: n.children().filter(|c| c.is_element()).map(walk).collect(),
        }
    }
    walk(doc.root_element())
}

fn el(name: &'static str) -> Element {
    Element::new(name)
}

#[test]
fn twiml_vectors_rebuilt_with_our_writer() {
    let doc = fixture("twiml_vectors.json");
    let ours: Vec<(&str, Response)> = vec![
        ("py_empty_response", Response::new()),
        ("py_gather_empty", Response::new().verb(el("Gather"))),
        (
            "py_gather_say",
            Response::new().verb(el("Gather").child(el("Say").text("Hello"))),
        ),
        (
            "py_nested_say_voice",
            Response::new().verb(el("Gather").child(el("Say").attr("voice", "man").text("Hello"))),
        ),
        (
            "py_gather_say_play_pause",
            Response::new().verb(
                el("Gather")
                    .child(el("Say").text("Hey"))
                    .child(el("Play").text("hey.mp3"))
                    .child(el("Pause")),
            ),
        ),
        (
            "py_say_all_attrs",
            Response::new().verb(
                el("Say")
                    .attr("language", "fr")
                    .attr("loop", "3")
                    .attr("voice", "man")
                    .text("Hello Monkey"),
            ),
        ),
        (
            "py_say_unicode_apostrophe",
            Response::new().verb(el("Say").text("nécessaire et d'autres")),
        ),
        ("py_empty_say", Response::new().verb(el("Say"))),
        (
            "py_redirect_amp_escape",
            Response::new().verb(
                el("Redirect")
                    .attr("method", "POST")
                    .text("example.com?id=34&action=hey"),
            ),
        ),
        (
            "py_sms_attr_amp_escape",
            Response::new().verb(
                el("Sms")
                    .attr("from", "3453453456")
                    .attr("statusCallback", "example.com?id=34&action=hey")
                    .attr("to", "1231231234")
                    .text("Hello, World"),
            ),
        ),
        ("py_hangup", Response::new().verb(el("Hangup"))),
        (
            "node_gather_timeout_say_loop",
            Response::new().verb(
                el("Gather")
                    .attr("timeout", "5")
                    .attr("finishOnKey", "abcd")
                    .child(el("Say").attr("loop", "2").text("hello world!")),
            ),
        ),
        (
            "node_escape_attr",
            Response::new().verb(
                el("Dial").child(
                    el("Number")
                        .attr(
                            "statusCallback",
                            "https://example.com?action=getTwiml&param=dial",
                        )
                        .text("+11234567890"),
                ),
            ),
        ),
        (
            "node_say_ssml_say_as",
            Response::new().verb(
                el("Say").child(
                    el("say-as")
                        .attr("interpret-as", "spell-out")
                        .attr("role", "yymmdd")
                        .text("Words to speak"),
                ),
            ),
        ),
        (
            "go_gather_play",
            Response::new().verb(el("Gather").child(el("Play").text("https://demo.twilio.com"))),
        ),
        (
            "py_msg_response",
            Response::new()
                .verb(el("Message").text("Hello"))
                .verb(el("Redirect").text("example.com")),
        ),
        ("py_msg_empty", Response::new()),
        (
            "docs_gather_speech_dtmf",
            Response::new().verb(
                el("Gather")
                    .attr("input", "speech dtmf")
                    .attr("numDigits", "1")
                    .attr("timeout", "3")
                    .child(el("Say").text("Please press 1 or say sales for sales.")),
            ),
        ),
    ];
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(ours.len(), vectors.len(), "one rebuild per vector");
    for (id, response) in ours {
        let v = vectors.iter().find(|v| v["id"] == id).unwrap();
        let want = v["xml"].as_str().unwrap();
        let got = response.to_xml();
        assert_eq!(tree(&got), tree(want), "{id}: {got}");
        assert!(got.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response"));
        if id.starts_with("node_") || id.starts_with("go_") {
            assert_eq!(got, want, "{id}");
        }
    }
}
