//! Our SigV4 signer (`gomomo::adapters::sigv4`) against AWS's published example and against
//! AWS's own signing crate (`aws-sigv4`) on the requests the functions make.
#![allow(clippy::unwrap_used)]

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use chrono::{DateTime, TimeZone as _, Utc};
use gomomo::adapters::sigv4::{self, Request};
use gomomo::config::AwsCredentials;

/// The example credentials of AWS's SigV4 test suite.
fn example(token: Option<&str>) -> AwsCredentials {
    AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: token.map(str::to_string),
    }
}

fn header<'a>(signed: &'a [(&'static str, String)], name: &str) -> &'a str {
    signed
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {signed:?}"))
}

/// The test suite's `get-vanilla` case: `GET /` to `example.amazonaws.com`, service
/// `service`, 2015-08-30T12:36:00Z (source: AWS SigV4 test suite, `get-vanilla.authz`).
#[test]
fn the_published_get_vanilla_signature() {
    let now = Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap();
    let signed = sigv4::sign(
        &Request {
            method: "GET",
            host: "example.amazonaws.com",
            path: "/",
            headers: &[],
            body: b"",
        },
        &example(None),
        "us-east-1",
        "service",
        now,
    );
    assert_eq!(header(&signed, "x-amz-date"), "20150830T123600Z");
    assert_eq!(
        header(&signed, "authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

/// What AWS's crate signs for the same request (default settings: the path encoded twice,
/// the session token signed, no payload header).
fn reference(
    creds: &AwsCredentials,
    service: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    now: DateTime<Utc>,
) -> String {
    let identity = Credentials::new(
        &creds.access_key_id,
        &creds.secret_access_key,
        creds.session_token.clone(),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::from(now))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let authorization = instructions
        .headers()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.to_string())
        .unwrap();
    authorization
}

#[test]
fn put_events_and_post_to_connection_sign_like_aws_own_signer() {
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 10, 41, 7).unwrap();
    let body = br#"{"Entries":[{"EventBusName":"gomomo","Source":"gomomo.booking"}]}"#;
    for token in [None, Some("IQoJb3JpZ2luX2VjEXAMPLE//token+with=odd/chars")] {
        let creds = example(token);
        // PutEvents: a JSON 1.1 call to the service's root.
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AWSEvents.PutEvents"),
        ];
        let ours = sigv4::sign(
            &Request {
                method: "POST",
                host: "events.us-east-1.amazonaws.com",
                path: "/",
                headers: &headers,
                body,
            },
            &creds,
            "us-east-1",
            "events",
            now,
        );
        let want_headers: Vec<(&str, &str)> = headers
            .iter()
            .copied()
            .chain([("host", "events.us-east-1.amazonaws.com")])
            .collect();
        assert_eq!(
            header(&ours, "authorization"),
            reference(
                &creds,
                "events",
                "https://events.us-east-1.amazonaws.com/",
                &want_headers,
                body,
                now
            ),
            "PutEvents, token {token:?}"
        );

        // PostToConnection: a stage path, `@connections`, an id with `=` (encoded once in
        // the URL, twice in the canonical request), and a port.
        let id = sigv4::uri_encode("Hq3xScPXoAMCJpQ=");
        let path = format!("/prod/@connections/{id}");
        let host = "abc123.execute-api.us-east-1.amazonaws.com:8443";
        let frame = br#"{"type":"reply","text":"hello"}"#;
        let ours = sigv4::sign(
            &Request {
                method: "POST",
                host,
                path: &path,
                headers: &[],
                body: frame,
            },
            &creds,
            "us-east-1",
            "execute-api",
            now,
        );
        assert_eq!(
            header(&ours, "authorization"),
            reference(
                &creds,
                "execute-api",
                &format!("https://{host}{path}"),
                &[("host", host)],
                frame,
                now
            ),
            "PostToConnection, token {token:?}"
        );
        assert_eq!(
            token.map(|t| header(&ours, "x-amz-security-token") == t),
            token.map(|_| true)
        );
    }
}
