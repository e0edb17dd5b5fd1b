//! SMS tables: the opt-out ledger, inbound MessageSid dedup, pending two-step actions and the
//! outbound rate limit per tenant and phone.
//!
//! The opt-out ledger holds no numbers: each is keyed by `phone_digest(number)` (SHA-256 of
//! the deployment's pepper and the E.164 number, defined by the migrations), so an opt-out
//! outlives the erasure of the client's data.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::bookings::{AppointmentRow, APPT_COLS};

/// Records a consent change (STOP-class keyword → opted out; START-class → back in), both in
/// the current ledger and in its history.
pub async fn set_opt_out(
    pool: &PgPool,
    tenant_id: Uuid,
    phone: &str,
    opted_out: bool,
    keyword: &str,
    message_sid: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO sms_opt_outs (tenant_id, phone_hash, opted_out, keyword, updated_at)
         VALUES ($1, phone_digest($2), $3, $4, $5)
         ON CONFLICT (tenant_id, phone_hash) DO UPDATE
           SET opted_out = EXCLUDED.opted_out, keyword = EXCLUDED.keyword, updated_at = EXCLUDED.updated_at",
    )
    .bind(tenant_id)
    .bind(phone)
    .bind(opted_out)
    .bind(keyword)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO sms_opt_out_events (tenant_id, phone_hash, opted_out, keyword, message_sid, created_at)
         VALUES ($1, phone_digest($2), $3, $4, $5, $6)",
    )
    .bind(tenant_id)
    .bind(phone)
    .bind(opted_out)
    .bind(keyword)
    .bind(message_sid)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// True when the number opted out of this tenant's messages.
pub async fn is_opted_out(
    pool: &PgPool,
    tenant_id: Uuid,
    phone: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, bool>(
        "SELECT opted_out FROM sms_opt_outs WHERE tenant_id = $1 AND phone_hash = phone_digest($2)",
    )
    .bind(tenant_id)
    .bind(phone)
    .fetch_optional(pool)
    .await?
    .unwrap_or(false))
}

/// True when the number opted out of any tenant (for a send whose tenant is unknown).
pub async fn is_opted_out_anywhere(pool: &PgPool, phone: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sms_opt_outs WHERE phone_hash = phone_digest($1) AND opted_out)",
    )
        .bind(phone)
        .fetch_one(pool)
        .await
}

/// Claims a MessageSid; false when it was already seen (a duplicate webhook).
pub async fn claim_inbound(
    pool: &PgPool,
    message_sid: &str,
    tenant_id: Option<Uuid>,
    from: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "INSERT INTO sms_inbound_messages (message_sid, tenant_id, from_number, action, received_at)
         VALUES ($1, $2, $3, 'processing', $4) ON CONFLICT (message_sid) DO NOTHING",
    )
    .bind(message_sid)
    .bind(tenant_id)
    .bind(from)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn finish_inbound(
    pool: &PgPool,
    message_sid: &str,
    action: &str,
    reply: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sms_inbound_messages SET action = $2, reply = $3 WHERE message_sid = $1")
        .bind(message_sid)
        .bind(action)
        .bind(reply)
        .execute(pool)
        .await?;
    Ok(())
}

/// Forgets a claim whose processing failed, so Twilio's retry can act.
pub async fn release_inbound(pool: &PgPool, message_sid: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM sms_inbound_messages WHERE message_sid = $1 AND action = 'processing'",
    )
    .bind(message_sid)
    .execute(pool)
    .await?;
    Ok(())
}

/// The stored (action, reply) of a message seen before.
pub async fn inbound(
    pool: &PgPool,
    message_sid: &str,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT action, reply FROM sms_inbound_messages WHERE message_sid = $1")
        .bind(message_sid)
        .fetch_optional(pool)
        .await
}

