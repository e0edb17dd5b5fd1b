//! AWS Signature Version 4 for the few AWS calls the functions make (EventBridge
//! `PutEvents`, the Management API's `PostToConnection`): the canonical request, the string
//! to sign, the derived key and the `Authorization` header, for requests without a query
//! string and with the payload's SHA-256 in the canonical request (not as a header).
//!
//! The algorithm is AWS's published one; `shared/tests/sigv4.rs` checks it against the
//! published test suite's example and against AWS's own signing crate.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::config::AwsCredentials;

type HmacSha256 = Hmac<Sha256>;

/// What is signed: the method, the host (with a port when it is not the scheme's default),
/// the path exactly as it is sent (already percent-encoded), the headers besides `host`
/// and `x-amz-date` that must be signed (e.g. `content-type`, `x-amz-target`), and the
/// body.
pub struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The headers to add to the request: `x-amz-date`, `x-amz-security-token` when the
/// credentials are a session's, and `authorization`.
pub fn sign(
    request: &Request<'_>,
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];

    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), canonical_value(v)))
        .collect();
    headers.push(("host".into(), request.host.to_ascii_lowercase()));
    headers.push(("x-amz-date".into(), amz_date.clone()));
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token".into(), token.clone()));
    }
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();

    let canonical_request = format!(
        "{}\n{}\n\n{}\n{}\n{}",
        request.method,
        canonical_uri(request.path),
        canonical_headers,
        signed_headers,
        hex::encode(Sha256::digest(request.body)),
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = [date, region, service, "aws4_request"].iter().fold(
        format!("AWS4{}", credentials.secret_access_key).into_bytes(),
        |key, part| hmac(&key, part.as_bytes()),
    );
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));

    let mut out = vec![("x-amz-date", amz_date)];
    if let Some(token) = &credentials.session_token {
        out.push(("x-amz-security-token", token.clone()));
    }
    out.push((
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A header value as signed: surrounding spaces removed, inner runs of spaces as one.
fn canonical_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path as signed for every service but S3: each segment of the path as sent (already
/// percent-encoded) percent-encoded once more, `/` kept.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, upper-case hex.
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
