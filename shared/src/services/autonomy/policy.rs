//! The policy engine over Postgres: loads the rules for an action and decides with
//! [`crate::domain::policy::evaluate`] (default deny). Every decision is audited.

use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{audit, policy as q};
use crate::domain::policy::{evaluate, Decision, Rule};

/// Decides whether `action` may run for `tenant` in `context`, and writes the decision
/// (allow or deny) to the audit log in the caller's transaction.
pub async fn decide(
    conn: &mut PgConnection,
    tenant: Uuid,
    action: &str,
    context: &Value,
    subject: Option<String>,
) -> Result<Decision, sqlx::Error> {
    let rules = q::rules_for(&mut *conn, tenant, action).await?;
    let (decision, entry) = judge(&rules, tenant, action, context, subject);
    audit::record(conn, entry).await?;
    Ok(decision)
}

/// The decision on `action` under `rules` (loaded by the caller, e.g. once for the several
/// decisions of one event) and the audit row that records it, for the caller to write in
/// its transaction.
pub fn judge(
    rules: &[Rule],
    tenant: Uuid,
    action: &str,
    context: &Value,
    subject: Option<String>,
) -> (Decision, audit::AuditEntry<'static>) {
    let decision = evaluate(rules, tenant, action, context);
    let entry = audit::AuditEntry {
        tenant_id: Some(tenant),
        event_type: if decision.allowed() {
            "policy.allowed"
        } else {
            "policy.denied"
        },
        entity_type: "policy",
        entity_id: subject,
        actor: "policy_engine",
        payload: json!({
            "action": action,
            "effect": decision.effect,
            "rule_id": decision.rule_id,
            "reason": decision.reason,
            "context": context,
        }),
    };
    (decision, entry)
}

// --- the tenant's own rules, managed by its staff ---------------------------------------

/// The context fields a rule's conditions may name (each also as `min_<field>` and
/// `max_<field>`); the values the engine puts in the context of its decisions.
pub const CONDITION_FIELDS: &[&str] = &[
    "event_type",
    "channel",
    "hours_until_start",
    "rescheduled",
    "operation",
    "error_kind",
    "attempts",
    "no_shows",
    "phase",
    "attempt",
    "reminder",
];

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no such rule of this tenant (global rules are read-only)")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A rule as an admin writes it.
pub struct PolicyDraft<'a> {
    pub action: &'a str,
    pub effect: &'a str,
    pub conditions: &'a serde_json::Map<String, Value>,
    pub priority: i32,
    pub enabled: bool,
    pub description: &'a str,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Checks a draft against the tools and events that exist.
fn check(d: &PolicyDraft<'_>) -> Result<crate::domain::policy::Effect, PolicyError> {
    use crate::services::autonomy::jobs::Tool;
    if Tool::parse(d.action).is_none() {
        let names: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
        return Err(invalid(
            "action",
            format!("must be one of {}", names.join(", ")),
        ));
    }
    let effect = crate::domain::policy::Effect::parse(d.effect)
        .ok_or_else(|| invalid("effect", "must be allow or deny"))?;
    if !(-1000..=1000).contains(&d.priority) {
        return Err(invalid("priority", "must be -1000 to 1000"));
    }
    if d.description.chars().count() > 500 || d.description.chars().any(char::is_control) {
        return Err(invalid(
            "description",
            "must be at most 500 printable characters",
        ));
    }
    if d.conditions.len() > 20 {
        return Err(invalid("conditions", "may have at most 20 entries"));
    }
    for (key, want) in d.conditions {
        let (field, bound) = match key
            .strip_prefix("min_")
            .or_else(|| key.strip_prefix("max_"))
        {
            Some(f) => (f, true),
            None => (key.as_str(), false),
        };
        if !CONDITION_FIELDS.contains(&field) {
            return Err(invalid(
                "conditions",
                format!(
                    "{key:?} names no field of the context; fields: {} (and min_/max_ of each)",
                    CONDITION_FIELDS.join(", ")
                ),
            ));
        }
        let scalar = want.is_number() || want.is_string() || want.is_boolean();
        if !scalar || (bound && !(want.is_number() || want.is_string())) {
            return Err(invalid(
                "conditions",
                format!("{key:?} must be a number, a string or a boolean (min_/max_: a number or a string)"),
            ));
        }
        if field == "event_type" && !bound {
            let name = want.as_str().unwrap_or_default();
            if !crate::domain::events::EVENT_NAMES.contains(&name) {
                return Err(invalid(
                    "conditions",
                    format!(
                        "event_type {want} is not one of {}",
                        crate::domain::events::EVENT_NAMES.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(effect)
}

pub async fn list_rules(
    pool: &sqlx::PgPool,
    tenant: Uuid,
) -> Result<Vec<q::PolicyRow>, PolicyError> {
    Ok(q::list_admin(pool, tenant).await?)
}

/// Creates (`id` None), replaces or deletes (`draft` None) one of the tenant's rules.
pub async fn write_rule(
    pool: &sqlx::PgPool,
    tenant: Uuid,
    id: Option<Uuid>,
    draft: Option<&PolicyDraft<'_>>,
) -> Result<q::PolicyRow, PolicyError> {
    let checked = draft.map(|d| check(d).map(|e| (d, e))).transpose()?;
    let input = checked.map(|(d, effect)| q::PolicyInput {
        action: d.action,
        effect,
        conditions: d.conditions,
        priority: d.priority,
        enabled: d.enabled,
        description: d.description.trim(),
    });
    let mut tx = pool.begin().await?;
    let (row, event) = match (id, &input) {
        (None, Some(p)) => (q::insert_admin(&mut tx, tenant, p).await?, "policy.created"),
        (Some(id), Some(p)) => (
            q::update_admin(&mut tx, tenant, id, p)
                .await?
                .ok_or(PolicyError::NotFound)?,
            "policy.updated",
        ),
        (Some(id), None) => (
            q::delete_admin(&mut tx, tenant, id)
                .await?
                .ok_or(PolicyError::NotFound)?,
            "policy.deleted",
        ),
        (None, None) => return Err(PolicyError::NotFound),
    };
    crate::services::admin::audit_admin(
        &mut tx,
        tenant,
        event,
        "policy_rule",
        row.id,
        json!({"action": row.action, "effect": row.effect, "conditions": row.conditions,
               "priority": row.priority, "enabled": row.enabled}),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}
