//! `policy_rules`: the rows the policy engine evaluates.

use serde_json::{Map, Value};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

use crate::domain::policy::{Effect, Rule};

#[derive(Debug, FromRow)]
struct RuleRow {
    id: Uuid,
    tenant_id: Option<Uuid>,
    action: String,
    effect: String,
    conditions: Value,
    priority: i32,
}

/// The enabled rules for `action` that apply to `tenant` (its own and the global ones).
/// A row with an unknown effect or non-object conditions is skipped (it can never allow).
pub async fn rules_for<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    action: &str,
) -> Result<Vec<Rule>, sqlx::Error> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "SELECT id, tenant_id, action, effect, conditions, priority FROM policy_rules
          WHERE enabled AND action = $1 AND (tenant_id IS NULL OR tenant_id = $2)",
    )
    .bind(action)
    .bind(tenant)
    .fetch_all(db)
    .await?;
    Ok(to_rules(rows))
}

/// Every enabled rule that applies to `tenant`, for all actions (one read for the several
/// decisions of one event; [`crate::domain::policy::evaluate`] picks the action's rules).
pub async fn rules_for_tenant<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<Rule>, sqlx::Error> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "SELECT id, tenant_id, action, effect, conditions, priority FROM policy_rules
          WHERE enabled AND (tenant_id IS NULL OR tenant_id = $1)",
    )
    .bind(tenant)
    .fetch_all(db)
    .await?;
    Ok(to_rules(rows))
}

fn to_rules(rows: Vec<RuleRow>) -> Vec<Rule> {
    rows.into_iter()
        .filter_map(|r| {
            Some(Rule {
                id: r.id,
                tenant_id: r.tenant_id,
                action: r.action,
                effect: Effect::parse(&r.effect)?,
                conditions: match r.conditions {
                    Value::Object(m) => m,
                    _ => return None,
                },
                priority: r.priority,
            })
        })
        .collect()
}

/// Adds a rule (admin and tests).
pub async fn insert_rule<'e>(
    db: impl PgExecutor<'e>,
    tenant: Option<Uuid>,
    action: &str,
    effect: Effect,
    conditions: &Map<String, Value>,
    priority: i32,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO policy_rules (id, tenant_id, action, effect, conditions, priority)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tenant)
    .bind(action)
    .bind(effect.as_str())
    .bind(Value::Object(conditions.clone()))
    .bind(priority)
    .execute(db)
    .await?;
    Ok(id)
}

/// A rule as the admin sees it (global rules included, read-only there).
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PolicyRow {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub action: String,
    pub effect: String,
    pub conditions: Value,
    pub priority: i32,
    pub enabled: bool,
    pub description: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

const POLICY_COLS: &str =
    "id, tenant_id, action, effect, conditions, priority, enabled, description, created_at";

/// The tenant's own rules and the global ones, by action, tenant rules first.
pub async fn list_admin<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<PolicyRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLS} FROM policy_rules
          WHERE tenant_id = $1 OR tenant_id IS NULL
          ORDER BY action, tenant_id IS NULL, priority DESC, id"
    )))
    .bind(tenant)
    .fetch_all(db)
    .await
}

/// What a tenant rule holds; written whole on create and change.
pub struct PolicyInput<'a> {
    pub action: &'a str,
    pub effect: Effect,
    pub conditions: &'a Map<String, Value>,
    pub priority: i32,
    pub enabled: bool,
    pub description: &'a str,
}

pub async fn insert_admin(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    p: &PolicyInput<'_>,
) -> Result<PolicyRow, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO policy_rules (id, tenant_id, action, effect, conditions, priority, enabled, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING {POLICY_COLS}"
    )))
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(p.action)
    .bind(p.effect.as_str())
    .bind(Value::Object(p.conditions.clone()))
    .bind(p.priority)
    .bind(p.enabled)
    .bind(p.description)
    .fetch_one(conn)
    .await
}

/// Replaces a tenant rule; `None` when the tenant has no such rule (global rules are not
/// the tenant's to change).
pub async fn update_admin(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    id: Uuid,
    p: &PolicyInput<'_>,
) -> Result<Option<PolicyRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE policy_rules
            SET action = $3, effect = $4, conditions = $5, priority = $6, enabled = $7,
                description = $8
          WHERE tenant_id = $1 AND id = $2
      RETURNING {POLICY_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(p.action)
    .bind(p.effect.as_str())
    .bind(Value::Object(p.conditions.clone()))
    .bind(p.priority)
    .bind(p.enabled)
    .bind(p.description)
    .fetch_optional(conn)
    .await
}

pub async fn delete_admin(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<PolicyRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM policy_rules WHERE tenant_id = $1 AND id = $2 RETURNING {POLICY_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}
