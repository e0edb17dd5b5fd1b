//! Calendar read-back for availability: each resource's calendar's busy ranges, minus the
//! bookings gomomo itself wrote there (they are already in Postgres; left in, a booking
//! would block its time twice, and where several resources share one calendar, every one of
//! them). A calendar that cannot be read withholds its own resource's slots, nobody else's.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::slots::Busy;
use crate::ports::calendar::{BusyRange, CalendarProvider, ResourceBusy};

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

/// External busy time per resource: what availability adds to the bookings and holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalBusy(Vec<(Uuid, Vec<Busy>)>);

impl ExternalBusy {
    /// The busy time of `resource`'s calendar (none without a calendar).
    pub fn of(&self, resource: Uuid) -> &[Busy] {
        self.0
            .iter()
            .find(|(r, _)| *r == resource)
            .map_or(&[], |(_, b)| b.as_slice())
    }

    /// Whether any resource's calendar adds busy time.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, b)| b.is_empty())
    }
}

/// The external busy ranges of `resources` within `[lo, hi)`. A resource whose calendar
/// could not be read is busy for the whole window: nothing of it is offered there (fail
/// closed), while the other resources keep their slots.
pub async fn external_busy(
    calendar: &dyn CalendarProvider,
    pool: &PgPool,
    tenant: Uuid,
    resources: &[Uuid],
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> ExternalBusy {
    let read = calendar.free_busy(tenant, resources, lo, hi).await;
    if read.is_empty() {
        return ExternalBusy::default();
    }
    let mut own: Option<Vec<(DateTime<Utc>, DateTime<Utc>)>> = None;
    let mut out = Vec::with_capacity(read.len());
    for ResourceBusy { resource_id, busy } in read {
        let ranges = match busy {
            Ok(ranges) if ranges.is_empty() => continue,
            Ok(ranges) => ranges,
            Err(e) => {
                tracing::warn!(%resource_id, error = %e, kind = e.kind(), "calendar read failed: the resource's slots are withheld");
                out.push((resource_id, vec![Busy { start: lo, end: hi }]));
                continue;
            }
        };
        if own.is_none() {
            match crate::db::bookings::live_appointment_ranges(pool, tenant, lo, hi).await {
                Ok(found) => own = Some(found),
                Err(e) => {
                    tracing::warn!(error = %e, "reading our own bookings failed: calendar slots withheld");
                    out.push((resource_id, vec![Busy { start: lo, end: hi }]));
                    continue;
                }
            }
        }
        let mine = own.as_deref().unwrap_or_default();
        out.push((resource_id, subtract(&ranges, mine)));
    }
    ExternalBusy(out)
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
