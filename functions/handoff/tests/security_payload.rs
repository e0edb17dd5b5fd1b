//! Oversized bodies on the Twilio-facing routes answer `413 payload_too_large`, the code every
//! other route uses: the signed Twilio forms (SMS and voice) and the handoff's JSON.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use gomomo::services::Clock;
use gomomo_handoff::{router, HandoffState};
use gomomo_voice::VoiceState;
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use support::{config, march_2_8am};
use tower::ServiceExt;

async fn post(app: &Router, uri: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let req = Request::post(uri)
        .header("content-type", content_type)
        .header("x-twilio-signature", "unchecked")
        .body(Body::from(body))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[sqlx::test(migrations = "../../migrations")]
async fn oversized_twilio_and_handoff_bodies_are_payload_too_large(pool: PgPool) {
    let config = config(&[]);
    let clock = Clock::fixed(march_2_8am());
    let sms = gomomo::app::sms_sender(&config.telephony);
    let handoff = router(HandoffState::new(
        pool.clone(),
        &config,
        clock.clone(),
        sms.clone(),
    ));
    let voice = gomomo_voice::router(VoiceState::new(pool.clone(), &config, clock, sms));
    let form = format!("Body={}", "x".repeat(100 * 1024)).into_bytes();
    let json = format!("{{\"token\": \"{}\"}}", "x".repeat(3 * 1024 * 1024)).into_bytes();
    let cases = [
        (
            &handoff,
            "/twilio/sms",
            "application/x-www-form-urlencoded",
            form.clone(),
        ),
        (
            &voice,
            "/twilio/voice",
            "application/x-www-form-urlencoded",
            form.clone(),
        ),
        (
            &voice,
            "/twilio/voice/gather",
            "application/x-www-form-urlencoded",
            form,
        ),
        (&handoff, "/handoff/resume", "application/json", json),
    ];
    for (app, uri, content_type, body) in cases {
        let (s, v) = post(app, uri, content_type, body).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")),
            "{uri}: {v}"
        );
    }
}
