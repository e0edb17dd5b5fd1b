//! People and keys through the REST routes: owners and staff who sign in, machine keys that
//! are created, rotated and revoked, an owner that always remains, and audit rows that name
//! who acted.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use gomomo::services::admin::seed_demo;
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{admin, app, call, code, december_7_8am};
use tower::ServiceExt;

const OWNER_PASSWORD: &str = "correct horse battery";
const STAFF_PASSWORD: &str = "staple and a long one";

async fn setup(pool: PgPool, extra: &[(&str, &str)]) -> (Router, String) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool, Clock::fixed(december_7_8am()), extra);
    (app, seed.api_key)
}

async fn add_user(app: &Router, key: &str, email: &str, role: &str, password: &str) -> Value {
    let (s, v) = call(
        app,
        "POST",
        &admin("/users"),
        Some(
            &json!({"email": email, "name": "Ana", "role": role, "password": password}).to_string(),
        ),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

async fn sign_in(app: &Router, email: &str, password: &str) -> (StatusCode, Value) {
    call(
        app,
        "POST",
        "/api/admin/sign-in",
        Some(&json!({"email": email, "password": password}).to_string()),
        None,
    )
    .await
}

async fn token(app: &Router, email: &str, password: &str) -> String {
    let (s, v) = sign_in(app, email, password).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["token"].as_str().unwrap().to_string()
}

async fn audit_rows(app: &Router, key: &str, query: &str) -> Vec<Value> {
    let (s, v) = call(
        app,
        "GET",
        &admin(&format!("/audit?{query}")),
        None,
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

#[sqlx::test(migrations = "../../migrations")]
async fn staff_sign_in_and_act_but_only_owners_manage_people(pool: PgPool) {
    let (app, key) = setup(pool, &[]).await;
    let owner = add_user(&app, &key, "owner@clinic.example", "owner", OWNER_PASSWORD).await;
    assert_eq!(owner["role"], "owner");
    assert!(owner.get("password_hash").is_none() && owner.get("password").is_none());
    add_user(&app, &key, "staff@clinic.example", "staff", STAFF_PASSWORD).await;

    // The same email twice in one tenant: 409; a short password: 400.
    let (s, v) = call(
        &app,
        "POST",
        &admin("/users"),
        Some(
            &json!({"email": "OWNER@clinic.example", "role": "staff", "password": STAFF_PASSWORD})
                .to_string(),
        ),
        Some(&key),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "email_taken"));
    let (s, v) = call(
        &app,
        "POST",
        &admin("/users"),
        Some(
            &json!({"email": "x@clinic.example", "role": "staff", "password": "short"}).to_string(),
        ),
        Some(&key),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_password"));

    // Wrong password and unknown email give the same answer.
    let (s, v) = sign_in(&app, "staff@clinic.example", "not the password!").await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "bad_credentials"));
    let (s, v) = sign_in(&app, "nobody@clinic.example", STAFF_PASSWORD).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "bad_credentials"));

    let staff = token(&app, "Staff@Clinic.example", STAFF_PASSWORD).await;
    assert!(staff.starts_with("gms_"));
    let (s, me) = call(&app, "GET", &admin("/me"), None, Some(&staff)).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(
        (me["kind"].as_str(), me["role"].as_str()),
        (Some("user"), Some("staff"))
    );
    assert_eq!(me["label"], "staff@clinic.example");

    // Staff do the day's work …
    let (s, v) = call(
        &app,
        "GET",
        &admin("/bookings?from=2026-12-07&to=2026-12-08"),
        None,
        Some(&staff),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // … but neither people nor keys.
    for (method, path) in [("GET", "/users"), ("GET", "/keys"), ("POST", "/keys")] {
        let body = (method == "POST").then(|| json!({"name": "x"}).to_string());
        let (s, v) = call(&app, method, &admin(path), body.as_deref(), Some(&staff)).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::FORBIDDEN, "owner_required"),
            "{method} {path}"
        );
    }

    // Signing out ends the session.
    let (s, _) = call(&app, "POST", "/api/admin/sign-out", None, Some(&staff)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(&app, "GET", &admin("/me"), None, Some(&staff)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../../migrations")]
async fn audit_rows_name_the_person_or_the_key(pool: PgPool) {
    let (app, key) = setup(pool, &[]).await;
    let owner = add_user(&app, &key, "owner@clinic.example", "owner", OWNER_PASSWORD).await;
    let session = token(&app, "owner@clinic.example", OWNER_PASSWORD).await;

    // A closure made by the signed-in owner, one made with the key.
    for (bearer, date) in [(&session, "2026-12-24"), (&key, "2026-12-25")] {
        let (s, v) = call(
            &app,
            "POST",
            &admin("/exceptions"),
            Some(&json!({"kind": "closed", "start_date": date, "end_date": date, "reason": "holiday"}).to_string()),
            Some(bearer),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let rows = audit_rows(&app, &key, "event_type=schedule_exception.created").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let by_key = &rows[0];
    let by_owner = &rows[1];
    assert_eq!(
        by_owner["actor"],
        format!("admin_user:{}", owner["id"].as_str().unwrap())
    );
    assert_eq!(by_owner["actor_label"], "owner@clinic.example");
    assert!(
        by_key["actor"].as_str().unwrap().starts_with("admin_key:"),
        "{by_key}"
    );
    assert_eq!(by_key["actor_label"], &key[..8]);

    // The sign-in itself is audited, and the filter by actor finds only the owner's rows.
    let mine = audit_rows(
        &app,
        &key,
        &format!("actor=admin_user:{}", owner["id"].as_str().unwrap()),
    )
    .await;
    let events: Vec<&str> = mine
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["schedule_exception.created", "admin.signed_in"]);

    let (s, v) = call(&app, "GET", &admin("/audit?limit=0"), None, Some(&key)).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_limit"));
    let (s, v) = call(
        &app,
        "GET",
        &admin("/audit?from=yesterday"),
        None,
        Some(&key),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_from"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn keys_are_shown_once_rotated_and_revoked_and_an_owner_remains(pool: PgPool) {
    let (app, key) = setup(pool, &[]).await;

    // The seeded key is the only owner credential: revoking it would lock the tenant out.
    let (_, keys) = call(&app, "GET", &admin("/keys"), None, Some(&key)).await;
    let keys = keys.as_array().unwrap().clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["prefix"], &key[..8]);
    assert!(
        keys[0].get("key").is_none(),
        "a listing never shows the secret"
    );
    let seeded = keys[0]["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &app,
        "DELETE",
        &admin(&format!("/keys/{seeded}")),
        None,
        Some(&key),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "last_owner"));

    // A staff key for a machine: shown once; it works, and it is marked used.
    let (s, issued) = call(
        &app,
        "POST",
        &admin("/keys"),
        Some(&json!({"name": "sync"}).to_string()),
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["role"], "staff");
    let machine = issued["key"].as_str().unwrap().to_string();
    let machine_id = issued["id"].as_str().unwrap().to_string();
    let (s, _) = call(&app, "GET", &admin("/resources"), None, Some(&machine)).await;
    assert_eq!(s, StatusCode::OK);
    let (_, keys) = call(&app, "GET", &admin("/keys"), None, Some(&key)).await;
    let listed = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == machine_id.as_str())
        .unwrap()
        .clone();
    assert!(listed["last_used_at"].is_string(), "{listed}");

    // Rotation: a new key with the same name and role; the old one stops at once.
    let (s, rotated) = call(
        &app,
        "POST",
        &admin(&format!("/keys/{machine_id}/rotate")),
        None,
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rotated}");
    assert_eq!(
        (rotated["name"].as_str(), rotated["role"].as_str()),
        (Some("sync"), Some("staff"))
    );
    let (s, _) = call(&app, "GET", &admin("/resources"), None, Some(&machine)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        &app,
        "GET",
        &admin("/resources"),
        None,
        rotated["key"].as_str(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = call(
        &app,
        "POST",
        &admin(&format!("/keys/{machine_id}/rotate")),
        None,
        Some(&key),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "key_not_found"));

    // With an owner person, the seeded key may go; then that person is the last owner.
    let owner = add_user(&app, &key, "owner@clinic.example", "owner", OWNER_PASSWORD).await;
    let session = token(&app, "owner@clinic.example", OWNER_PASSWORD).await;
    let (s, v) = call(
        &app,
        "DELETE",
        &admin(&format!("/keys/{seeded}")),
        None,
        Some(&session),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["revoked_at"].is_string());
    let (s, _) = call(&app, "GET", &admin("/keys"), None, Some(&key)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let owner_id = owner["id"].as_str().unwrap();
    for change in [json!({"role": "staff"}), json!({"disabled": true})] {
        let (s, v) = call(
            &app,
            "PATCH",
            &admin(&format!("/users/{owner_id}")),
            Some(&change.to_string()),
            Some(&session),
        )
        .await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::CONFLICT, "last_owner"),
            "{change}"
        );
    }
    let (s, v) = call(
        &app,
        "DELETE",
        &admin(&format!("/users/{owner_id}")),
        None,
        Some(&session),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "last_owner"));

    // A second owner: now the first may be disabled, and their session ends with it.
    let second = add_user(
        &app,
        &session,
        "second@clinic.example",
        "owner",
        STAFF_PASSWORD,
    )
    .await;
    let second_session = token(&app, "second@clinic.example", STAFF_PASSWORD).await;
    let (s, v) = call(
        &app,
        "PATCH",
        &admin(&format!("/users/{owner_id}")),
        Some(&json!({"disabled": true}).to_string()),
        Some(&second_session),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["disabled"], true);
    let (s, _) = call(&app, "GET", &admin("/me"), None, Some(&session)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = sign_in(&app, "owner@clinic.example", OWNER_PASSWORD).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "bad_credentials"));
    assert_eq!(second["role"], "owner");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_credential_of_another_tenant_is_refused(pool: PgPool) {
    let (app, key) = setup(pool, &[]).await;
    add_user(&app, &key, "owner@clinic.example", "owner", OWNER_PASSWORD).await;
    let session = token(&app, "owner@clinic.example", OWNER_PASSWORD).await;
    let other = "/api/admin/tenants/00000000-0000-4000-8000-000000000099/me";
    let (s, v) = call(&app, "GET", other, None, Some(&session)).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "wrong_tenant"));
    // A made-up session token is not a session.
    let (s, _) = call(
        &app,
        "GET",
        &admin("/me"),
        None,
        Some("gms_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../../migrations")]
async fn sign_in_attempts_have_a_budget(pool: PgPool) {
    let (app, key) = setup(pool, &[("BUDGET_SIGN_INS_PER_IP", "3")]).await;
    add_user(&app, &key, "owner@clinic.example", "owner", OWNER_PASSWORD).await;
    let from = |password: &str| {
        let body = json!({"email": "owner@clinic.example", "password": password}).to_string();
        let mut req = Request::post("/api/admin/sign-in")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    };
    for _ in 0..3 {
        let res = app.clone().oneshot(from("a wrong guess!!")).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Over the budget, even the right password waits.
    let res = app.clone().oneshot(from(OWNER_PASSWORD)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address is not held back.
    let (s, _) = sign_in(&app, "owner@clinic.example", OWNER_PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
}
