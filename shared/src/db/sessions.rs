//! Issued chat sessions (`issued_sessions`) and the tenants' widget origins.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// Records a session issued for `tenant`.
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO issued_sessions (id, tenant_id) VALUES ($1, $2)")
        .bind(id)
        .bind(tenant)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether `id` was issued for `tenant`; marks it seen now when it was.
pub async fn touch(pool: &PgPool, tenant: Uuid, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE issued_sessions SET last_seen_at = now() WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(tenant)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// The tenant's widget origins; `None` when the tenant does not exist.
pub async fn widget_origins(
    pool: &PgPool,
    tenant: Uuid,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    sqlx::query_scalar("SELECT widget_origins FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_optional(pool)
        .await
}

/// Replaces the tenant's widget origins; false when the tenant does not exist.
pub async fn set_widget_origins(
    pool: &PgPool,
    tenant: Uuid,
    origins: &[String],
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE tenants SET widget_origins = $2, updated_at = now() WHERE id = $1")
        .bind(tenant)
        .bind(origins)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Sets the tenant's widget origins while its list is empty or still the `{*}` that
/// tenants created before widget origins existed were given (a list an admin set is kept).
pub async fn seed_widget_origins<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    origins: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tenants SET widget_origins = $2 WHERE id = $1 AND widget_origins IN ('{}'::text[], '{*}'::text[])",
    )
    .bind(tenant)
    .bind(origins)
    .execute(db)
    .await?;
    Ok(())
}

/// How many sessions were issued for the tenant, and the latest one (for `gomomo status` and
/// the socket tests).
pub async fn issued_summary(
    pool: &PgPool,
    tenant: Uuid,
) -> Result<(i64, Option<String>), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), (SELECT id FROM issued_sessions WHERE tenant_id = $1
                            ORDER BY created_at DESC LIMIT 1)
           FROM issued_sessions WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await
}
