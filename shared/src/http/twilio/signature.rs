//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted form parameters)).
//!
//! The rules below are the ones Twilio's own SDKs (python, node, ruby, go, java) agree on,
//! checked against their 41 published vectors (`tests/fixtures/twilio/signature_vectors.json`):
//! - the data is the full URL, then for each key in byte order, each of its values sorted
//!   and de-duplicated, appended as `key` + `value` (values are form-*decoded*);
//! - validators try the URL as it is, with its port removed, and with the scheme's default
//!   port added (Twilio may sign either form behind a load balancer);
//! - an apostrophe may have been signed raw or as `%27` (node's URL parser encodes it), so
//!   both spellings are tried;
//! - a non-form (JSON) body is covered by `bodySHA256=<hex sha256>` in the query string: the
//!   signature is over the URL alone, and the body must hash to that value.
//!
//! Every comparison is constant-time (`Mac::verify_slice`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha1 = Hmac<Sha1>;

/// What was posted, as the validator sees it.
#[derive(Debug, Clone, Copy)]
pub enum SignedPayload<'a> {
    /// `application/x-www-form-urlencoded` parameters, already decoded (repeats allowed).
    Form(&'a [(String, String)]),
    /// Any other body (JSON): validated through the URL's `bodySHA256` parameter.
    Body(&'a [u8]),
}

/// The string that is signed: URL + keys in byte order, each with its sorted, distinct values.
pub fn signing_data(url: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut data = String::with_capacity(url.len() + pairs.len() * 24);
    data.push_str(url);
    for (k, v) in pairs {
        data.push_str(k);
        data.push_str(v);
    }
    data
}

fn mac(auth_token: &str, data: &str) -> HmacSha1 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut m = <HmacSha1 as KeyInit>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data.as_bytes());
    m
}

/// The signature Twilio would send for this URL and these parameters.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(
        mac(auth_token, &signing_data(url, params))
            .finalize()
            .into_bytes(),
    )
}

/// True when `signature` is a valid `X-Twilio-Signature` for the request. An empty token
/// or signature is never valid.
pub fn validate(auth_token: &str, url: &str, payload: SignedPayload<'_>, signature: &str) -> bool {
    if auth_token.is_empty() || signature.trim().is_empty() {
        return false;
    }
    let Ok(expected) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let no_params: [(String, String); 0] = [];
    let params: &[(String, String)] = match payload {
        SignedPayload::Form(p) => p,
        SignedPayload::Body(body) => {
            let Some(claimed) = query_param(url, "bodySHA256") else {
                return false;
            };
            let actual = hex::encode(Sha256::digest(body));
            // Both are hex of a public hash of the body; compare without early exit anyway.
            if !constant_time_eq(actual.as_bytes(), claimed.to_ascii_lowercase().as_bytes()) {
                return false;
            }
            &no_params
        }
    };
    let mut ok = false;
    for candidate in url_candidates(url) {
        let m = mac(auth_token, &signing_data(&candidate, params));
        ok |= m.verify_slice(&expected).is_ok();
    }
    ok
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The raw (still percent-encoded) value of a query parameter.
fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The URL as-is, without its port, with the default port; each also with `'` ⇄ `%27`.
fn url_candidates(url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(6);
    let mut push = |u: String| {
        if !out.contains(&u) {
            out.push(u);
        }
    };
    let forms = [
        Some(url.to_string()),
        without_port(url),
        with_default_port(url),
    ];
    for form in forms.into_iter().flatten() {
        push(form.replace("%27", "'"));
        push(form.replace('\'', "%27"));
        push(form);
    }
    out
}

/// Splits `scheme://authority` + rest; the authority may hold `user:pass@`.
fn split_authority(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some((scheme, &rest[..end], &rest[end..]))
}

/// (userinfo-with-@, host, port) of an authority.
fn split_host_port(authority: &str) -> (&str, &str, Option<&str>) {
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (&authority[..=i], &authority[i + 1..]),
        None => ("", authority),
    };
    // IPv6 literals keep their colons inside brackets.
    let port_sep = if hostport.starts_with('[') {
        hostport
            .find(']')
            .and_then(|i| hostport[i..].find(':').map(|j| i + j))
    } else {
        hostport.rfind(':')
    };
    match port_sep {
        Some(i) => (userinfo, &hostport[..i], Some(&hostport[i + 1..])),
        None => (userinfo, hostport, None),
    }
}

fn without_port(url: &str) -> Option<String> {
    let (scheme, authority, rest) = split_authority(url)?;
    let (userinfo, host, port) = split_host_port(authority);
    port?;
    Some(format!("{scheme}://{userinfo}{host}{rest}"))
}

fn with_default_port(url: &str) -> Option<String> {
    let (scheme, authority, rest) = split_authority(url)?;
    let (userinfo, host, port) = split_host_port(authority);
    if port.is_some() {
        return None;
    }
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    Some(format!("{scheme}://{userinfo}{host}:{default}{rest}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn canonical_vector_and_ordering() {
        // twilio-python tests/unit/test_request_validator.py (the canonical vector).
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        let mut reversed = params.clone();
        reversed.reverse();
        assert!(validate(
            "12345",
            url,
            SignedPayload::Form(&reversed),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!validate(
            "",
            url,
            SignedPayload::Form(&params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!validate("12345", url, SignedPayload::Form(&params), ""));
        assert!(!validate(
            "12345",
            url,
            SignedPayload::Form(&params),
            "not base64!"
        ));
    }

    #[test]
    fn url_forms() {
        assert_eq!(
            without_port("https://u:p@h.com:8443/x?a=1").unwrap(),
            "https://u:p@h.com/x?a=1"
        );
        assert_eq!(
            with_default_port("https://u@h.com/x").unwrap(),
            "https://u@h.com:443/x"
        );
        assert_eq!(
            with_default_port("http://h.com?x=1").unwrap(),
            "http://h.com:80?x=1"
        );
        assert!(with_default_port("https://h.com:1/x").is_none());
        assert!(without_port("https://h.com/x").is_none());
        assert_eq!(
            without_port("http://[::1]:8080/a").unwrap(),
            "http://[::1]/a"
        );
    }
}
