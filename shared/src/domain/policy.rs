//! The policy engine's rule: default deny. Pure; the rows come from `policy_rules`.
//!
//! - only rules for the action count; tenant rules are consulted before global ones and,
//!   within each scope, higher `priority` first (ties: the older rule id order is stable);
//! - the first rule whose conditions all hold decides (`allow` or `deny`);
//! - no rule holds: **deny**.
//!
//! Conditions are a JSON object matched against the decision context: `{"k": v}` means
//! `context.k == v`; `{"min_k": n}` means `context.k >= n`; `{"max_k": n}` means
//! `context.k <= n`. A missing context key never matches (fails closed).

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Self::Allow),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: Uuid,
    /// `None` for a global rule.
    pub tenant_id: Option<Uuid>,
    pub action: String,
    pub effect: Effect,
    pub conditions: Map<String, Value>,
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub action: String,
    pub effect: Effect,
    /// The rule that decided; `None` means default deny.
    pub rule_id: Option<Uuid>,
    pub reason: String,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.effect == Effect::Allow
    }
}

/// Evaluates `action` for `tenant` against `rules` (any order, any tenants: the others are
/// ignored).
pub fn evaluate(rules: &[Rule], tenant: Uuid, action: &str, context: &Value) -> Decision {
    let mut candidates: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.action == action && r.tenant_id.is_none_or(|t| t == tenant))
        .collect();
    candidates.sort_by(|a, b| {
        b.tenant_id
            .is_some()
            .cmp(&a.tenant_id.is_some())
            .then(b.priority.cmp(&a.priority))
            .then(a.id.cmp(&b.id))
    });
    for rule in candidates {
        if conditions_hold(&rule.conditions, context) {
            let scope = if rule.tenant_id.is_some() {
                "tenant"
            } else {
                "global"
            };
            return Decision {
                action: action.to_string(),
                effect: rule.effect,
                rule_id: Some(rule.id),
                reason: format!("{scope} rule (priority {})", rule.priority),
            };
        }
    }
    Decision {
        action: action.to_string(),
        effect: Effect::Deny,
        rule_id: None,
        reason: "default deny: no matching rule".into(),
    }
}

/// True when every condition holds for `context`.
pub fn conditions_hold(conditions: &Map<String, Value>, context: &Value) -> bool {
    conditions.iter().all(|(key, want)| {
        if let Some(field) = key.strip_prefix("min_") {
            compare(context.get(field), want).is_some_and(|o| o.is_ge())
        } else if let Some(field) = key.strip_prefix("max_") {
            compare(context.get(field), want).is_some_and(|o| o.is_le())
        } else {
            context.get(key).is_some_and(|got| equal(got, want))
        }
    })
}

fn equal(got: &Value, want: &Value) -> bool {
    match (got.as_f64(), want.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => got == want,
    }
}

/// Numbers compare numerically; RFC 3339 strings (or any strings) lexically.
fn compare(got: Option<&Value>, want: &Value) -> Option<std::cmp::Ordering> {
    let got = got?;
    match (got.as_f64(), want.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => match (got.as_str(), want.as_str()) {
            (Some(a), Some(b)) => Some(a.cmp(b)),
            _ => None,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(tenant: Option<Uuid>, action: &str, effect: Effect, cond: Value, prio: i32) -> Rule {
        Rule {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            action: action.into(),
            effect,
            conditions: cond.as_object().unwrap().clone(),
            priority: prio,
        }
    }

    #[test]
    fn no_rule_is_deny() {
        let t = Uuid::new_v4();
        let d = evaluate(&[], t, "send_reminder", &json!({}));
        assert_eq!(d.effect, Effect::Deny);
        assert!(d.rule_id.is_none());
        // A rule for another action or another tenant does not count.
        let other = rule(
            Some(Uuid::new_v4()),
            "send_reminder",
            Effect::Allow,
            json!({}),
            9,
        );
        let wrong_action = rule(None, "send_confirmation", Effect::Allow, json!({}), 0);
        assert!(!evaluate(&[other, wrong_action], t, "send_reminder", &json!({})).allowed());
    }

    #[test]
    fn tenant_rules_beat_global_ones_then_priority() {
        let t = Uuid::new_v4();
        let global = rule(None, "send_reminder", Effect::Allow, json!({}), 100);
        let tenant_deny = rule(Some(t), "send_reminder", Effect::Deny, json!({}), 0);
        let d = evaluate(
            &[global.clone(), tenant_deny.clone()],
            t,
            "send_reminder",
            &json!({}),
        );
        assert_eq!(d.effect, Effect::Deny);
        assert_eq!(d.rule_id, Some(tenant_deny.id));
        // Another tenant still gets the global allow.
        assert!(evaluate(
            &[global.clone(), tenant_deny],
            Uuid::new_v4(),
            "send_reminder",
            &json!({})
        )
        .allowed());
        // Within a scope, higher priority first.
        let low = rule(None, "x", Effect::Deny, json!({}), 1);
        let high = rule(None, "x", Effect::Allow, json!({}), 2);
        assert!(evaluate(&[low, high], t, "x", &json!({})).allowed());
    }

    #[test]
    fn conditions_equality_min_max() {
        let c =
            json!({"channel": "email", "min_hours_until_start": 2, "max_hours_until_start": 48});
        let c = c.as_object().unwrap();
        assert!(conditions_hold(
            c,
            &json!({"channel": "email", "hours_until_start": 24})
        ));
        assert!(conditions_hold(
            c,
            &json!({"channel": "email", "hours_until_start": 2.0})
        ));
        assert!(!conditions_hold(
            c,
            &json!({"channel": "sms", "hours_until_start": 24})
        ));
        assert!(!conditions_hold(
            c,
            &json!({"channel": "email", "hours_until_start": 1.5})
        ));
        assert!(!conditions_hold(
            c,
            &json!({"channel": "email", "hours_until_start": 49})
        ));
        // Missing keys fail closed.
        assert!(!conditions_hold(c, &json!({"channel": "email"})));
        // A rule whose conditions fail is skipped, the next one decides.
        let t = Uuid::new_v4();
        let cond = rule(
            Some(t),
            "send_reminder",
            Effect::Allow,
            json!({"min_hours_until_start": 2}),
            5,
        );
        assert!(evaluate(
            std::slice::from_ref(&cond),
            t,
            "send_reminder",
            &json!({"hours_until_start": 3})
        )
        .allowed());
        assert!(!evaluate(
            &[cond],
            t,
            "send_reminder",
            &json!({"hours_until_start": 1})
        )
        .allowed());
    }
}
