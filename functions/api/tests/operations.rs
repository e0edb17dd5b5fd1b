//! The admin's day-to-day routes: notifications and sending a failed one again, the
//! waitlist, the admin email, and the phone numbers that reach a tenant.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use axum::Router;
use chrono::NaiveDate;
use gomomo::db::notifications::{self, NewNotification};
use gomomo::db::waitlist::{self, NewWaitlistEntry};
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{admin, app, call, code, december_7_8am, PLATFORM, PLATFORM_KEY};
use uuid::Uuid;

async fn setup(pool: &PgPool) -> (Router, String) {
    let seed = seed_demo(pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(december_7_8am()), PLATFORM);
    (app, seed.api_key)
}

/// A staff key of the demo tenant, made by its owner key.
async fn staff_key(app: &Router, owner: &str) -> String {
    let (s, v) = call(
        app,
        "POST",
        &admin("/keys"),
        Some(r#"{"name":"desk","role":"staff"}"#),
        Some(owner),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["key"].as_str().unwrap().to_string()
}

async fn queue(pool: &PgPool, key: &str) -> Uuid {
    let mut conn = pool.acquire().await.unwrap();
    notifications::enqueue(
        &mut conn,
        &NewNotification {
            tenant_id: DEMO_TENANT_ID,
            channel: "email",
            kind: "reminder_24h",
            recipient: "ana@example.com".into(),
            subject: Some("Your visit tomorrow".into()),
            body: "See you tomorrow at 10:00.".into(),
            metadata: json!({}),
            idempotency_key: key.into(),
            booking_id: None,
            job_id: None,
        },
    )
    .await
    .unwrap()
    .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_notification_is_listed_and_sent_again_once(pool: PgPool) {
    let (app, owner) = setup(&pool).await;
    let staff = staff_key(&app, &owner).await;
    let failed = queue(&pool, "ops-test-failed").await;
    let _queued = queue(&pool, "ops-test-queued").await;
    {
        let mut conn = pool.acquire().await.unwrap();
        notifications::mark_failed(
            &mut conn,
            failed,
            december_7_8am(),
            "550 mailbox unavailable",
        )
        .await
        .unwrap();
    }

    let (s, v) = call(
        &app,
        "GET",
        &admin("/notifications?status=failed"),
        None,
        Some(&staff),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["id"], failed.to_string());
    assert_eq!(rows[0]["last_error"], "550 mailbox unavailable");
    let (_, all) = call(&app, "GET", &admin("/notifications"), None, Some(&staff)).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (s, v) = call(
        &app,
        "GET",
        &admin("/notifications?status=lost"),
        None,
        Some(&staff),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Staff may send it again: queued, fresh attempts, due now; once only.
    let retry = admin(&format!("/notifications/{failed}/retry"));
    let (s, v) = call(&app, "POST", &retry, None, Some(&staff)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );
    assert!(v["failed_at"].is_null());
    let (s, v) = call(&app, "POST", &retry, None, Some(&staff)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "notification_not_failed")
    );
    let unknown = admin(&format!("/notifications/{}/retry", Uuid::new_v4()));
    let (s, v) = call(&app, "POST", &unknown, None, Some(&staff)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "notification_not_found")
    );

    // The dispatcher's queue has it again.
    let due = notifications::list_for_tenant(&pool, DEMO_TENANT_ID)
        .await
        .unwrap();
    assert!(due
        .iter()
        .any(|n| n.id == failed && n.status == notifications::NotificationStatus::Queued));
    // Audited, naming the key.
    let (_, rows) = call(
        &app,
        "GET",
        &admin("/audit?event_type=notification.retried"),
        None,
        Some(&staff),
    )
    .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["actor"].as_str().unwrap().starts_with("admin_key:"));
    assert_eq!(rows[0]["actor_label"], &staff[..8]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_waitlist_is_listed_in_offer_order(pool: PgPool) {
    let (app, owner) = setup(&pool).await;
    for (i, name) in ["First", "Second"].iter().enumerate() {
        let mut conn = pool.acquire().await.unwrap();
        waitlist::insert(
            &mut conn,
            &NewWaitlistEntry {
                id: Uuid::new_v4(),
                tenant_id: DEMO_TENANT_ID,
                session_id: &format!("session-{i}"),
                service_id: Some(DEMO_SERVICES[0].0),
                preferred_from: NaiveDate::from_ymd_opt(2026, 12, 8),
                preferred_to: NaiveDate::from_ymd_opt(2026, 12, 10),
                time_of_day: Some("morning"),
                client_name: Some(name),
                client_email: Some("wait@example.com"),
                client_phone: None,
                locale: "en",
            },
        )
        .await
        .unwrap();
    }
    let (s, v) = call(
        &app,
        "GET",
        &admin("/waitlist?status=waiting"),
        None,
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["First", "Second"]);
    assert_eq!(v[0]["time_of_day"], "morning");
    let (_, none) = call(
        &app,
        "GET",
        &admin("/waitlist?status=booked"),
        None,
        Some(&owner),
    )
    .await;
    assert_eq!(none, json!([]));
    let (s, v) = call(
        &app,
        "GET",
        &admin("/waitlist?limit=501"),
        None,
        Some(&owner),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_limit"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn owners_set_the_admin_email_and_the_phone_numbers(pool: PgPool) {
    let (app, owner) = setup(&pool).await;
    let staff = staff_key(&app, &owner).await;

    // The admin email: staff read, owners set; a bad address is 400; null clears it.
    let put = |v: Value| v.to_string();
    let (s, v) = call(
        &app,
        "PUT",
        &admin("/admin-email"),
        Some(&put(json!({"admin_email": "desk@clinic.example"}))),
        Some(&staff),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "owner_required"));
    let (s, v) = call(
        &app,
        "PUT",
        &admin("/admin-email"),
        Some(&put(json!({"admin_email": "not an email"}))),
        Some(&owner),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_email"));
    let (s, v) = call(
        &app,
        "PUT",
        &admin("/admin-email"),
        Some(&put(json!({"admin_email": " Desk@Clinic.example "}))),
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = call(&app, "GET", &admin("/admin-email"), None, Some(&staff)).await;
    let stored = v["admin_email"].as_str().unwrap().to_string();
    assert_eq!(stored.to_lowercase(), "desk@clinic.example");
    assert_eq!(
        notifications::tenant_admin_email(&pool, DEMO_TENANT_ID)
            .await
            .unwrap(),
        Some(stored)
    );
    let (s, _) = call(
        &app,
        "PUT",
        &admin("/admin-email"),
        Some(&put(json!({"admin_email": null}))),
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        notifications::tenant_admin_email(&pool, DEMO_TENANT_ID)
            .await
            .unwrap(),
        None
    );

    // Phone numbers: the demo number is listed; a new one is attached SMS-only.
    let number = admin("/phone-numbers/+15551230000");
    let (s, v) = call(
        &app,
        "PUT",
        &number,
        Some(&put(json!({"voice_enabled": false}))),
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["voice_enabled"].as_bool(), v["sms_enabled"].as_bool()),
        (Some(false), Some(true))
    );
    let (_, v) = call(&app, "GET", &admin("/phone-numbers"), None, Some(&staff)).await;
    let listed: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phone_number"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&DEMO_PHONE_NUMBER) && listed.contains(&"+15551230000"),
        "{v}"
    );
    let (s, v) = call(
        &app,
        "PUT",
        &admin("/phone-numbers/555-1234"),
        Some("{}"),
        Some(&owner),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_phone"));

    // Another tenant cannot take the demo number: it never moves silently.
    let (s, created) = call(
        &app,
        "POST",
        "/api/admin/tenants",
        Some(&put(
            json!({"name": "Salon Uno", "time_zone": "Europe/Madrid"}),
        )),
        Some(PLATFORM_KEY),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let other = created["tenant"]["id"].as_str().unwrap();
    let other_key = created["api_key"].as_str().unwrap();
    let (s, v) = call(
        &app,
        "PUT",
        &format!("/api/admin/tenants/{other}/phone-numbers/{DEMO_PHONE_NUMBER}"),
        Some("{}"),
        Some(other_key),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "number_taken"));

    let (s, _) = call(&app, "DELETE", &number, None, Some(&owner)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = call(&app, "DELETE", &number, None, Some(&owner)).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "number_not_found"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn tenant_policies_are_checked_and_decide_before_the_defaults(pool: PgPool) {
    use gomomo::services::autonomy::policy::decide;
    let (app, owner) = setup(&pool).await;
    let staff = staff_key(&app, &owner).await;
    let rule = json!({"action": "send_reminder", "effect": "deny",
                      "conditions": {"reminder": "2h"}, "description": "no 2 h reminders"});

    // Only what exists: a registered tool, known context fields, known events.
    for (bad, want) in [
        (
            json!({"action": "send_fax", "effect": "allow"}),
            "invalid_action",
        ),
        (
            json!({"action": "send_reminder", "effect": "allow", "conditions": {"moon_phase": "full"}}),
            "invalid_conditions",
        ),
        (
            json!({"action": "send_reminder", "effect": "allow", "conditions": {"event_type": "BookingExploded"}}),
            "invalid_conditions",
        ),
        (
            json!({"action": "send_reminder", "effect": "allow", "conditions": {"min_hours_until_start": [1]}}),
            "invalid_conditions",
        ),
        (
            json!({"action": "send_reminder", "effect": "allow", "priority": 5000}),
            "invalid_priority",
        ),
    ] {
        let (s, v) = call(
            &app,
            "POST",
            &admin("/policies"),
            Some(&bad.to_string()),
            Some(&owner),
        )
        .await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, want),
            "{bad} → {v}"
        );
    }
    let (s, v) = call(
        &app,
        "POST",
        &admin("/policies"),
        Some(&rule.to_string()),
        Some(&staff),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "owner_required"));
    let (s, created) = call(
        &app,
        "POST",
        &admin("/policies"),
        Some(&rule.to_string()),
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();

    // The engine now denies the 2 h reminder for this tenant and still allows the 24 h one.
    let mut conn = pool.acquire().await.unwrap();
    let two = decide(
        &mut conn,
        DEMO_TENANT_ID,
        "send_reminder",
        &json!({"reminder": "2h"}),
        None,
    )
    .await
    .unwrap();
    assert!(!two.allowed(), "{two:?}");
    assert_eq!(two.rule_id.map(|r| r.to_string()), Some(id.clone()));
    let day = decide(
        &mut conn,
        DEMO_TENANT_ID,
        "send_reminder",
        &json!({"reminder": "24h"}),
        None,
    )
    .await
    .unwrap();
    assert!(day.allowed(), "{day:?}");

    // Listed with the global defaults, which are read-only.
    let (_, list) = call(&app, "GET", &admin("/policies"), None, Some(&staff)).await;
    let list = list.as_array().unwrap();
    assert!(list
        .iter()
        .any(|r| r["id"] == id.as_str() && r["tenant_id"] == DEMO_TENANT_ID.to_string()));
    let global = list.iter().find(|r| r["tenant_id"].is_null()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = call(
        &app,
        "PUT",
        &admin(&format!("/policies/{global}")),
        Some(&rule.to_string()),
        Some(&owner),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "policy_not_found"));

    // Disabled, the rule no longer decides; deleted, it is gone.
    let off = json!({"action": "send_reminder", "effect": "deny", "conditions": {"reminder": "2h"}, "enabled": false});
    let (s, v) = call(
        &app,
        "PUT",
        &admin(&format!("/policies/{id}")),
        Some(&off.to_string()),
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let two = decide(
        &mut conn,
        DEMO_TENANT_ID,
        "send_reminder",
        &json!({"reminder": "2h"}),
        None,
    )
    .await
    .unwrap();
    assert!(two.allowed());
    let (s, _) = call(
        &app,
        "DELETE",
        &admin(&format!("/policies/{id}")),
        None,
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &app,
        "DELETE",
        &admin(&format!("/policies/{id}")),
        None,
        Some(&owner),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, audit) = call(
        &app,
        "GET",
        &admin(&format!("/audit?entity_id={id}")),
        None,
        Some(&owner),
    )
    .await;
    let events: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["policy.deleted", "policy.updated", "policy.created"]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn transcripts_are_redacted_unless_an_owner_asks_and_that_is_audited(pool: PgPool) {
    use gomomo::db::{calls, chat};
    let (app, owner) = setup(&pool).await;
    let staff = staff_key(&app, &owner).await;
    let now = december_7_8am();
    calls::start_call(
        &pool,
        &calls::NewCall {
            call_sid: "CA0123456789abcdef",
            tenant_id: DEMO_TENANT_ID,
            from_number: "+15557654321",
            to_number: DEMO_PHONE_NUMBER,
            state: "greeting",
            now,
        },
        10,
        now - chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    {
        let mut conn = pool.acquire().await.unwrap();
        let said = [
            ("agent", "Hello, how can I help?"),
            (
                "caller",
                "Book me, my email is ana@example.com and my cell is 555 123 4567",
            ),
        ];
        let turns: Vec<calls::NewTurn> = said
            .iter()
            .map(|(speaker, text)| calls::NewTurn {
                speaker,
                text,
                state: "greeting",
                confidence: None,
            })
            .collect();
        calls::append_turns(&mut conn, "CA0123456789abcdef", &turns, now)
            .await
            .unwrap();
    }
    chat::begin_turn(
        &pool,
        DEMO_TENANT_ID,
        "sess_secret_value_1234567890",
        "web",
        30,
    )
    .await
    .unwrap();
    chat::append_messages(
        &pool,
        DEMO_TENANT_ID,
        "sess_secret_value_1234567890",
        &[
            json!({"role": "user", "content": "I am ana@example.com"}),
            json!({"role": "assistant", "content": "Thanks, I noted your email."}),
        ],
    )
    .await
    .unwrap();

    // Lists: the caller's number masked, the chat by a handle (never its session id).
    let (s, v) = call(&app, "GET", &admin("/calls"), None, Some(&staff)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["from_number"], "•••21");
    let (_, chats) = call(&app, "GET", &admin("/chats"), None, Some(&staff)).await;
    assert!(!chats.to_string().contains("sess_secret_value"), "{chats}");
    let handle = chats[0]["handle"].as_str().unwrap().to_string();
    assert_eq!(chats[0]["messages"], 2);

    // Staff read them redacted and may not ask for more.
    let (_, t) = call(
        &app,
        "GET",
        &admin("/calls/CA0123456789abcdef"),
        None,
        Some(&staff),
    )
    .await;
    let caller = t["lines"][1]["text"].as_str().unwrap();
    assert!(
        !caller.contains("ana@example.com") && !caller.contains("555 123 4567"),
        "{caller}"
    );
    assert_eq!(t["redacted"], true);
    let (s, v) = call(
        &app,
        "GET",
        &admin("/calls/CA0123456789abcdef?unredacted=true"),
        None,
        Some(&staff),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "owner_required"));
    let (_, c) = call(
        &app,
        "GET",
        &admin(&format!("/chats/{handle}")),
        None,
        Some(&staff),
    )
    .await;
    assert!(!c.to_string().contains("ana@example.com"), "{c}");
    assert_eq!(c["lines"][0]["speaker"], "client");

    // The owner reads them as said; each such reading is audited.
    let (_, t) = call(
        &app,
        "GET",
        &admin("/calls/CA0123456789abcdef?unredacted=true"),
        None,
        Some(&owner),
    )
    .await;
    assert!(t["lines"][1]["text"]
        .as_str()
        .unwrap()
        .contains("ana@example.com"));
    assert_eq!(t["call"]["from_number"], "+15557654321");
    let (_, c) = call(
        &app,
        "GET",
        &admin(&format!("/chats/{handle}?unredacted=true")),
        None,
        Some(&owner),
    )
    .await;
    assert!(c.to_string().contains("ana@example.com"));
    let (_, audit) = call(
        &app,
        "GET",
        &admin("/audit?event_type=transcript.viewed_unredacted"),
        None,
        Some(&owner),
    )
    .await;
    let seen: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entity_type"].as_str().unwrap())
        .collect();
    assert_eq!(seen, ["chat", "call"]);
    assert!(audit[0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("admin_key:"));

    // Another tenant's call or an unknown handle is simply not there.
    let (s, v) = call(&app, "GET", &admin("/calls/CAnothere"), None, Some(&owner)).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "call_not_found"));
    let (s, v) = call(
        &app,
        "GET",
        &admin(&format!("/chats/{}", "0".repeat(32))),
        None,
        Some(&owner),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "chat_not_found"));
}
