//! The privacy routes through the api router: export and erase one client's data with the
//! tenant's admin key, the client named in the JSON body; another tenant's key is refused,
//! another tenant's client with the same email is untouched, and each request is audited
//! with the key that asked.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use gomomo::domain::TimeZone;
use gomomo::services::admin::{
    create_tenant, seed_demo, TenantSettings, DEMO_RESOURCES, DEMO_SERVICES, DEMO_TENANT_ID,
};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{app, call, december_7_8am};
use uuid::Uuid;

const EMAIL: &str = "ana.lopez@example.com";

async fn book(
    pool: &PgPool,
    tenant: Uuid,
    service: Uuid,
    resource: Uuid,
    at: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO appointments (id, tenant_id, service_id, resource_id, hold_id, session_id,
             reference, during, client_name, client_email, client_phone)
         VALUES ($1, $2, $3, $4, $5, 'web-1', $6, tstzrange($7, $7 + interval '30 minutes'),
                 'Ana Lopez', $8, '+15555550100')",
    )
    .bind(id)
    .bind(tenant)
    .bind(service)
    .bind(resource)
    .bind(Uuid::new_v4())
    .bind(format!("GM-{}", &id.simple().to_string()[..6]))
    .bind(at)
    .bind(EMAIL)
    .execute(pool)
    .await
    .unwrap();
    id
}

fn route(tenant: Uuid, what: &str) -> String {
    format!("/api/admin/tenants/{tenant}/privacy/{what}")
}

#[sqlx::test(migrations = "../../migrations")]
async fn privacy_routes_export_and_erase_one_tenants_client(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let other = create_tenant(
        &pool,
        Uuid::new_v4(),
        &TenantSettings {
            name: "Other clinic".into(),
            time_zone: TimeZone::parse("America/New_York").unwrap(),
            slot_step_minutes: 30,
            min_notice_minutes: 60,
            max_days_ahead: 30,
            buffer_minutes: 0,
        },
    )
    .await
    .unwrap();
    let other_id = other.tenant.id;
    let (other_service, other_resource) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query("INSERT INTO services (id, tenant_id, name, duration_minutes) VALUES ($1, $2, 'Consult', 30)")
        .bind(other_service)
        .bind(other_id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO resources (id, tenant_id, name) VALUES ($1, $2, 'Dr B')")
        .bind(other_resource)
        .bind(other_id)
        .execute(&pool)
        .await
        .unwrap();
    let at = december_7_8am() + Duration::days(2);
    let mine = book(
        &pool,
        DEMO_TENANT_ID,
        DEMO_SERVICES[0].0,
        DEMO_RESOURCES[0].0,
        at,
    )
    .await;
    let theirs = book(&pool, other_id, other_service, other_resource, at).await;
    let app = app(pool.clone(), Clock::fixed(december_7_8am()), &[]);
    let body = json!({"email": EMAIL}).to_string();
    let key = seed.api_key.as_str();

    // No key, another tenant's key, no client named, a bad phone, the client in the URL.
    for what in ["export", "erase"] {
        let uri = route(DEMO_TENANT_ID, what);
        let (s, _) = call(&app, "POST", &uri, Some(&body), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, v) = call(&app, "POST", &uri, Some(&body), Some(&other.api_key)).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("wrong_tenant"))
        );
        let (s, v) = call(&app, "POST", &uri, Some("{}"), Some(key)).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_client"))
        );
        let (s, v) = call(
            &app,
            "POST",
            &uri,
            Some(r#"{"phone": "call me"}"#),
            Some(key),
        )
        .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_phone"))
        );
        let (s, _) = call(
            &app,
            "GET",
            &format!("{uri}?email={EMAIL}"),
            None,
            Some(key),
        )
        .await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    }

    let (s, v) = call(
        &app,
        "POST",
        &route(DEMO_TENANT_ID, "export"),
        Some(&body),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let bookings = v["bookings"].as_array().unwrap();
    assert_eq!(bookings.len(), 1, "{v}");
    assert_eq!(bookings[0]["id"], mine.to_string());
    assert_eq!(bookings[0]["client_phone"], "+15555550100");

    let (s, v) = call(
        &app,
        "POST",
        &route(DEMO_TENANT_ID, "erase"),
        Some(&body),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["bookings_anonymised"], 1);
    assert_eq!(
        v["opt_outs_kept"], 1,
        "the phone on the booking is kept opted out"
    );
    // Idempotent.
    let (s, v) = call(
        &app,
        "POST",
        &route(DEMO_TENANT_ID, "erase"),
        Some(&body),
        Some(key),
    )
    .await;
    assert_eq!(
        (s, v["bookings_anonymised"].as_u64()),
        (StatusCode::OK, Some(0))
    );

    let (s, v) = call(
        &app,
        "POST",
        &route(DEMO_TENANT_ID, "export"),
        Some(&body),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["bookings"], json!([]));
    let (name, email, status): (String, String, String) =
        sqlx::query_as("SELECT client_name, client_email, status FROM appointments WHERE id = $1")
            .bind(mine)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), email.as_str(), status.as_str()),
        ("[erased]", "erased@erased.invalid", "confirmed")
    );
    let theirs_email: String =
        sqlx::query_scalar("SELECT client_email FROM appointments WHERE id = $1")
            .bind(theirs)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(theirs_email, EMAIL, "another tenant's client is untouched");

    // Audited with the key that asked, never the contact.
    let (key_id, prefix): (Uuid, String) =
        sqlx::query_as("SELECT id, key_prefix FROM tenant_api_keys WHERE tenant_id = $1")
            .bind(DEMO_TENANT_ID)
            .fetch_one(&pool)
            .await
            .unwrap();
    let rows: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT event_type, actor, payload FROM audit_log
          WHERE tenant_id = $1 AND event_type LIKE 'privacy.%' ORDER BY id",
    )
    .bind(DEMO_TENANT_ID)
    .fetch_all(&pool)
    .await
    .unwrap();
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "privacy.client_exported",
            "privacy.client_erased",
            "privacy.client_erased",
            "privacy.client_exported"
        ]
    );
    for (_, actor, payload) in &rows {
        assert_eq!(actor, &format!("admin_key:{key_id}"));
        assert_eq!(payload["key_prefix"], prefix.as_str());
        let text = payload.to_string();
        assert!(
            !text.contains("ana.lopez") && !text.contains("5555550100"),
            "{text}"
        );
    }

    // Both routes are in the OpenAPI document.
    let (_, doc) = call(&app, "GET", "/openapi.json", None, None).await;
    for what in ["export", "erase"] {
        let path = format!("/api/admin/tenants/{{tenant}}/privacy/{what}");
        assert!(
            doc["paths"][&path]["post"].is_object(),
            "{path} is documented"
        );
    }
}
