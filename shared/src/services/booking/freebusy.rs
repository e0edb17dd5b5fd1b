//! Calendar read-back for availability: the tenant calendar's busy ranges, minus the
//! bookings gomomo itself wrote there (they are already in Postgres, per resource; left in,
//! one booking would block every other resource at that time). Applied to every resource:
//! the calendar is the business's.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::slots::Busy;
use crate::ports::calendar::{BusyRange, CalendarError, CalendarProvider};

/// `ranges` minus `own` (both half-open).
pub fn subtract(ranges: &[BusyRange], own: &[(DateTime<Utc>, DateTime<Utc>)]) -> Vec<Busy> {
    let mut own = own.to_vec();
    own.sort();
    let mut out = Vec::new();
    for r in ranges {
        let mut cur = r.start;
        for (s, e) in &own {
            if *e <= cur || *s >= r.end {
                continue;
            }
            if *s > cur {
                out.push(Busy {
                    start: cur,
                    end: *s,
                });
            }
            cur = cur.max(*e);
            if cur >= r.end {
                break;
            }
        }
        if cur < r.end {
            out.push(Busy {
                start: cur,
                end: r.end,
            });
        }
    }
    out
}

/// The external busy ranges within `[lo, hi)`. An error means the calendar could not be
/// read: the caller offers nothing in that range (fail closed).
pub async fn external_busy(
    calendar: &dyn CalendarProvider,
    pool: &PgPool,
    tenant: Uuid,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> Result<Vec<Busy>, CalendarError> {
    let ranges = calendar.free_busy(tenant, lo, hi).await?;
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let own = crate::db::bookings::live_appointment_ranges(pool, tenant, lo, hi)
        .await
        .map_err(|e| CalendarError::Other(format!("database: {e}")))?;
    Ok(subtract(&ranges, &own))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, h, m, 0).unwrap()
    }

    #[test]
    fn own_bookings_are_cut_out_of_merged_ranges() {
        // Google merges our 10:00–10:30 booking with an external 10:30–11:00 meeting.
        let r = [BusyRange {
            start: t(10, 0),
            end: t(11, 0),
        }];
        let got = subtract(&r, &[(t(10, 0), t(10, 30))]);
        assert_eq!(
            got,
            vec![Busy {
                start: t(10, 30),
                end: t(11, 0)
            }]
        );
        // A range that is only our booking disappears; an unrelated one stays whole.
        assert!(subtract(
            &[BusyRange {
                start: t(9, 0),
                end: t(9, 30)
            }],
            &[(t(9, 0), t(9, 30))]
        )
        .is_empty());
        let got = subtract(
            &[BusyRange {
                start: t(12, 0),
                end: t(13, 0),
            }],
            &[(t(12, 15), t(12, 30))],
        );
        assert_eq!(
            got,
            vec![
                Busy {
                    start: t(12, 0),
                    end: t(12, 15)
                },
                Busy {
                    start: t(12, 30),
                    end: t(13, 0)
                }
            ]
        );
    }
}
