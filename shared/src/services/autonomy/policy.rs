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
