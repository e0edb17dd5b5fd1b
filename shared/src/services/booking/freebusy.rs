//! Calendar read-back for availability: each resource's calendar's busy ranges (the
//! calendars leave out the bookings gomomo wrote there, which are already in Postgres). A
//! calendar that cannot be read withholds its own resource's slots, nobody else's.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::slots::Busy;
use crate::ports::calendar::{CalendarProvider, ResourceBusy};

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
}

/// The external busy ranges of `resources` within `[lo, hi)`. A resource whose calendar
/// could not be read is busy for the whole window: nothing of it is offered there (fail
/// closed), while the other resources keep their slots.
pub async fn external_busy(
    calendar: &dyn CalendarProvider,
    tenant: Uuid,
    resources: &[Uuid],
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> ExternalBusy {
    let read = calendar.free_busy(tenant, resources, lo, hi).await;
    if read.is_empty() {
        return ExternalBusy::default();
    }
    let mut out = Vec::with_capacity(read.len());
    for ResourceBusy { resource_id, busy } in read {
        match busy {
            Ok(ranges) if ranges.is_empty() => {}
            Ok(ranges) => out.push((
                resource_id,
                ranges
                    .into_iter()
                    .map(|r| Busy {
                        start: r.start,
                        end: r.end,
                    })
                    .collect(),
            )),
            Err(e) => {
                tracing::warn!(%resource_id, error = %e, kind = e.kind(), "calendar read failed: the resource's slots are withheld");
                out.push((resource_id, vec![Busy { start: lo, end: hi }]));
            }
        }
    }
    ExternalBusy(out)
}
