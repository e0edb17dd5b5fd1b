//! Privacy: the retention sweep deletes old chat messages, call transcripts and inbound SMS
//! records and keeps recent ones; one client's data is exported for one tenant only, and
//! erased everywhere in that tenant's tables (bookings kept as anonymised slots, the SMS
//! opt-out kept as a digest so the number is never texted again, audit rows kept redacted),
//! while another tenant's rows for the same person are untouched.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use gomomo::app::App;
use gomomo::db::{audit, sms};
use gomomo::domain::{PhoneE164, TenantId};
use gomomo::ports::{DeliveryError, SmsSender};
use gomomo::services::people::{Actor, Role};
use gomomo::services::privacy::{self, ClientIdentity, Requester};
use gomomo::services::sms::{SmsError, SmsGate};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{config, december_7_8am};
use uuid::Uuid;

const EMAIL: &str = "Zeb.Quortle@Example.org";
const PHONE: &str = "+15555550199";
const NAME: &str = "Zebediah Quortle";
/// Another client of tenant A, never erased.
const OTHER_EMAIL: &str = "mia@example.net";

struct Tenant {
    id: Uuid,
    service: Uuid,
    resource: Uuid,
    number: String,
}

async fn tenant(pool: &PgPool, number: &str) -> Tenant {
    let t = Tenant {
        id: Uuid::new_v4(),
        service: Uuid::new_v4(),
        resource: Uuid::new_v4(),
        number: number.into(),
    };
    sqlx::query(
        "INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'Clinic', 'America/New_York')",
    )
    .bind(t.id)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO services (id, tenant_id, name, duration_minutes) VALUES ($1, $2, 'Consult', 30)")
        .bind(t.service)
        .bind(t.id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO resources (id, tenant_id, name) VALUES ($1, $2, 'Dr A')")
        .bind(t.resource)
        .bind(t.id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO tenant_phone_numbers (phone_number, tenant_id) VALUES ($1, $2)")
        .bind(number)
        .bind(t.id)
        .execute(pool)
        .await
        .unwrap();
    t
}

/// Everything a client leaves behind at a tenant: a chat, two bookings (one cancelled, on
/// the same slot), a waitlist entry, a follow-up, a sent and a queued notification, a job,
/// a call with its transcript, a handoff link, an inbound text, a pending SMS action, an SMS
/// budget, an opt-out (when `opted_out`), audit rows and an event. Returns the booking ids.
async fn footprint(
    pool: &PgPool,
    t: &Tenant,
    email: &str,
    phone: &str,
    name: &str,
    opted_out: bool,
    slot: DateTime<Utc>,
) -> Vec<Uuid> {
    let session = format!("s-{}", Uuid::new_v4().simple());
    sqlx::query("INSERT INTO chat_sessions (tenant_id, id, state) VALUES ($1, $2, $3)")
        .bind(t.id)
        .bind(&session)
        .bind(json!({"client_name": name, "client_email": email}))
        .execute(pool)
        .await
        .unwrap();
    for (role, text) in [
        (
            "user",
            format!("I am {name}, write to {email} or call {phone}"),
        ),
        ("assistant", format!("Thanks {name}, you are booked.")),
    ] {
        sqlx::query("INSERT INTO chat_messages (tenant_id, session_id, role, message) VALUES ($1, $2, $3, $4)")
            .bind(t.id)
            .bind(&session)
            .bind(role)
            .bind(json!({"role": role, "content": text}))
            .execute(pool)
            .await
            .unwrap();
    }
    let mut bookings = Vec::new();
    for (status, reference) in [("cancelled", "GM-CAN"), ("confirmed", "GM-LIVE")] {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO appointments (id, tenant_id, service_id, resource_id, hold_id, session_id,
                 reference, during, status, client_name, client_email, client_phone, notes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, tstzrange($8, $8 + interval '30 minutes'), $9,
                     $10, $11, $12, $13)",
        )
        .bind(id)
        .bind(t.id)
        .bind(t.service)
        .bind(t.resource)
        .bind(Uuid::new_v4())
        .bind(&session)
        .bind(format!("{reference}-{}", &id.simple().to_string()[..4]))
        .bind(slot)
        .bind(status)
        .bind(name)
        .bind(email)
        .bind(phone)
        .bind(format!("{name} prefers a call on {phone}"))
        .execute(pool)
        .await
        .unwrap();
        bookings.push(id);
    }
    let live = bookings[1];
    sqlx::query(
        "INSERT INTO waitlist_entries (id, tenant_id, session_id, service_id, client_name, client_email, client_phone)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4())
    .bind(t.id)
    .bind(&session)
    .bind(t.service)
    .bind(name)
    .bind(email)
    .bind(phone)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO followup_contacts (id, tenant_id, session_id, channel, recipient, reason)
         VALUES ($1, $2, $3, 'email', $4, 'price list')",
    )
    .bind(Uuid::new_v4())
    .bind(t.id)
    .bind(&session)
    .bind(email)
    .execute(pool)
    .await
    .unwrap();
    for (channel, recipient, status) in [("email", email, "sent"), ("sms", phone, "queued")] {
        sqlx::query(
            "INSERT INTO notification_outbox (id, tenant_id, channel, kind, recipient, subject, body,
                 status, idempotency_key, booking_id)
             VALUES ($1, $2, $3, 'confirmation', $4, $5, $6, $7, $8, $9)",
        )
        .bind(Uuid::new_v4())
        .bind(t.id)
        .bind(channel)
        .bind(recipient)
        .bind(format!("Your booking, {name}"))
        .bind(format!("Dear {name}, see you soon. Questions: {email}"))
        .bind(status)
        .bind(Uuid::new_v4().to_string())
        .bind(live)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO jobs (id, tenant_id, kind, payload, idempotency_key, booking_id, session_id)
         VALUES ($1, $2, 'send_reminder', $3, $4, $5, $6)",
    )
    .bind(Uuid::new_v4())
    .bind(t.id)
    .bind(json!({"to": email}))
    .bind(Uuid::new_v4().to_string())
    .bind(live)
    .bind(&session)
    .execute(pool)
    .await
    .unwrap();
    let call = format!("CA{}", Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO voice_calls (call_sid, tenant_id, from_number, to_number, state, context, started_at, updated_at)
         VALUES ($1, $2, $3, $4, 'done', $5, $6, $6)",
    )
    .bind(&call)
    .bind(t.id)
    .bind(phone)
    .bind(&t.number)
    .bind(json!({"client_name": name}))
    .bind(slot - Duration::days(2))
    .execute(pool)
    .await
    .unwrap();
    // The chat the call opened, with nothing in it that names the caller.
    let call_session = format!("call:{call}");
    sqlx::query("INSERT INTO chat_sessions (tenant_id, id, channel, created_at, updated_at) VALUES ($1, $2, 'voice', $3, $3)")
        .bind(t.id)
        .bind(&call_session)
        .bind(slot - Duration::days(2))
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO chat_messages (tenant_id, session_id, role, message, created_at)
         VALUES ($1, $2, 'user', '{\"content\": \"tuesday afternoon\"}', $3)",
    )
    .bind(t.id)
    .bind(&call_session)
    .bind(slot - Duration::days(2))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO voice_call_turns (call_sid, seq, speaker, text, state, created_at)
         VALUES ($1, 1, 'caller', $2, 'done', $3)",
    )
    .bind(&call)
    .bind(format!("this is {name}, my email is {email}"))
    .bind(slot - Duration::days(2))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO handoff_tokens (id, tenant_id, purpose, call_sid, phone, context, created_at, expires_at)
         VALUES ($1, $2, 'voice_handoff', $3, $4, $5, $6, $6 + interval '15 minutes')",
    )
    .bind(Uuid::new_v4().simple().to_string())
    .bind(t.id)
    .bind(&call)
    .bind(phone)
    .bind(json!({"client_name": name, "client_email": email}))
    .bind(slot - Duration::days(2))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sms_inbound_messages (message_sid, tenant_id, from_number, action, reply, received_at)
         VALUES ($1, $2, $3, 'confirmed', 'Thanks, see you then', $4)",
    )
    .bind(format!("SM{}", Uuid::new_v4().simple()))
    .bind(t.id)
    .bind(phone)
    .bind(slot - Duration::days(1))
    .execute(pool)
    .await
    .unwrap();
    sms::set_pending(pool, t.id, phone, "cancel", "GM-LIVE", slot)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sms::count_send(&mut conn, Some(t.id), phone, slot, Duration::hours(1))
        .await
        .unwrap();
    if opted_out {
        sms::set_opt_out(pool, t.id, phone, true, "STOP", None, slot)
            .await
            .unwrap();
    }
    audit::record(
        &mut conn,
        audit::AuditEntry {
            tenant_id: Some(t.id),
            event_type: "booking.created",
            entity_type: "appointment",
            entity_id: Some(live.to_string()),
            actor: "client",
            payload: json!({"reference": "GM-LIVE", "channel": "chat"}),
        },
    )
    .await
    .unwrap();
    // A row written before names were kept out of free text.
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, event_type, entity_type, entity_id, actor, payload)
         VALUES ($1, 'booking.note', 'appointment', $2, 'admin', $3)",
    )
    .bind(t.id)
    .bind(live.to_string())
    .bind(json!({"summary": format!("{name} booked"), "count": 3}))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO outbox (id, tenant_id, event_type, payload) VALUES ($1, $2, 'Note', $3)",
    )
    .bind(Uuid::new_v4())
    .bind(t.id)
    .bind(json!({"detail": {"text": format!("from {email}")}}))
    .execute(pool)
    .await
    .unwrap();
    bookings
}

