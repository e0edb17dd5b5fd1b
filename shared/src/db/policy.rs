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
