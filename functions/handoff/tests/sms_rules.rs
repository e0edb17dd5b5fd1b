//! SMS "X" against the self-service cut-off, through the real inbound SMS route: a cancel
//! inside the cut-off is refused with a clear text and the booking is kept.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use gomomo::db::bookings::{appointment_by_reference, AppointmentStatus};
use gomomo::domain::{ClientName, Email, PhoneE164, SessionId, TenantId};
use gomomo::http::twilio::signature;
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::booking::ClientDetails;
use gomomo::services::{BookingService, Clock};
use gomomo_handoff::{router, HandoffState};
use http_body_util::BodyExt;
use sqlx::PgPool;
use support::{config, march_2_8am, ny, BASE, CALLER, TOKEN};
use tower::ServiceExt;

async fn sms(app: &Router, sid: &str, body: &str) -> Vec<String> {
    let params = [
        ("MessageSid", sid),
        ("From", CALLER),
        ("To", DEMO_PHONE_NUMBER),
        ("Body", body),
        ("NumMedia", "0"),
    ];
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signature::sign(TOKEN, &format!("{BASE}/twilio/sms"), &owned);
    let req = Request::post("/twilio/sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(Body::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        ))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let xml = String::from_utf8_lossy(&bytes).into_owned();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("Message"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

/// The SMS router over the seeded demo tenant, and a booking made for `CALLER` at `start`
/// by a client in `zone` who speaks `locale`.
async fn app_with_booking(
    pool: &PgPool,
    start: chrono::DateTime<chrono::Utc>,
    zone: Option<&str>,
    locale: Option<gomomo::domain::Locale>,
) -> (Router, BookingService, gomomo::db::bookings::AppointmentRow) {
    seed_demo(pool).await.unwrap();
    let config = config(&[]);
    let clock = Clock::fixed(march_2_8am());
    let sms_sender = gomomo::app::sms_sender(&config.telephony);
    let app = router(HandoffState::new(
        pool.clone(),
        &config,
        clock.clone(),
        sms_sender,
    ));
    let booking = BookingService::new(pool.clone(), clock, std::time::Duration::from_secs(300));
    let tenant = TenantId(DEMO_TENANT_ID);
    let session = SessionId::parse("web-1").unwrap();
    let hold = booking
        .create_hold(tenant, DEMO_SERVICES[0].0, start, &session)
        .await
        .unwrap();
    let (appt, _) = booking
        .confirm(
            tenant,
            hold.id,
            &session,
            &ClientDetails {
                name: ClientName::parse("Ana Lopez").unwrap(),
                email: Email::parse("ana@example.com").unwrap(),
                phone: Some(PhoneE164::parse(CALLER).unwrap()),
                notes: None,
                time_zone: zone.map(|z| gomomo::domain::TimeZone::parse(z).unwrap()),
                locale,
            },
        )
        .await
        .unwrap();
    (app, booking, appt)
}

#[sqlx::test(migrations = "../../migrations")]
async fn sms_x_inside_the_cutoff_keeps_the_booking(pool: PgPool) {
    // Today 15:00, seven hours away; changes by text close 24 hours before.
    let (app, booking, appt) = app_with_booking(&pool, ny(2026, 3, 2, 15, 0), None, None).await;
    let tenant = TenantId(DEMO_TENANT_ID);
    booking.set_self_service_cutoff(tenant, 1440).await.unwrap();

    let first = sms(&app, "SM20000000000000000000000000000001", "X").await;
    assert!(first[0].contains("reply X again"), "{first:?}");
    let second = sms(&app, "SM20000000000000000000000000000002", "X").await;
    assert!(second[0].contains("not cancelled"), "{second:?}");
    assert!(second[0].contains("24 hours"), "{second:?}");
    let kept = appointment_by_reference(&pool, DEMO_TENANT_ID, &appt.reference, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.status, AppointmentStatus::Confirmed);
}

/// Texts about a booking kept with the client's own zone show the client's time beside the
/// clinic's (15:00 in New York on 2 March is 21:00 in Madrid).
#[sqlx::test(migrations = "../../migrations")]
async fn sms_replies_about_a_booking_show_the_clients_own_time(pool: PgPool) {
    let (app, _, _) =
        app_with_booking(&pool, ny(2026, 3, 2, 15, 0), Some("Europe/Madrid"), None).await;
    let first = sms(&app, "SM20000000000000000000000000000011", "X").await;
    assert!(
        first[0].contains("3:00 PM (your time: 9:00 PM Europe/Madrid)"),
        "{first:?}"
    );
    let second = sms(&app, "SM20000000000000000000000000000012", "X").await;
    assert!(
        second[0].contains("3:00 PM (your time: 9:00 PM Europe/Madrid)"),
        "{second:?}"
    );
}

/// Texts in Spanish: a Spanish keyword is answered in Spanish (with or without "¿…?"),
/// "Sí" from a number that never opted out confirms the booking (it does not opt in), C, R
/// and X speak the booking's language, and PARAR opts out with a Spanish confirmation
/// (Twilio confirms only its English words).
#[sqlx::test(migrations = "../../migrations")]
async fn spanish_texts_are_answered_in_spanish(pool: PgPool) {
    let (app, _, appt) = app_with_booking(
        &pool,
        ny(2026, 3, 4, 10, 0),
        None,
        Some(gomomo::domain::Locale::Es),
    )
    .await;
    let help = sms(&app, "SM30000000000000000000000000000001", "¿AYUDA?").await;
    assert!(help[0].contains("PARAR"), "{help:?}");
    let yes = sms(&app, "SM30000000000000000000000000000002", "Sí").await;
    assert!(yes[0].contains("confirmada"), "{yes:?}");
    assert!(yes[0].contains("mié 4 de mar"), "{yes:?}");
    let kept = appointment_by_reference(&pool, DEMO_TENANT_ID, &appt.reference, false)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.client_confirmed_at.is_some(),
        "Sí confirmed the booking"
    );
    let x = sms(&app, "SM30000000000000000000000000000003", "X").await;
    assert!(x[0].contains("responda X otra vez"), "{x:?}");
    let stop = sms(&app, "SM30000000000000000000000000000004", "PARAR").await;
    assert!(stop[0].contains("INICIAR"), "{stop:?}");
    // Opted out: the next text gets no answer, and "Sí" now opts back in.
    let quiet = sms(&app, "SM30000000000000000000000000000005", "R").await;
    assert!(quiet.is_empty(), "{quiet:?}");
    let back = sms(&app, "SM30000000000000000000000000000006", "SÍ").await;
    assert_eq!(back.len(), 1, "{back:?}");
    assert!(!back[0].contains("confirmada"), "{back:?}");
}