/// One send counted and one text received for `phone` through a number no tenant owns.
async fn no_tenant_texts(pool: &PgPool, phone: &str, at: DateTime<Utc>) {
    let mut conn = pool.acquire().await.unwrap();
    sms::count_send(&mut conn, None, phone, at, Duration::hours(1))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO sms_inbound_messages (message_sid, tenant_id, from_number, action, reply, received_at)
         VALUES ($1, NULL, $2, 'unknown_number', NULL, $3)",
    )
    .bind(format!("SM{}", Uuid::new_v4().simple()))
    .bind(phone)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
}

/// Tables and their text-like columns (text, varchar, jsonb, text arrays).
async fn text_columns(pool: &PgPool) -> Vec<(String, String, bool)> {
    sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text,
                EXISTS (SELECT 1 FROM information_schema.columns k
                         WHERE k.table_schema = 'public' AND k.table_name = c.table_name
                           AND k.column_name = 'tenant_id')
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
          WHERE c.table_schema = 'public' AND c.table_name <> '_sqlx_migrations'
            AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
          ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Where `needle` (case-insensitive) still appears in `tenant`'s rows: "table.column" each.
async fn occurrences(pool: &PgPool, tenant: Uuid, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column, has_tenant) in text_columns(pool).await {
        let scope = if has_tenant {
            // Rows of no tenant (texts to or from a number no tenant owns) count as everyone's.
            "(tenant_id = $2 OR tenant_id IS NULL)".to_string()
        } else if table == "voice_call_turns" {
            "call_sid IN (SELECT call_sid FROM voice_calls WHERE tenant_id = $2)".to_string()
        } else {
            "$2::uuid IS NOT NULL".to_string()
        };
        let sql = format!(
            "SELECT count(*) FROM {table} WHERE {scope} AND strpos(lower({column}::text), lower($1)) > 0"
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(needle)
            .bind(tenant)
            .fetch_one(pool)
            .await
            .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column} ({n})"));
        }
    }
    found
}