pub async fn set_pending(
    pool: &PgPool,
    tenant_id: Uuid,
    phone: &str,
    action: &str,
    reference: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sms_pending_actions (tenant_id, phone, action, reference, expires_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, phone) DO UPDATE
           SET action = EXCLUDED.action, reference = EXCLUDED.reference, expires_at = EXCLUDED.expires_at",
    )
    .bind(tenant_id)
    .bind(phone)
    .bind(action)
    .bind(reference)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes (and removes) a pending action that has not expired: (action, reference).
pub async fn take_pending(
    pool: &PgPool,
    tenant_id: Uuid,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "DELETE FROM sms_pending_actions WHERE tenant_id = $1 AND phone = $2
         RETURNING action, reference, expires_at",
    )
    .bind(tenant_id)
    .bind(phone)
    .fetch_optional(pool)
    .await?;
    Ok(row.filter(|(_, _, exp)| *exp > now).map(|(a, r, _)| (a, r)))
}

/// Counts one outbound SMS from `tenant` to `phone` and returns how many that tenant sent to
/// it in the current window (the window restarts once it is older than `window`). Each
/// tenant has its own count per phone; sends whose tenant is unknown (`None`) share one
/// count per phone. One atomic statement: two instances sending at once both see the true
/// count.
pub async fn count_send(
    conn: &mut PgConnection,
    tenant: Option<Uuid>,
    phone: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<i32, sqlx::Error> {
    // Two statements, because a send without a tenant conflicts on the partial index.
    let sql = match tenant {
        Some(_) => {
            "INSERT INTO sms_budgets AS r (tenant_id, phone, window_start, sent) VALUES ($1, $2, $3, 1)
             ON CONFLICT (tenant_id, phone) DO UPDATE SET
               sent = CASE WHEN r.window_start <= $3 - $4::interval THEN 1 ELSE r.sent + 1 END,
               window_start = CASE WHEN r.window_start <= $3 - $4::interval THEN $3 ELSE r.window_start END
             RETURNING sent"
        }
        None => {
            "INSERT INTO sms_budgets AS r (tenant_id, phone, window_start, sent) VALUES ($1, $2, $3, 1)
             ON CONFLICT (phone) WHERE tenant_id IS NULL DO UPDATE SET
               sent = CASE WHEN r.window_start <= $3 - $4::interval THEN 1 ELSE r.sent + 1 END,
               window_start = CASE WHEN r.window_start <= $3 - $4::interval THEN $3 ELSE r.window_start END
             RETURNING sent"
        }
    };
    sqlx::query_scalar(sql)
        .bind(tenant)
        .bind(phone)
        .bind(now)
        .bind(format!("{} seconds", window.num_seconds()))
        .fetch_one(conn)
        .await
}

/// The client's next live booking at this tenant made with this phone number (what a reply
/// to a reminder refers to).
pub async fn next_booking_for_phone(
    pool: &PgPool,
    tenant_id: Uuid,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<Option<AppointmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments
         WHERE tenant_id = $1 AND client_phone = $2 AND status = 'confirmed' AND upper(during) > $3
         ORDER BY lower(during) LIMIT 1"
    )))
    .bind(tenant_id)
    .bind(phone)
    .bind(now)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Sends whose tenant is unknown share one count per phone (the partial index's own
    /// conflict target), apart from every tenant's; the window restarts when it is over.
    #[sqlx::test(migrations = "../migrations")]
    async fn sends_without_a_tenant_share_one_count_per_phone(pool: PgPool) {
        let tenant = Uuid::new_v4();
        sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
            .bind(tenant)
            .execute(&pool)
            .await
            .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let now = Utc::now();
        let hour = Duration::hours(1);
        for expected in 1..=4 {
            let sent = count_send(&mut conn, None, "+15555550123", now, hour)
                .await
                .unwrap();
            assert_eq!(sent, expected);
        }
        let own = count_send(&mut conn, Some(tenant), "+15555550123", now, hour)
            .await
            .unwrap();
        assert_eq!(own, 1, "a tenant's count is its own");
        let later = count_send(&mut conn, None, "+15555550123", now + hour, hour)
            .await
            .unwrap();
        assert_eq!(later, 1, "a new window starts again");
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM sms_budgets")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, 2);
    }
}
