//! `gomomo status`: the messages due but not delivered, per tenant and in total — the same
//! counts as the scheduler's `UndeliveredNotifications` metric and the admin route
//! `…/delivery-health` (all read [`DeliveryHealth`]). Exit code 0 when nothing is
//! undelivered, 2 when something is (1 is left to errors), so cron jobs and monitoring
//! can run it as a check.

use std::fmt::Write as _;
use std::process::ExitCode;

use gomomo::services::delivery::health::{FAILED_WINDOW, OVERDUE_GRACE};
use gomomo::services::delivery::{DeliveryHealth, HealthReport};
use gomomo::services::Clock;
use sqlx::PgPool;

/// The exit code when something is undelivered.
pub const UNDELIVERED_EXIT: u8 = 2;

pub async fn run(pool: PgPool, clock: Clock, json: bool) -> anyhow::Result<ExitCode> {
    let report = DeliveryHealth::new(pool, clock).report().await?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(ExitCode::from(exit_code(&report)))
}

pub fn exit_code(report: &HealthReport) -> u8 {
    if report.undelivered == 0 {
        0
    } else {
        UNDELIVERED_EXIT
    }
}

/// `1h 05m`, `4m 10s`, `-` for none.
fn age(seconds: Option<i64>) -> String {
    match seconds {
        None => "-".into(),
        Some(s) if s >= 3600 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        Some(s) => format!("{}m {:02}s", s / 60, s % 60),
    }
}

/// One row per tenant with something undelivered, then the total, then what counts.
pub fn table(report: &HealthReport) -> String {
    let mut out = String::new();
    let row = |out: &mut String, cells: [&str; 7]| {
        let _ = writeln!(
            out,
            "{:<36}  {:>11}  {:>6}  {:>7}  {:>12}  {:>11}  {:>14}",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]
        );
    };
    row(
        &mut out,
        [
            "TENANT",
            "UNDELIVERED",
            "FAILED",
            "OVERDUE",
            "JOBS_OVERDUE",
            "JOBS_FAILED",
            "OLDEST_OVERDUE",
        ],
    );
    for t in &report.tenants {
        row(
            &mut out,
            [
                &t.tenant_id.to_string(),
                &t.undelivered.to_string(),
                &t.failed.to_string(),
                &t.overdue.to_string(),
                &t.jobs_overdue.to_string(),
                &t.jobs_failed.to_string(),
                &age(t.oldest_overdue_seconds),
            ],
        );
    }
    row(
        &mut out,
        ["TOTAL", &report.undelivered.to_string(), "", "", "", "", ""],
    );
    let _ = writeln!(
        out,
        "(overdue: queued or waiting more than {} min past due; failed: in the last {} h)",
        OVERDUE_GRACE.num_minutes(),
        FAILED_WINDOW.num_hours()
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gomomo::services::delivery::TenantHealth;
    use uuid::Uuid;

    #[test]
    fn nothing_undelivered_is_a_zero_total_and_exit_0() {
        let r = HealthReport::default();
        let t = table(&r);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t}");
        assert!(lines[0].starts_with("TENANT"));
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["TOTAL", "0"]
        );
        assert_eq!(exit_code(&r), 0);
    }

    #[test]
    fn a_tenant_with_something_undelivered_is_a_row_and_exit_2() {
        let id = Uuid::from_u128(7);
        let r = HealthReport {
            undelivered: 3,
            tenants: vec![TenantHealth {
                tenant_id: id,
                undelivered: 3,
                failed: 1,
                overdue: 1,
                jobs_overdue: 1,
                jobs_failed: 0,
                oldest_overdue_seconds: Some(3900),
            }],
        };
        let t = table(&r);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            [
                id.to_string().as_str(),
                "3",
                "1",
                "1",
                "1",
                "0",
                "1h",
                "05m"
            ]
        );
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["TOTAL", "3"]
        );
        assert_eq!(exit_code(&r), 2);
        assert_eq!(age(Some(250)), "4m 10s");
        assert_eq!(age(None), "-");
    }
}