/// A digest of every row of `tenant` in every table (and of its calls' transcripts).
async fn snapshot(pool: &PgPool, tenant: Uuid) -> Vec<(String, Option<String>)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT table_name::text FROM information_schema.columns
          WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let sql = format!(
            "SELECT md5(string_agg(r::text, '|' ORDER BY r::text)) FROM {table} r WHERE tenant_id = $1"
        );
        let d: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_one(pool)
            .await
            .unwrap();
        out.push((table, d));
    }
    let turns: Option<String> = sqlx::query_scalar(
        "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM voice_call_turns t
          WHERE call_sid IN (SELECT call_sid FROM voice_calls WHERE tenant_id = $1)",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await
    .unwrap();
    out.push(("voice_call_turns".into(), turns));
    out
}

fn requester() -> Requester {
    Requester {
        tenant: Uuid::nil(),
        role: Role::Owner,
        actor: Actor::Key {
            id: Uuid::from_u128(7),
            prefix: "gmk_test".into(),
            name: String::new(),
        },
    }
}

/// Counts what reaches the provider.
#[derive(Default)]
struct CountingSms(AtomicUsize);

#[async_trait]
impl SmsSender for CountingSms {
    async fn send_sms(
        &self,
        _from: Option<&str>,
        _to: &PhoneE164,
        _body: &str,
    ) -> Result<String, DeliveryError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok("SM1".into())
    }
}

fn gate(pool: &PgPool, sender: Arc<CountingSms>) -> SmsGate {
    SmsGate::new(
        pool.clone(),
        sender,
        Clock::fixed(december_7_8am()),
        100,
        std::time::Duration::from_secs(60),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn erasure_leaves_no_trace_of_the_client_in_the_tenant_and_keeps_the_slots(pool: PgPool) {
    let now = december_7_8am();
    let a = tenant(&pool, "+18005550101").await;
    let b = tenant(&pool, "+18005550102").await;
    let slot = now + Duration::days(3);
    let a_bookings = footprint(&pool, &a, EMAIL, PHONE, NAME, true, slot).await;
    footprint(
        &pool,
        &a,
        OTHER_EMAIL,
        "+15555550111",
        "Mia Lund",
        false,
        slot + Duration::hours(2),
    )
    .await;
    footprint(&pool, &b, EMAIL, PHONE, NAME, false, slot).await;
    // Texts through a number no tenant owns: counted and recorded with no tenant.
    for number in [PHONE, "+15555550111"] {
        no_tenant_texts(&pool, number, slot).await;
    }
    let b_before = snapshot(&pool, b.id).await;
    let a_id = a.id;
    let slots = |pool: PgPool| async move {
        sqlx::query_as::<_, (Uuid, String, String, Uuid, DateTime<Utc>, DateTime<Utc>)>(
            "SELECT id, reference, status, resource_id, lower(during), upper(during) FROM appointments
              WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(a_id)
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let slots_before = slots(pool.clone()).await;
    for needle in [EMAIL, PHONE, NAME] {
        assert!(
            !occurrences(&pool, a.id, needle).await.is_empty(),
            "{needle} is there before"
        );
    }

    // Named by the email alone: the phone on their bookings comes along.
    let who = ClientIdentity::parse(Some(EMAIL), None).unwrap();
    let counts = privacy::erase(&pool, TenantId(a.id), &who, &requester(), now)
        .await
        .unwrap();
    assert_eq!(counts.bookings_anonymised, 2, "{counts:?}");
    assert_eq!(counts.chat_sessions_deleted, 2, "{counts:?}");
    assert_eq!(counts.calls_deleted, 1, "{counts:?}");
    assert_eq!(counts.opt_outs_kept, 1, "{counts:?}");

    for needle in [EMAIL, PHONE, PHONE.trim_start_matches('+'), NAME, "Quortle"] {
        let left = occurrences(&pool, a.id, needle).await;
        assert!(left.is_empty(), "{needle:?} is still in {left:?}");
    }
    // The other client of the tenant is still there, with the texts of no tenant.
    assert!(!occurrences(&pool, a.id, OTHER_EMAIL).await.is_empty());
    let kept_no_tenant: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'budget', phone FROM sms_budgets WHERE tenant_id IS NULL
         UNION ALL SELECT 'inbound', from_number FROM sms_inbound_messages WHERE tenant_id IS NULL
         ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        kept_no_tenant,
        [
            ("budget".to_string(), "+15555550111".to_string()),
            ("inbound".to_string(), "+15555550111".to_string())
        ]
    );
    assert!(!occurrences(&pool, a.id, "Mia Lund").await.is_empty());
    // The same person at another tenant: untouched, row for row.
    assert_eq!(snapshot(&pool, b.id).await, b_before);

    // The schedule is the same: every booking keeps its slot, status and reference.
    assert_eq!(slots(pool.clone()).await, slots_before);
    let live: (String, String, Option<String>) = sqlx::query_as(
        "SELECT client_name, client_email, client_phone FROM appointments WHERE id = $1",
    )
    .bind(a_bookings[1])
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        live,
        ("[erased]".into(), "erased@erased.invalid".into(), None)
    );
    let pending_jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE tenant_id = $1 AND booking_id = ANY($2) AND status = 'pending'",
    )
    .bind(a.id)
    .bind(&a_bookings)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        pending_jobs, 0,
        "no reminder goes out for an erased booking"
    );

    // The audit rows stay, redacted; the erasure is audited with who asked and counts only.
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND entity_id = $2",
    )
    .bind(a.id)
    .bind(a_bookings[1].to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(kept, 2);
    let number_kept: Value = sqlx::query_scalar(
        "SELECT payload FROM audit_log WHERE tenant_id = $1 AND event_type = 'booking.note'",
    )
    .bind(a.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(number_kept["summary"], "[ERASED] booked");
    let (actor, payload): (String, Value) = sqlx::query_as(
        "SELECT actor, payload FROM audit_log WHERE tenant_id = $1 AND event_type = 'privacy.client_erased'",
    )
    .bind(a.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor, format!("admin_key:{}", Uuid::from_u128(7)));
    assert_eq!(payload["key_prefix"], "gmk_test");
    assert_eq!(payload["erased"]["bookings_anonymised"], 2);

    // Again: nothing more to change, one more audit row.
    let again = privacy::erase(&pool, TenantId(a.id), &who, &requester(), now)
        .await
        .unwrap();
    assert_eq!(again.bookings_anonymised, 0, "{again:?}");
    assert_eq!(
        again.chat_sessions_deleted + again.calls_deleted,
        0,
        "{again:?}"
    );
    assert_eq!(snapshot(&pool, b.id).await, b_before);
    // The erased number is never texted again by this tenant (the digest is what is kept),
    // while the other tenant still reaches its own client.
    let sender = Arc::new(CountingSms::default());
    let g = gate(&pool, sender.clone());
    let to = PhoneE164::parse(PHONE).unwrap();
    assert!(matches!(
        g.send(TenantId(a.id), Some(&a.number), &to, "hello").await,
        Err(SmsError::OptedOut)
    ));
    assert!(matches!(
        g.send_sms(Some(&a.number), &to, "hello").await,
        Err(DeliveryError::OptedOut)
    ));
    assert_eq!(sender.0.load(Ordering::SeqCst), 0);
    g.send(TenantId(b.id), Some(&b.number), &to, "hello")
        .await
        .unwrap();
    assert_eq!(sender.0.load(Ordering::SeqCst), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_erased_number_that_never_opted_out_is_not_texted_either(pool: PgPool) {
    let now = december_7_8am();
    let a = tenant(&pool, "+18005550101").await;
    footprint(
        &pool,
        &a,
        EMAIL,
        PHONE,
        NAME,
        false,
        now + Duration::days(3),
    )
    .await;
    let sender = Arc::new(CountingSms::default());
    let g = gate(&pool, sender.clone());
    let to = PhoneE164::parse(PHONE).unwrap();
    g.send(TenantId(a.id), Some(&a.number), &to, "before")
        .await
        .unwrap();
    let who = ClientIdentity::parse(None, Some(PHONE)).unwrap();
    privacy::erase(&pool, TenantId(a.id), &who, &requester(), now)
        .await
        .unwrap();
    assert!(matches!(
        g.send(TenantId(a.id), Some(&a.number), &to, "after").await,
        Err(SmsError::OptedOut)
    ));
    assert_eq!(sender.0.load(Ordering::SeqCst), 1);
    assert!(occurrences(&pool, a.id, PHONE).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn export_returns_one_tenants_records_of_the_client(pool: PgPool) {
    let now = december_7_8am();
    let a = tenant(&pool, "+18005550101").await;
    let b = tenant(&pool, "+18005550102").await;
    let slot = now + Duration::days(3);
    let a_bookings = footprint(&pool, &a, EMAIL, PHONE, NAME, true, slot).await;
    footprint(
        &pool,
        &a,
        OTHER_EMAIL,
        "+15555550111",
        "Mia Lund",
        false,
        slot + Duration::hours(2),
    )
    .await;
    footprint(&pool, &b, EMAIL, PHONE, NAME, true, slot).await;

    // Named by the email in another case.
    let who = ClientIdentity::parse(Some(&EMAIL.to_uppercase()), None).unwrap();
    let out = privacy::export(&pool, TenantId(a.id), &who, &requester())
        .await
        .unwrap();
    let mut ids: Vec<Uuid> = out
        .bookings
        .iter()
        .map(|b| b["id"].as_str().unwrap().parse().unwrap())
        .collect();
    ids.sort();
    let mut expected = a_bookings.clone();
    expected.sort();
    assert_eq!(ids, expected);
    assert!(out.bookings.iter().all(|b| b["client_email"] == EMAIL));
    assert_eq!(out.waitlist_entries.len(), 1);
    assert_eq!(out.followups.len(), 1);
    assert_eq!(out.notifications.len(), 2, "{:?}", out.notifications);
    assert_eq!(out.chat_sessions.len(), 2, "the web chat and the call's");
    assert_eq!(
        out.chat_sessions[0]["messages"].as_array().unwrap().len(),
        2
    );
    assert_eq!(out.calls.len(), 1);
    assert_eq!(out.calls[0]["transcript"].as_array().unwrap().len(), 1);
    assert_eq!(out.sms_messages.len(), 1);
    assert_eq!(out.sms_opt_outs.len(), 1);
    assert_eq!(out.sms_opt_outs[0]["opted_out"], true);
    let text = serde_json::to_string(&out).unwrap();
    assert!(!text.contains("Mia Lund") && !text.contains(OTHER_EMAIL));

    let (actor, payload): (String, Value) = sqlx::query_as(
        "SELECT actor, payload FROM audit_log WHERE tenant_id = $1 AND event_type = 'privacy.client_exported'",
    )
    .bind(a.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor, format!("admin_key:{}", Uuid::from_u128(7)));
    assert_eq!(payload["counts"]["bookings"], 2);
    let raw = payload.to_string().to_lowercase();
    assert!(!raw.contains(&EMAIL.to_lowercase()) && !raw.contains(&PHONE[1..]));
    let b_exports: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND event_type LIKE 'privacy.%'",
    )
    .bind(b.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(b_exports, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_scheduler_purges_what_is_past_retention_and_keeps_the_rest(pool: PgPool) {
    let now = december_7_8am();
    let a = tenant(&pool, "+18005550101").await;
    let old = now - Duration::days(31);
    let recent = now - Duration::days(29);
    // An old footprint and a recent one (calls, texts and sessions dated by the slot).
    let old_bookings = footprint(&pool, &a, EMAIL, PHONE, NAME, false, old).await;
    footprint(
        &pool,
        &a,
        OTHER_EMAIL,
        "+15555550111",
        "Mia Lund",
        false,
        recent + Duration::days(2),
    )
    .await;
    sqlx::query("UPDATE chat_sessions SET updated_at = $2 WHERE tenant_id = $1 AND state->>'client_email' = $3")
        .bind(a.id)
        .bind(old)
        .bind(EMAIL)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE chat_messages SET created_at = $2 WHERE tenant_id = $1 AND message::text LIKE '%' || $3 || '%'",
    )
    .bind(a.id)
    .bind(old)
    .bind(NAME)
    .execute(&pool)
    .await
    .unwrap();
    // A live session with one old message and one recent one.
    sqlx::query("UPDATE chat_messages SET created_at = $2 WHERE tenant_id = $1 AND message::text LIKE '%Mia Lund, write%'")
        .bind(a.id)
        .bind(old)
        .execute(&pool)
        .await
        .unwrap();
    // Two issued session tokens: one unused since long ago, one used recently.
    for (id, seen) in [("gs_old_token", old), ("gs_recent_token", now)] {
        sqlx::query(
            "INSERT INTO issued_sessions (id, tenant_id, last_seen_at) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(a.id)
        .bind(seen)
        .execute(&pool)
        .await
        .unwrap();
    }

    let app = App::configured(
        config(&[("RETENTION_DAYS", "30")]),
        pool.clone(),
        Clock::fixed(now),
    );
    // A send through a number no tenant owns, counted in a window long over.
    let mut conn = pool.acquire().await.unwrap();
    sms::count_send(&mut conn, None, "+15555550133", old, Duration::hours(1))
        .await
        .unwrap();
    drop(conn);
    let tick = app.scheduler.tick().await;
    assert!(tick.errors.is_empty(), "{tick:?}");
    // 4 messages, 2 sessions, 1 call and its turn, 1 text, 1 handoff link, 1 session token,
    // 1 SMS budget window.
    assert_eq!(tick.retention_purged, 12, "{tick:?}");

    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT count(*) FROM chat_sessions").await, 2);
    assert_eq!(count("SELECT count(*) FROM chat_messages").await, 2);
    assert_eq!(count("SELECT count(*) FROM voice_calls").await, 1);
    assert_eq!(count("SELECT count(*) FROM voice_call_turns").await, 1);
    assert_eq!(count("SELECT count(*) FROM sms_inbound_messages").await, 1);
    assert_eq!(count("SELECT count(*) FROM handoff_tokens").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM issued_sessions WHERE id = 'gs_recent_token'").await,
        1
    );
    assert_eq!(count("SELECT count(*) FROM issued_sessions").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM sms_budgets WHERE phone = '+15555550133'").await,
        0
    );
    // Bookings are business records: they stay.
    assert_eq!(count("SELECT count(*) FROM appointments").await, 4);
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments WHERE id = ANY($1)")
        .bind(&old_bookings)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 2);
    // Audited as counts.
    let payload: Value = sqlx::query_scalar(
        "SELECT payload FROM audit_log WHERE event_type = 'privacy.retention_purged'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(payload["deleted"]["chat_messages"], 4);
    assert_eq!(payload["deleted"]["call_turns"], 1);
    let raw = payload.to_string();
    assert!(!raw.contains("Zeb") && !raw.contains("5555550199"));

    // Nothing more is old: the next tick purges nothing and writes no audit row.
    assert_eq!(app.scheduler.tick().await.retention_purged, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn one_pass_purges_a_bounded_batch(pool: PgPool) {
    let now = december_7_8am();
    let a = tenant(&pool, "+18005550101").await;
    sqlx::query("INSERT INTO chat_sessions (tenant_id, id) VALUES ($1, 's-live')")
        .bind(a.id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO chat_messages (tenant_id, session_id, role, message, created_at)
         SELECT $1, 's-live', 'user', '{}'::jsonb, $2 FROM generate_series(1, $3)",
    )
    .bind(a.id)
    .bind(now - Duration::days(100))
    .bind(privacy::PURGE_BATCH as i32 + 20)
    .execute(&pool)
    .await
    .unwrap();
    let first = privacy::purge(&pool, now, 90).await.unwrap();
    assert_eq!(first.chat_messages, privacy::PURGE_BATCH as u64);
    let second = privacy::purge(&pool, now, 90).await.unwrap();
    assert_eq!(second.chat_messages, 20);
    assert_eq!(second.chat_sessions, 0, "the session was used recently");
}

/// Opt-outs recorded before the ledger held digests are converted by the migration: the
/// number is gone and the opt-out still holds.
#[sqlx::test(migrations = false)]
async fn the_migration_turns_stored_numbers_into_digests(pool: PgPool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let (before, after): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|p| p.file_name().unwrap().to_string_lossy().as_ref() < "0011");
    let run = |path: std::path::PathBuf| {
        let pool = pool.clone();
        async move {
            let sql = std::fs::read_to_string(&path).unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    for f in before {
        run(f).await;
    }
    let t = Uuid::new_v4();
    sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
        .bind(t)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO sms_opt_outs (tenant_id, phone, opted_out, keyword, updated_at) VALUES ($1, $2, true, 'STOP', now())",
    )
    .bind(t)
    .bind(PHONE)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sms_opt_out_events (tenant_id, phone, opted_out, keyword, created_at) VALUES ($1, $2, true, 'STOP', now())",
    )
    .bind(t)
    .bind(PHONE)
    .execute(&pool)
    .await
    .unwrap();
    for f in after {
        run(f).await;
    }
    assert!(sms::is_opted_out(&pool, t, PHONE).await.unwrap());
    assert!(sms::is_opted_out_anywhere(&pool, PHONE).await.unwrap());
    assert!(!sms::is_opted_out(&pool, t, "+15555550100").await.unwrap());
    let raw: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM sms_opt_outs WHERE row_to_json(sms_opt_outs)::text LIKE '%5555550199%')
              + (SELECT count(*) FROM sms_opt_out_events WHERE row_to_json(sms_opt_out_events)::text LIKE '%5555550199%')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(raw, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn budget_windows_are_purged_once_over_even_under_a_short_retention(pool: PgPool) {
    let now = december_7_8am();
    let a = tenant(&pool, "+18005550101").await;
    let mut conn = pool.acquire().await.unwrap();
    for (phone, started) in [
        ("+15555550121", now - Duration::days(2)),
        ("+15555550122", now - Duration::days(8)),
    ] {
        sms::count_send(&mut conn, Some(a.id), phone, started, Duration::hours(1))
            .await
            .unwrap();
        sms::count_send(&mut conn, None, phone, started, Duration::hours(1))
            .await
            .unwrap();
    }
    drop(conn);
    // One day of retention: a window may last a week, so only the one started 8 days ago goes.
    let counts = privacy::purge(&pool, now, 1).await.unwrap();
    assert_eq!(counts.sms_budgets, 2, "{counts:?}");
    let left: Vec<String> = sqlx::query_scalar("SELECT DISTINCT phone FROM sms_budgets")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, ["+15555550121"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_old_per_phone_sms_counter_is_gone(pool: PgPool) {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('sms_rate_limits')::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(table, None);
}
