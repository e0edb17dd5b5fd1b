//! Pure slot-generation engine: opening hours + rules + busy intervals → bookable slots.
//!
//! No I/O and no clock access: `now` is a parameter, so every result is reproducible.
//!
//! Algorithm (O(slots × resources + busy · log busy)):
//! 1. per resource, expand every busy interval by `buffer` on both sides, sort, and merge
//!    into disjoint intervals (one flat buffer for all resources, allocated once per call);
//! 2. walk the local dates, turn each opening interval into UTC instants (DST-safe, see
//!    [`local_to_utc`]) and step through the grid `open + k·step` in elapsed time;
//! 3. for each candidate slot, advance one cursor per resource past the merged intervals
//!    that end at or before the slot start: the resource is free iff the interval under
//!    the cursor starts at or after the slot end.
//!
//! Because candidate starts are (normally) increasing, each cursor moves forward only, so
//! the sweep is linear. Opening intervals that overlap within one day can make the starts
//! go backwards; the cursors are then re-positioned by binary search and the output is
//! sorted and de-duplicated at the end, so the result stays correct in that odd case too.

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono::{LocalResult, Offset, TimeZone};
use chrono_tz::Tz;

/// Maximum number of resources one call can handle (one bit per resource in [`Slot::free`]).
pub const MAX_RESOURCES: usize = 64;

/// Opening intervals per ISO weekday: index 0 = Monday … 6 = Sunday. Local wall-clock times,
/// each interval `opens < closes`, several per day allowed (e.g. a lunch break).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    pub days: [Vec<(NaiveTime, NaiveTime)>; 7],
}

/// How slots are laid out and which ones may be offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRules {
    /// Grid: slots start at `opens + k*step` (elapsed time).
    pub step: Duration,
    /// Service length.
    pub duration: Duration,
    /// Minimum gap between two appointments on one resource.
    pub buffer: Duration,
    /// Slot start >= now + min_notice.
    pub min_notice: Duration,
    /// Slot start < now + max_days_ahead days.
    pub max_days_ahead: i64,
}

/// A half-open busy interval `[start, end)` on one resource (an appointment or an active
/// hold, WITHOUT buffer). Intervals with `end <= start` are empty and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One bookable slot `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// bit i set = resources[i] is free for this slot
    pub free: u64,
}

impl Slot {
    /// Index of the lowest-numbered free resource, if any.
    pub fn first_free(&self) -> Option<usize> {
        if self.free == 0 {
            None
        } else {
            Some(self.free.trailing_zeros() as usize)
        }
    }
}

/// Why [`compute_slots`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// More than [`MAX_RESOURCES`] (64) resources were passed.
    #[error("too many resources: {0} (at most 64)")]
    TooManyResources(usize),
    /// The rules are unusable (step or duration <= 0, negative buffer).
    #[error("invalid slot rules: {0}")]
    InvalidRules(&'static str),
}

/// Slots for the local dates `from..=to` (inclusive, in zone `tz`), offered when at least one
/// resource is free. `resources[i]` is the busy list of resource i, in any order, possibly
/// overlapping. Returns slots sorted by start; a slot with `free == 0` is NOT returned.
///
/// A slot `[s, e)` conflicts with busy `[a, b)` iff `s < b + buffer && a < e + buffer`.
pub fn compute_slots(
    tz: Tz,
    hours: &WeeklyHours,
    rules: &SlotRules,
    now: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
    resources: &[Vec<Busy>],
) -> Result<Vec<Slot>, SlotError> {
    if resources.len() > MAX_RESOURCES {
        return Err(SlotError::TooManyResources(resources.len()));
    }
    validate(rules)?;
    let Some(w) = Window::new(rules, now, from, to) else {
        return Ok(Vec::new());
    };
    let index = BusyIndex::build(resources, rules.buffer, &[]);
    let all_free = all_free(resources.len());
    // Per-weekday opening intervals, valid ones only, sorted by opening time (7 tiny Vecs
    // per call, never per slot).
    let days: [Vec<(NaiveTime, NaiveTime)>; 7] = std::array::from_fn(|i| {
        let mut v: Vec<_> = hours.days[i]
            .iter()
            .copied()
            .filter(|(opens, closes)| opens < closes)
            .collect();
        v.sort_unstable();
        v
    });
    Ok(sweep(tz, rules, &w, &index, |date, plan| {
        let weekday = date.weekday().num_days_from_monday() as usize;
        plan.extend(days[weekday].iter().map(|&(o, c)| (o, c, all_free)));
    }))
}

/// [`compute_slots`] over a whole [`Schedule`]: each resource's own weekly hours, closures,
/// time off and extra hours. `resources[i]` and `schedule.own_hours[i]` describe resource i;
/// a slot's `free` bits name only resources that work that slot and are free for it. A
/// schedule with no own hours and no exceptions gives exactly [`compute_slots`].
pub fn compute_schedule_slots(
    tz: Tz,
    schedule: &Schedule,
    rules: &SlotRules,
    now: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
    resources: &[Vec<Busy>],
) -> Result<Vec<Slot>, SlotError> {
    if schedule.is_plain() {
        return compute_slots(tz, &schedule.tenant, rules, now, from, to, resources);
    }
    if resources.len() > MAX_RESOURCES {
        return Err(SlotError::TooManyResources(resources.len()));
    }
    validate(rules)?;
    let Some(w) = Window::new(rules, now, from, to) else {
        return Ok(Vec::new());
    };
    // Partial closures and time off block their resources, without the buffer (they are
    // not bookings).
    let mut blocks: Vec<Vec<Busy>> = vec![Vec::new(); resources.len()];
    let mut date = w.from;
    loop {
        for (r, list) in blocks.iter_mut().enumerate() {
            for (a, b) in schedule.day_of(r, date).blocks {
                list.push(Busy {
                    start: local_to_utc(tz, date, a, true),
                    end: local_to_utc(tz, date, b, false),
                });
            }
        }
        if date >= w.to {
            break;
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    let index = BusyIndex::build(resources, rules.buffer, &blocks);
    let n = resources.len();
    Ok(sweep(tz, rules, &w, &index, |date, plan| {
        for r in 0..n {
            for (o, c) in schedule.day_of(r, date).opens {
                match plan.iter_mut().find(|p| p.0 == o && p.1 == c) {
                    Some(p) => p.2 |= 1u64 << r,
                    None => plan.push((o, c, 1u64 << r)),
                }
            }
        }
        plan.sort_unstable();
    }))
}

fn all_free(n: usize) -> u64 {
    if n == 0 {
        0
    } else {
        u64::MAX >> (MAX_RESOURCES - n)
    }
}

/// The booking window `[earliest, latest)` and the local dates worth walking.
struct Window {
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
}

impl Window {
    fn new(rules: &SlotRules, now: DateTime<Utc>, from: NaiveDate, to: NaiveDate) -> Option<Self> {
        if to < from {
            return None;
        }
        // Booking window [earliest, latest), saturating instead of panicking on overflow.
        let earliest = now.checked_add_signed(rules.min_notice).unwrap_or(
            if rules.min_notice > Duration::zero() {
                DateTime::<Utc>::MAX_UTC
            } else {
                DateTime::<Utc>::MIN_UTC
            },
        );
        let latest = Duration::try_days(rules.max_days_ahead)
            .and_then(|ahead| now.checked_add_signed(ahead))
            .unwrap_or(if rules.max_days_ahead > 0 {
                DateTime::<Utc>::MAX_UTC
            } else {
                DateTime::<Utc>::MIN_UTC
            });
        if earliest >= latest {
            return None;
        }
        // Clamp the date walk to the window (± 2 days covers any UTC offset), so a huge
        // `from..=to` costs nothing beyond the lookahead.
        let from = earliest
            .date_naive()
            .checked_sub_days(Days::new(2))
            .map_or(from, |d| d.max(from));
        let to = latest
            .date_naive()
            .checked_add_days(Days::new(2))
            .map_or(to, |d| d.min(to));
        if to < from {
            return None;
        }
        Some(Self {
            earliest,
            latest,
            from,
            to,
        })
    }
}

/// Walks the dates of `w`; `plan` fills each date's opening intervals `(opens, closes,
/// resource mask)` (the Vec comes cleared), and every grid start inside the window whose
/// masked resources are free becomes a slot.
fn sweep(
    tz: Tz,
    rules: &SlotRules,
    w: &Window,
    index: &BusyIndex,
    mut plan: impl FnMut(NaiveDate, &mut Vec<(NaiveTime, NaiveTime, u64)>),
) -> Vec<Slot> {
    let (earliest, latest) = (w.earliest, w.latest);
    let mut cursors = [0usize; MAX_RESOURCES];
    let mut prev_start: Option<DateTime<Utc>> = None;
    let mut needs_sort = false;
    let mut out = Vec::new();
    let mut intervals = Vec::new();

    let mut date = w.from;
    loop {
        intervals.clear();
        plan(date, &mut intervals);
        for &(opens, closes, mask) in &intervals {
            if opens >= closes {
                continue;
            }
            let open = local_to_utc(tz, date, opens, true);
            let close = local_to_utc(tz, date, closes, false);
            if close <= earliest || open >= latest {
                continue;
            }
            let mut start = open;
            loop {
                if start >= latest {
                    break;
                }
                let Some(end) = start.checked_add_signed(rules.duration) else {
                    break;
                };
                if end > close {
                    break;
                }
                if start >= earliest {
                    if prev_start.is_some_and(|p| start <= p) {
                        // Overlapping opening intervals: starts went backwards (or repeat).
                        needs_sort = true;
                        index.reposition(&mut cursors, tick(start));
                    }
                    prev_start = Some(start);
                    let free = index.free_mask(&mut cursors, tick(start), tick(end)) & mask;
                    if free != 0 {
                        out.push(Slot { start, end, free });
                    }
                }
                match start.checked_add_signed(rules.step) {
                    Some(next) => start = next,
                    None => break,
                }
            }
        }
        if date >= w.to {
            break;
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }

    if needs_sort {
        out.sort_by_key(|s| s.start);
        // One start from several intervals: any resource free in one of them is free.
        out.dedup_by(|later, kept| {
            if later.start == kept.start {
                kept.free |= later.free;
                true
            } else {
                false
            }
        });
    }
    out
}

/// What kind of date exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionKind {
    /// The whole tenant is closed (a holiday, a closure).
    Closed,
    /// One resource is away.
    TimeOff,
    /// A one-off opening (tenant-wide or one resource).
    ExtraHours,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::TimeOff => "time_off",
            Self::ExtraHours => "extra_hours",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "closed" => Some(Self::Closed),
            "time_off" => Some(Self::TimeOff),
            "extra_hours" => Some(Self::ExtraHours),
            _ => None,
        }
    }

    /// Closures and time off take time away; extra hours add it.
    pub fn removes_time(self) -> bool {
        !matches!(self, Self::ExtraHours)
    }
}

/// An exception over the local dates `start_date..=end_date` (every year on those month-days
/// when `recurring_yearly`), for one resource of the call or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateException {
    pub kind: ExceptionKind,
    /// Index of the resource in the call; `None` = every resource.
    pub resource: Option<usize>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The part of each day, `start < end`; `None` = the whole day.
    pub times: Option<(NaiveTime, NaiveTime)>,
    pub recurring_yearly: bool,
}

impl DateException {
    /// Whether the exception covers the local date `date`. A yearly range is moved to each
    /// year (a Feb 29 start only recurs in leap years); it may run across the new year.
    pub fn occurs_on(&self, date: NaiveDate) -> bool {
        if !self.recurring_yearly {
            return self.start_date <= date && date <= self.end_date;
        }
        if date < self.start_date {
            return false;
        }
        let len = self.end_date - self.start_date;
        [date.year(), date.year() - 1].into_iter().any(|y| {
            self.start_date
                .with_year(y)
                .and_then(|s| s.checked_add_signed(len).map(|e| (s, e)))
                .is_some_and(|(s, e)| s <= date && date <= e)
        })
    }

    pub fn applies_to(&self, resource: usize) -> bool {
        self.resource.is_none_or(|r| r == resource)
    }

    /// The instants it covers on `date` (the whole day runs from local midnight to the next).
    pub fn span_on(&self, tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.times {
            Some((a, b)) => (
                local_to_utc(tz, date, a, true),
                local_to_utc(tz, date, b, false),
            ),
            None => (
                local_to_utc(tz, date, NaiveTime::MIN, true),
                local_to_utc(tz, date.succ_opt().unwrap_or(date), NaiveTime::MIN, true),
            ),
        }
    }
}

/// Who works when: the tenant's weekly hours, each resource's own (if any) and the date
/// exceptions. Closures and time off win over extra hours on the same day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    pub tenant: WeeklyHours,
    /// Per resource of the call: its own weekly hours (`None` = the tenant's).
    pub own_hours: Vec<Option<WeeklyHours>>,
    pub exceptions: Vec<DateException>,
}

/// One resource's local day: its opening intervals and the parts of them taken away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceDay {
    pub opens: Vec<(NaiveTime, NaiveTime)>,
    pub blocks: Vec<(NaiveTime, NaiveTime)>,
}

impl Schedule {
    /// Only the tenant's weekly hours.
    pub fn weekly(hours: WeeklyHours) -> Self {
        Self {
            tenant: hours,
            ..Self::default()
        }
    }

    pub fn is_plain(&self) -> bool {
        self.exceptions.is_empty() && self.own_hours.iter().all(Option::is_none)
    }

    /// The weekly hours resource `r` works.
    pub fn hours_of(&self, r: usize) -> &WeeklyHours {
        self.own_hours
            .get(r)
            .and_then(Option::as_ref)
            .unwrap_or(&self.tenant)
    }

    /// Resource `r`'s intervals on `date`: its weekly hours plus extra hours, nothing on a
    /// day closed or off as a whole, and partial closures / time off as `blocks`.
    pub fn day_of(&self, r: usize, date: NaiveDate) -> ResourceDay {
        let weekday = date.weekday().num_days_from_monday() as usize;
        let mut day = ResourceDay {
            opens: self.hours_of(r).days[weekday]
                .iter()
                .copied()
                .filter(|(o, c)| o < c)
                .collect(),
            blocks: Vec::new(),
        };
        for x in &self.exceptions {
            if !x.applies_to(r) || !x.occurs_on(date) {
                continue;
            }
            match (x.kind.removes_time(), x.times) {
                (false, Some(t)) => day.opens.push(t),
                (false, None) => {}
                (true, None) => {
                    day.opens.clear();
                    day.blocks.clear();
                    return day;
                }
                (true, Some(t)) => day.blocks.push(t),
            }
        }
        day
    }

    /// Whether resource `r` works all of `[start, end)`: inside one of its intervals of
    /// the local day of `start`, clear of every closure and time off.
    pub fn fits(&self, tz: Tz, r: usize, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        let date = start.with_timezone(&tz).date_naive();
        let day = self.day_of(r, date);
        let inside = day.opens.iter().any(|&(o, c)| {
            local_to_utc(tz, date, o, true) <= start && end <= local_to_utc(tz, date, c, false)
        });
        inside
            && day.blocks.iter().all(|&(a, b)| {
                end <= local_to_utc(tz, date, a, true) || local_to_utc(tz, date, b, false) <= start
            })
    }

    /// Whether `[start, end)` is in resource `r`'s weekly hours but taken away by a
    /// closure or time off (the reason to give when it is refused).
    pub fn closed_by_exception(
        &self,
        tz: Tz,
        r: usize,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> bool {
        let weekly = Self {
            tenant: self.hours_of(r).clone(),
            own_hours: Vec::new(),
            exceptions: Vec::new(),
        };
        weekly.fits(tz, 0, start, end) && !self.fits(tz, r, start, end)
    }
}

/// Local wall-clock → instant, DST-safe.
///
/// - a time in a spring-forward gap is read with the offset in force just before the gap,
///   i.e. moved forward by the gap length (02:30 on a New York spring-forward day →
///   03:30 EDT = 07:30Z; 02:00 → 03:00 EDT, the first instant after the gap);
/// - for an ambiguous time (fall-back), `earliest = true` picks the first occurrence,
///   `false` the second.
pub fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime, earliest: bool) -> DateTime<Utc> {
    let local = date.and_time(time);
    match tz.from_local_datetime(&local) {
        LocalResult::Single(dt) => dt.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            if earliest {
                a.min(b)
            } else {
                a.max(b)
            }
        }
        LocalResult::None => gap_to_utc(tz, local),
    }
}

fn validate(rules: &SlotRules) -> Result<(), SlotError> {
    if rules.step <= Duration::zero() {
        return Err(SlotError::InvalidRules("step must be positive"));
    }
    if rules.duration <= Duration::zero() {
        return Err(SlotError::InvalidRules("duration must be positive"));
    }
    if rules.buffer < Duration::zero() {
        return Err(SlotError::InvalidRules("buffer must not be negative"));
    }
    Ok(())
}

/// Resolve a local time that falls in a gap, using the offset in force just before the gap.
fn gap_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    // Walk back in 15-minute steps (every real gap is a multiple of 15 minutes long, and
    // none is longer than a day) to the first local time that exists.
    const PROBE: Duration = Duration::minutes(15);
    const MAX_PROBES: usize = 4 * 48;
    let mut probe = local;
    for _ in 0..MAX_PROBES {
        let Some(p) = probe.checked_sub_signed(PROBE) else {
            break;
        };
        probe = p;
        let offset_secs = match tz.offset_from_local_datetime(&probe) {
            LocalResult::Single(o) => o.fix().local_minus_utc(),
            // Right before the gap is the later occurrence: the smaller offset.
            LocalResult::Ambiguous(a, b) => {
                a.fix().local_minus_utc().min(b.fix().local_minus_utc())
            }
            LocalResult::None => continue,
        };
        if let Some(utc) = local.checked_sub_signed(Duration::seconds(i64::from(offset_secs))) {
            return utc.and_utc();
        }
        break;
    }
    local.and_utc()
}

/// An instant as nanoseconds since the Unix epoch. `i128` covers chrono's whole range
/// (no overflow, even with a huge buffer) and compares much faster than `DateTime<Utc>`.
type Tick = i128;

const NANOS_PER_SEC: i128 = 1_000_000_000;

#[inline]
fn tick(t: DateTime<Utc>) -> Tick {
    i128::from(t.timestamp()) * NANOS_PER_SEC + i128::from(t.timestamp_subsec_nanos())
}

#[inline]
fn ticks(d: Duration) -> Tick {
    // `subsec_nanos` carries the sign of the duration, so this is exact.
    i128::from(d.num_seconds()) * NANOS_PER_SEC + i128::from(d.subsec_nanos())
}

/// Merged, buffered busy intervals of every resource, in one flat buffer.
struct BusyIndex {
    /// Disjoint, sorted `[start - buffer, end + buffer)` intervals, resource after resource.
    intervals: Vec<(Tick, Tick)>,
    /// `intervals[ranges[i].0..ranges[i].1]` belongs to resource i.
    ranges: [(usize, usize); MAX_RESOURCES],
    len: usize,
}

impl BusyIndex {
    /// `blocks[i]` (when given) are more busy intervals of resource i, taken without the
    /// buffer.
    fn build(resources: &[Vec<Busy>], buffer: Duration, blocks: &[Vec<Busy>]) -> Self {
        let buffer = ticks(buffer);
        let total = resources.iter().map(Vec::len).sum::<usize>()
            + blocks.iter().map(Vec::len).sum::<usize>();
        let mut intervals: Vec<(Tick, Tick)> = Vec::with_capacity(total);
        let mut ranges = [(0usize, 0usize); MAX_RESOURCES];
        for (r, busy) in resources.iter().enumerate() {
            let first = intervals.len();
            intervals.extend(
                busy.iter()
                    .filter(|b| b.start < b.end)
                    .map(|b| (tick(b.start) - buffer, tick(b.end) + buffer)),
            );
            if let Some(extra) = blocks.get(r) {
                intervals.extend(
                    extra
                        .iter()
                        .filter(|b| b.start < b.end)
                        .map(|b| (tick(b.start), tick(b.end))),
                );
            }
            intervals[first..].sort_unstable_by_key(|iv| iv.0);
            // Merge in place; this resource's segment is the tail of the buffer.
            let mut write = first;
            for read in first..intervals.len() {
                let cur = intervals[read];
                if write > first && cur.0 <= intervals[write - 1].1 {
                    let last = &mut intervals[write - 1];
                    last.1 = last.1.max(cur.1);
                } else {
                    intervals[write] = cur;
                    write += 1;
                }
            }
            intervals.truncate(write);
            ranges[r] = (first, write);
        }
        Self {
            intervals,
            ranges,
            len: resources.len(),
        }
    }

    /// Bit mask of the resources free for `[start, end)`. Cursors only move forward, so
    /// calls must come with non-decreasing `start` (see [`BusyIndex::reposition`]).
    #[inline]
    fn free_mask(&self, cursors: &mut [usize; MAX_RESOURCES], start: Tick, end: Tick) -> u64 {
        let mut free = 0u64;
        for (r, (&(lo, hi), cursor)) in self.ranges[..self.len]
            .iter()
            .zip(cursors.iter_mut())
            .enumerate()
        {
            let seg = &self.intervals[lo..hi];
            while *cursor < seg.len() && seg[*cursor].1 <= start {
                *cursor += 1;
            }
            let blocked = *cursor < seg.len() && seg[*cursor].0 < end;
            if !blocked {
                free |= 1u64 << r;
            }
        }
        free
    }

    /// Re-position every cursor for a start that went backwards (binary search).
    fn reposition(&self, cursors: &mut [usize; MAX_RESOURCES], start: Tick) {
        for (&(lo, hi), cursor) in self.ranges[..self.len].iter().zip(cursors.iter_mut()) {
            *cursor = self.intervals[lo..hi].partition_point(|iv| iv.1 <= start);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use chrono_tz::America::New_York;

    const NY: Tz = New_York;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn z(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
    }

    /// Local New York time, first occurrence.
    fn ny(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
        local_to_utc(NY, date, t(h, m), true)
    }

    fn mins(m: i64) -> Duration {
        Duration::minutes(m)
    }

    fn weekdays_9_17() -> WeeklyHours {
        let mut h = WeeklyHours::default();
        for day in h.days.iter_mut().take(5) {
            day.push((t(9, 0), t(17, 0)));
        }
        h
    }

    fn every_day(opens: NaiveTime, closes: NaiveTime) -> WeeklyHours {
        let mut h = WeeklyHours::default();
        for day in h.days.iter_mut() {
            day.push((opens, closes));
        }
        h
    }

    fn rules30() -> SlotRules {
        SlotRules {
            step: mins(30),
            duration: mins(30),
            buffer: Duration::zero(),
            min_notice: Duration::zero(),
            max_days_ahead: 365,
        }
    }

    /// A `now` well before every date used in the tests.
    fn early_now() -> DateTime<Utc> {
        z(2025, 12, 1, 0, 0)
    }

    fn busy(start: DateTime<Utc>, end: DateTime<Utc>) -> Busy {
        Busy { start, end }
    }

    fn starts_local(slots: &[Slot], date: NaiveDate) -> Vec<(u32, u32)> {
        slots
            .iter()
            .map(|s| s.start.with_timezone(&NY))
            .filter(|l| l.date_naive() == date)
            .map(|l| (l.hour(), l.minute()))
            .collect()
    }

    // 2026-01-05 is a Monday (winter, EST = UTC-5).
    const MON: (i32, u32, u32) = (2026, 1, 5);

    fn mon() -> NaiveDate {
        d(MON.0, MON.1, MON.2)
    }

    fn one_day(rules: &SlotRules, resources: &[Vec<Busy>]) -> Vec<Slot> {
        compute_slots(
            NY,
            &weekdays_9_17(),
            rules,
            early_now(),
            mon(),
            mon(),
            resources,
        )
        .unwrap()
    }

    #[test]
    fn plain_weekday_has_16_slots_from_nine_and_none_on_saturday() {
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            mon(),
            d(2026, 1, 11),
            &[vec![]],
        )
        .unwrap();
        let monday: Vec<_> = slots
            .iter()
            .filter(|s| s.start.with_timezone(&NY).date_naive() == mon())
            .collect();
        assert_eq!(monday.len(), 16);
        assert_eq!(monday[0].start, z(2026, 1, 5, 14, 0)); // 09:00 EST
        assert_eq!(monday[0].end, z(2026, 1, 5, 14, 30));
        assert_eq!(monday[15].start, z(2026, 1, 5, 21, 30)); // 16:30 EST
        assert_eq!(monday[15].end, z(2026, 1, 5, 22, 0));
        assert!(monday.iter().all(|s| s.free == 1));
        // Mon..Fri only: 5 × 16, nothing on Saturday 10th or Sunday 11th.
        assert_eq!(slots.len(), 80);
        assert!(starts_local(&slots, d(2026, 1, 10)).is_empty());
        assert!(starts_local(&slots, d(2026, 1, 11)).is_empty());
        assert!(slots.windows(2).all(|w| w[0].start < w[1].start));

        // Summer (EDT = UTC-4): 09:00 local is 13:00Z.
        let summer = d(2026, 6, 1);
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            summer,
            summer,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 16);
        assert_eq!(slots[0].start, z(2026, 6, 1, 13, 0));
    }

    #[test]
    fn lunch_break_gives_two_runs() {
        let mut hours = WeeklyHours::default();
        // Deliberately unsorted intervals for the day.
        hours.days[0] = vec![(t(13, 0), t(17, 0)), (t(9, 0), t(12, 0))];
        let slots =
            compute_slots(NY, &hours, &rules30(), early_now(), mon(), mon(), &[vec![]]).unwrap();
        assert_eq!(slots.len(), 6 + 8);
        let starts = starts_local(&slots, mon());
        assert!(starts.contains(&(11, 30)));
        assert!(!starts.contains(&(12, 0)));
        assert!(!starts.contains(&(12, 30)));
        assert!(starts.contains(&(13, 0)));
        assert!(slots.windows(2).all(|w| w[0].start < w[1].start));
    }

    #[test]
    fn overlapping_opening_intervals_give_sorted_unique_slots() {
        let mut hours = WeeklyHours::default();
        hours.days[0] = vec![
            (t(9, 0), t(12, 0)),
            (t(10, 15), t(11, 15)),
            (t(9, 0), t(10, 0)),
        ];
        let slots =
            compute_slots(NY, &hours, &rules30(), early_now(), mon(), mon(), &[vec![]]).unwrap();
        let starts = starts_local(&slots, mon());
        assert_eq!(
            starts,
            vec![
                (9, 0),
                (9, 30),
                (10, 0),
                (10, 15),
                (10, 30),
                (10, 45),
                (11, 0),
                (11, 30)
            ]
        );
    }

    #[test]
    fn dst_spring_forward_day_has_10_contiguous_slots() {
        let day = d(2026, 3, 8); // Sunday, 02:00 EST → 03:00 EDT
        let slots = compute_slots(
            NY,
            &every_day(t(0, 0), t(6, 0)),
            &rules30(),
            early_now(),
            day,
            day,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 10); // 5 real hours
        assert_eq!(slots[0].start, z(2026, 3, 8, 5, 0)); // 00:00 EST
        assert_eq!(slots[9].end, z(2026, 3, 8, 10, 0)); // 06:00 EDT
        assert!(slots.windows(2).all(|w| w[0].end == w[1].start));
        assert!(slots.iter().all(|s| s.end - s.start == mins(30)));
        // 01:30 EST is followed by 03:00 EDT.
        assert_eq!(slots[3].start.with_timezone(&NY).hour(), 1);
        assert_eq!(slots[4].start.with_timezone(&NY).hour(), 3);
    }

    #[test]
    fn day_after_spring_forward_is_edt() {
        let day = d(2026, 3, 9); // Monday
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            day,
            day,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 16);
        assert_eq!(slots[0].start, z(2026, 3, 9, 13, 0));
        // The Friday before is still EST.
        let fri = d(2026, 3, 6);
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            fri,
            fri,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots[0].start, z(2026, 3, 6, 14, 0));
    }

    #[test]
    fn dst_fall_back_day_has_14_contiguous_slots() {
        let day = d(2026, 11, 1); // Sunday, 02:00 EDT → 01:00 EST
        let slots = compute_slots(
            NY,
            &every_day(t(0, 0), t(6, 0)),
            &rules30(),
            early_now(),
            day,
            day,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 14); // 7 real hours
        assert_eq!(slots[0].start, z(2026, 11, 1, 4, 0)); // 00:00 EDT
        assert_eq!(slots[13].end, z(2026, 11, 1, 11, 0)); // 06:00 EST
        assert!(slots.windows(2).all(|w| w[0].end == w[1].start));
        // Local 01:00 and 01:30 each appear twice.
        let starts = starts_local(&slots, day);
        assert_eq!(starts.iter().filter(|&&hm| hm == (1, 0)).count(), 2);
        assert_eq!(starts.iter().filter(|&&hm| hm == (1, 30)).count(), 2);
    }

    #[test]
    fn dst_fall_back_ambiguous_hour() {
        let day = d(2026, 11, 1);
        // 01:00–02:00: opens at the first 01:00 (05:00Z), closes at 02:00 EST (07:00Z).
        let slots = compute_slots(
            NY,
            &every_day(t(1, 0), t(2, 0)),
            &rules30(),
            early_now(),
            day,
            day,
            &[vec![]],
        )
        .unwrap();
        let got: Vec<_> = slots.iter().map(|s| s.start).collect();
        assert_eq!(
            got,
            vec![
                z(2026, 11, 1, 5, 0),
                z(2026, 11, 1, 5, 30),
                z(2026, 11, 1, 6, 0),
                z(2026, 11, 1, 6, 30)
            ]
        );
        // Closing at 01:30 means the second 01:30 (06:30Z): open 00:00 EDT → 5 slots.
        let slots = compute_slots(
            NY,
            &every_day(t(0, 0), t(1, 30)),
            &rules30(),
            early_now(),
            day,
            day,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 5);
        assert_eq!(slots[0].start, z(2026, 11, 1, 4, 0));
        assert_eq!(slots[4].end, z(2026, 11, 1, 6, 30));
        // Opening at 01:30 means the first 01:30 (05:30Z): 01:30–02:00 → 90 real minutes.
        let slots = compute_slots(
            NY,
            &every_day(t(1, 30), t(2, 0)),
            &rules30(),
            early_now(),
            day,
            day,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[0].start, z(2026, 11, 1, 5, 30));
    }

    #[test]
    fn local_to_utc_gap_cases() {
        let day = d(2026, 3, 8);
        // Inside the gap: moved forward by the gap length, for both flags.
        assert_eq!(local_to_utc(NY, day, t(2, 30), true), z(2026, 3, 8, 7, 30));
        assert_eq!(local_to_utc(NY, day, t(2, 30), false), z(2026, 3, 8, 7, 30));
        assert_eq!(
            local_to_utc(NY, day, t(2, 30), true)
                .with_timezone(&NY)
                .hour(),
            3
        );
        // Gap start maps to the first instant after the gap (= 03:00 EDT).
        assert_eq!(local_to_utc(NY, day, t(2, 0), true), z(2026, 3, 8, 7, 0));
        assert_eq!(local_to_utc(NY, day, t(3, 0), true), z(2026, 3, 8, 7, 0));
        assert_eq!(local_to_utc(NY, day, t(1, 59), true), z(2026, 3, 8, 6, 59));
        assert_eq!(
            local_to_utc(NY, day, NaiveTime::from_hms_opt(2, 59, 59).unwrap(), false),
            Utc.with_ymd_and_hms(2026, 3, 8, 7, 59, 59).unwrap()
        );
        // A 30-minute gap (Lord Howe, 2026-10-04 02:00 → 02:30, UTC+10:30 → +11).
        let lh = chrono_tz::Australia::Lord_Howe;
        assert_eq!(
            local_to_utc(lh, d(2026, 10, 4), t(2, 15), true),
            z(2026, 10, 3, 15, 45)
        );
        assert_eq!(
            local_to_utc(lh, d(2026, 10, 4), t(2, 15), true)
                .with_timezone(&lh)
                .time(),
            t(2, 45)
        );
    }

    #[test]
    fn local_to_utc_ambiguous_and_plain_cases() {
        let day = d(2026, 11, 1);
        assert_eq!(local_to_utc(NY, day, t(1, 30), true), z(2026, 11, 1, 5, 30)); // EDT
        assert_eq!(
            local_to_utc(NY, day, t(1, 30), false),
            z(2026, 11, 1, 6, 30)
        ); // EST
        assert_eq!(local_to_utc(NY, day, t(1, 0), true), z(2026, 11, 1, 5, 0));
        assert_eq!(local_to_utc(NY, day, t(1, 0), false), z(2026, 11, 1, 6, 0));
        assert_eq!(
            local_to_utc(NY, day, t(0, 59), false),
            z(2026, 11, 1, 4, 59)
        );
        assert_eq!(local_to_utc(NY, day, t(2, 0), true), z(2026, 11, 1, 7, 0));
        assert_eq!(local_to_utc(NY, day, t(2, 0), false), z(2026, 11, 1, 7, 0));
        // Unambiguous times ignore the flag.
        assert_eq!(local_to_utc(NY, mon(), t(9, 0), true), z(2026, 1, 5, 14, 0));
        assert_eq!(
            local_to_utc(NY, mon(), t(9, 0), false),
            z(2026, 1, 5, 14, 0)
        );
        assert_eq!(
            local_to_utc(chrono_tz::UTC, mon(), t(9, 0), true),
            z(2026, 1, 5, 9, 0)
        );
    }

    #[test]
    fn buffer_removes_neighbouring_slots() {
        let appt = busy(ny(mon(), 10, 0), ny(mon(), 10, 30));
        let rules = SlotRules {
            buffer: mins(15),
            ..rules30()
        };
        let slots = one_day(&rules, &[vec![appt]]);
        let starts = starts_local(&slots, mon());
        assert_eq!(slots.len(), 13);
        assert!(starts.contains(&(9, 0)));
        assert!(!starts.contains(&(9, 30)));
        assert!(!starts.contains(&(10, 0)));
        assert!(!starts.contains(&(10, 30)));
        assert!(starts.contains(&(11, 0)));

        // No buffer: the touching slots 09:30–10:00 and 10:30–11:00 stay.
        let slots = one_day(&rules30(), &[vec![appt]]);
        let starts = starts_local(&slots, mon());
        assert_eq!(slots.len(), 15);
        assert!(starts.contains(&(9, 30)));
        assert!(!starts.contains(&(10, 0)));
        assert!(starts.contains(&(10, 30)));

        // A buffer of exactly 30 minutes still keeps 09:00 and 11:00 (touching).
        let rules = SlotRules {
            buffer: mins(30),
            ..rules30()
        };
        let starts = starts_local(&one_day(&rules, &[vec![appt]]), mon());
        assert!(starts.contains(&(9, 0)));
        assert!(starts.contains(&(11, 0)));
        assert_eq!(starts.len(), 13);
    }

    #[test]
    fn minimum_notice_skips_early_slots() {
        let rules = SlotRules {
            min_notice: mins(60),
            ..rules30()
        };
        // now = 09:40 local → earliest start 10:40 → first slot 11:00.
        let now = ny(mon(), 9, 40);
        let slots =
            compute_slots(NY, &weekdays_9_17(), &rules, now, mon(), mon(), &[vec![]]).unwrap();
        assert_eq!(slots[0].start, ny(mon(), 11, 0));
        assert_eq!(slots.len(), 12);
        // Boundary is inclusive: now = 09:00, notice 60 → 10:00 is offered.
        let now = ny(mon(), 9, 0);
        let slots =
            compute_slots(NY, &weekdays_9_17(), &rules, now, mon(), mon(), &[vec![]]).unwrap();
        assert_eq!(slots[0].start, ny(mon(), 10, 0));
    }

    #[test]
    fn lookahead_cuts_later_days() {
        let rules = SlotRules {
            max_days_ahead: 2,
            ..rules30()
        };
        // now = Monday 08:00 local → window ends Wednesday 08:00 local (exclusive).
        let now = ny(mon(), 8, 0);
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules,
            now,
            mon(),
            d(2026, 1, 9),
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 32);
        assert_eq!(starts_local(&slots, mon()).len(), 16);
        assert_eq!(starts_local(&slots, d(2026, 1, 6)).len(), 16);
        assert!(starts_local(&slots, d(2026, 1, 7)).is_empty());
        // now = Monday 09:15 → window ends Wednesday 09:15: Wednesday 09:00 is in.
        let now = ny(mon(), 9, 15);
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules,
            now,
            mon(),
            d(2026, 1, 9),
            &[vec![]],
        )
        .unwrap();
        assert_eq!(starts_local(&slots, d(2026, 1, 7)), vec![(9, 0)]);
        assert!(slots
            .iter()
            .all(|s| s.start >= now && s.start < now + Duration::days(2)));
        // max_days_ahead = 0 offers nothing.
        let rules = SlotRules {
            max_days_ahead: 0,
            ..rules30()
        };
        let slots =
            compute_slots(NY, &weekdays_9_17(), &rules, now, mon(), mon(), &[vec![]]).unwrap();
        assert!(slots.is_empty());
    }

    #[test]
    fn several_resources_report_free_mask() {
        let r0 = vec![
            busy(ny(mon(), 10, 0), ny(mon(), 10, 30)),
            busy(ny(mon(), 11, 0), ny(mon(), 11, 30)),
        ];
        let r1 = vec![busy(ny(mon(), 11, 0), ny(mon(), 11, 30))];
        let slots = one_day(&rules30(), &[r0, r1]);
        let at = |h, m| slots.iter().find(|s| s.start == ny(mon(), h, m)).copied();
        let ten = at(10, 0).unwrap();
        assert_eq!(ten.free, 0b10);
        assert_eq!(ten.first_free(), Some(1));
        assert_eq!(at(9, 30).unwrap().free, 0b11);
        assert_eq!(at(9, 30).unwrap().first_free(), Some(0));
        assert!(at(11, 0).is_none()); // busy on both
        assert_eq!(slots.len(), 15);
    }

    #[test]
    fn no_resources_means_no_slots() {
        assert!(one_day(&rules30(), &[]).is_empty());
    }

    #[test]
    fn straddling_appointment_removes_both_slots() {
        let appt = busy(ny(mon(), 10, 15), ny(mon(), 10, 45));
        let starts = starts_local(&one_day(&rules30(), &[vec![appt]]), mon());
        assert!(starts.contains(&(9, 30)));
        assert!(!starts.contains(&(10, 0)));
        assert!(!starts.contains(&(10, 30)));
        assert!(starts.contains(&(11, 0)));
        assert_eq!(starts.len(), 14);
    }

    #[test]
    fn sixty_minute_service_on_thirty_minute_step() {
        let rules = SlotRules {
            duration: mins(60),
            ..rules30()
        };
        let slots = one_day(&rules, &[vec![]]);
        assert_eq!(slots.len(), 15);
        assert_eq!(slots.last().unwrap().start, ny(mon(), 16, 0));
        assert_eq!(slots.last().unwrap().end, ny(mon(), 17, 0));
        // An appointment 10:00–10:30 blocks the 09:30 and 10:00 starts.
        let appt = busy(ny(mon(), 10, 0), ny(mon(), 10, 30));
        let starts = starts_local(&one_day(&rules, &[vec![appt]]), mon());
        assert!(starts.contains(&(9, 0)));
        assert!(!starts.contains(&(9, 30)));
        assert!(!starts.contains(&(10, 0)));
        assert!(starts.contains(&(10, 30)));
    }

    #[test]
    fn overlapping_unsorted_busy_input() {
        let r0 = vec![
            busy(ny(mon(), 13, 0), ny(mon(), 14, 0)),
            busy(ny(mon(), 10, 0), ny(mon(), 11, 0)),
            busy(ny(mon(), 11, 45), ny(mon(), 12, 15)),
            busy(ny(mon(), 10, 30), ny(mon(), 12, 0)),
            busy(ny(mon(), 10, 0), ny(mon(), 10, 30)), // duplicate-ish
            busy(ny(mon(), 15, 0), ny(mon(), 15, 0)),  // empty, ignored
        ];
        let starts = starts_local(&one_day(&rules30(), &[r0]), mon());
        assert_eq!(
            starts,
            vec![
                (9, 0),
                (9, 30),
                (12, 30),
                (14, 0),
                (14, 30),
                (15, 0),
                (15, 30),
                (16, 0),
                (16, 30)
            ]
        );
    }

    #[test]
    fn multi_day_busy_blocks_whole_days() {
        let r0 = vec![busy(ny(mon(), 12, 0), ny(d(2026, 1, 7), 12, 0))];
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            mon(),
            d(2026, 1, 7),
            &[r0],
        )
        .unwrap();
        assert_eq!(starts_local(&slots, mon()).len(), 6);
        assert!(starts_local(&slots, d(2026, 1, 6)).is_empty());
        assert_eq!(starts_local(&slots, d(2026, 1, 7)).len(), 10);
    }

    #[test]
    fn to_before_from_is_empty() {
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            d(2026, 1, 9),
            mon(),
            &[vec![]],
        )
        .unwrap();
        assert!(slots.is_empty());
    }

    #[test]
    fn huge_date_range_is_clamped_to_lookahead() {
        let rules = SlotRules {
            max_days_ahead: 7,
            ..rules30()
        };
        let now = ny(mon(), 0, 0);
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules,
            now,
            NaiveDate::MIN,
            NaiveDate::MAX,
            &[vec![]],
        )
        .unwrap();
        assert_eq!(slots.len(), 80);
    }

    #[test]
    fn errors() {
        let too_many = vec![Vec::new(); 65];
        assert_eq!(
            compute_slots(
                NY,
                &weekdays_9_17(),
                &rules30(),
                early_now(),
                mon(),
                mon(),
                &too_many
            ),
            Err(SlotError::TooManyResources(65))
        );
        // 64 is fine, and the top bit is usable.
        let max = vec![Vec::new(); 64];
        let slots = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            mon(),
            mon(),
            &max,
        )
        .unwrap();
        assert_eq!(slots[0].free, u64::MAX);

        let bad = |rules: SlotRules| {
            compute_slots(
                NY,
                &weekdays_9_17(),
                &rules,
                early_now(),
                mon(),
                mon(),
                &[vec![]],
            )
        };
        assert!(matches!(
            bad(SlotRules {
                step: Duration::zero(),
                ..rules30()
            }),
            Err(SlotError::InvalidRules(_))
        ));
        assert!(matches!(
            bad(SlotRules {
                step: mins(-30),
                ..rules30()
            }),
            Err(SlotError::InvalidRules(_))
        ));
        assert!(matches!(
            bad(SlotRules {
                duration: Duration::zero(),
                ..rules30()
            }),
            Err(SlotError::InvalidRules(_))
        ));
        assert!(matches!(
            bad(SlotRules {
                buffer: mins(-1),
                ..rules30()
            }),
            Err(SlotError::InvalidRules(_))
        ));
        assert_eq!(
            SlotError::TooManyResources(65).to_string(),
            "too many resources: 65 (at most 64)"
        );
    }

    #[test]
    fn tick_conversions_are_exact_and_ordered() {
        let a =
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap() + Duration::nanoseconds(500);
        assert_eq!(tick(a), -1_000_000_000 + 500);
        assert_eq!(ticks(Duration::nanoseconds(-1_500_000_001)), -1_500_000_001);
        assert_eq!(ticks(mins(15)), 15 * 60 * NANOS_PER_SEC);
        assert!(tick(DateTime::<Utc>::MIN_UTC) < tick(a));
        assert!(tick(a) < tick(DateTime::<Utc>::MAX_UTC));
        // A sub-second busy interval still blocks the slot it overlaps.
        let start = ny(mon(), 10, 0) + Duration::nanoseconds(1);
        let slots = one_day(
            &rules30(),
            &[vec![busy(start, start + Duration::nanoseconds(1))]],
        );
        assert!(slots.iter().all(|s| s.start != ny(mon(), 10, 0)));
        assert_eq!(slots.len(), 15);
    }

    #[test]
    fn first_free_picks_lowest_bit() {
        let s = Slot {
            start: early_now(),
            end: early_now(),
            free: 0b1010_0000,
        };
        assert_eq!(s.first_free(), Some(5));
        assert_eq!(Slot { free: 0, ..s }.first_free(), None);
        assert_eq!(Slot { free: 1 << 63, ..s }.first_free(), Some(63));
    }

    // ---- property-style check against a naive O(slots × busy) reference ----

    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            // Knuth MMIX constants.
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn naive_slots(
        tz: Tz,
        hours: &WeeklyHours,
        rules: &SlotRules,
        now: DateTime<Utc>,
        from: NaiveDate,
        to: NaiveDate,
        resources: &[Vec<Busy>],
    ) -> Vec<Slot> {
        let earliest = now + rules.min_notice;
        let latest = now + Duration::days(rules.max_days_ahead);
        let mut out = Vec::new();
        let mut date = from;
        while date <= to {
            let wd = date.weekday().num_days_from_monday() as usize;
            for &(opens, closes) in &hours.days[wd] {
                if opens >= closes {
                    continue;
                }
                let open = local_to_utc(tz, date, opens, true);
                let close = local_to_utc(tz, date, closes, false);
                let mut s = open;
                while s + rules.duration <= close {
                    let e = s + rules.duration;
                    if s >= earliest && s < latest {
                        let mut free = 0u64;
                        for (i, list) in resources.iter().enumerate() {
                            let conflict = list.iter().any(|b| {
                                b.start < b.end
                                    && s < b.end + rules.buffer
                                    && b.start < e + rules.buffer
                            });
                            if !conflict {
                                free |= 1 << i;
                            }
                        }
                        if free != 0 {
                            out.push(Slot {
                                start: s,
                                end: e,
                                free,
                            });
                        }
                    }
                    s += rules.step;
                }
            }
            date = date.succ_opt().unwrap();
        }
        out.sort_by_key(|s| s.start);
        out.dedup_by_key(|s| s.start);
        out
    }

    #[test]
    fn matches_naive_reference_on_random_inputs() {
        let mut rng = Lcg(0x5EED_1234_ABCD_0001);
        let zones = [
            NY,
            chrono_tz::Europe::London,
            chrono_tz::Australia::Lord_Howe,
        ];
        // Ranges covering both New York DST changes and ordinary weeks.
        let ranges = [
            (d(2026, 3, 5), d(2026, 3, 12)),
            (d(2026, 10, 29), d(2026, 11, 4)),
            (d(2026, 3, 26), d(2026, 4, 6)),
            (d(2026, 9, 30), d(2026, 10, 7)),
        ];
        let steps = [10, 15, 20, 30, 45, 60];
        let mut total_slots = 0usize;
        for case in 0..300 {
            let tz = zones[case % zones.len()];
            let (from, to) = ranges[rng.below(ranges.len() as u64) as usize];

            // Random opening hours: 0..=3 intervals per weekday on a 15-minute grid, some
            // crossing the 01:00–03:00 DST window, possibly unsorted and overlapping.
            let mut hours = WeeklyHours::default();
            for day in hours.days.iter_mut() {
                for _ in 0..rng.below(4) {
                    let a = rng.below(96) as u32 * 15;
                    let b = rng.below(96) as u32 * 15;
                    let (a, b) = (a.min(b), a.max(b));
                    let closes = if b == a { a + 15 } else { b };
                    let to_time = |m: u32| {
                        if m >= 24 * 60 {
                            NaiveTime::from_hms_opt(23, 59, 0).unwrap()
                        } else {
                            t(m / 60, m % 60)
                        }
                    };
                    day.push((to_time(a), to_time(closes)));
                }
            }

            let rules = SlotRules {
                step: mins(steps[rng.below(steps.len() as u64) as usize]),
                duration: mins(5 * (1 + rng.below(24) as i64)),
                buffer: mins(5 * rng.below(7) as i64),
                min_notice: mins(rng.below(3 * 24 * 60) as i64),
                max_days_ahead: 1 + rng.below(10) as i64,
            };

            let base = local_to_utc(tz, from, t(0, 0), true) - Duration::days(1);
            let span_min = ((to - from).num_days() + 2) * 24 * 60;
            let now = base + mins(rng.below(3 * 24 * 60) as i64);

            let n_res = rng.below(7) as usize; // 0..=6 resources
            let resources: Vec<Vec<Busy>> = (0..n_res)
                .map(|_| {
                    (0..rng.below(40))
                        .map(|_| {
                            let start = base + mins(rng.below(span_min as u64) as i64);
                            // Mostly positive lengths, some empty or inverted.
                            let len = rng.below(200) as i64 - 10;
                            busy(start, start + mins(len))
                        })
                        .collect()
                })
                .collect();

            let got = compute_slots(tz, &hours, &rules, now, from, to, &resources).unwrap();
            let want = naive_slots(tz, &hours, &rules, now, from, to, &resources);
            assert_eq!(
                got, want,
                "case {case}: tz {tz}, rules {rules:?}, now {now}"
            );
            total_slots += got.len();
        }
        // Make sure the generator actually exercises the engine.
        assert!(total_slots > 1_000, "only {total_slots} slots generated");
    }

    // ---- schedules: own hours and date exceptions ----

    fn exc(
        kind: ExceptionKind,
        resource: Option<usize>,
        from: NaiveDate,
        to: NaiveDate,
        times: Option<(NaiveTime, NaiveTime)>,
    ) -> DateException {
        DateException {
            kind,
            resource,
            start_date: from,
            end_date: to,
            times,
            recurring_yearly: false,
        }
    }

    #[test]
    fn plain_schedule_matches_weekly_hours() {
        let s = Schedule::weekly(weekdays_9_17());
        let busy = vec![vec![busy(ny(mon(), 10, 0), ny(mon(), 10, 30))], vec![]];
        let a = compute_schedule_slots(NY, &s, &rules30(), early_now(), mon(), mon(), &busy);
        let b = compute_slots(
            NY,
            &weekdays_9_17(),
            &rules30(),
            early_now(),
            mon(),
            mon(),
            &busy,
        );
        assert_eq!(a, b);
    }

    #[test]
    fn own_hours_time_off_closure_and_extra_hours() {
        // Resource 1 works 12:00–15:00 only; resource 0 the tenant's 9–17.
        let mut own = WeeklyHours::default();
        for day in own.days.iter_mut().take(5) {
            day.push((t(12, 0), t(15, 0)));
        }
        let tue = d(2026, 1, 6);
        let wed = d(2026, 1, 7);
        let sat = d(2026, 1, 10);
        let s = Schedule {
            tenant: weekdays_9_17(),
            own_hours: vec![None, Some(own)],
            exceptions: vec![
                // Resource 0 away Monday 13:00–14:00.
                exc(
                    ExceptionKind::TimeOff,
                    Some(0),
                    mon(),
                    mon(),
                    Some((t(13, 0), t(14, 0))),
                ),
                // Everyone closed on Tuesday.
                exc(ExceptionKind::Closed, None, tue, tue, None),
                // Resource 1 off all Wednesday.
                exc(ExceptionKind::TimeOff, Some(1), wed, wed, None),
                // Saturday morning opening for everyone.
                exc(
                    ExceptionKind::ExtraHours,
                    None,
                    sat,
                    sat,
                    Some((t(9, 0), t(11, 0))),
                ),
            ],
        };
        let slots = compute_schedule_slots(
            NY,
            &s,
            &rules30(),
            early_now(),
            mon(),
            sat,
            &[vec![], vec![]],
        )
        .unwrap();
        let at = |date: NaiveDate, h, m| {
            slots
                .iter()
                .find(|x| x.start == ny(date, h, m))
                .map(|x| x.free)
        };
        assert_eq!(at(mon(), 9, 0), Some(0b01));
        assert_eq!(at(mon(), 12, 0), Some(0b11));
        assert_eq!(at(mon(), 12, 30), Some(0b11));
        assert_eq!(at(mon(), 13, 0), Some(0b10), "resource 0 is off 13–14");
        assert_eq!(at(mon(), 13, 30), Some(0b10));
        assert_eq!(at(mon(), 14, 0), Some(0b11));
        assert_eq!(at(mon(), 15, 0), Some(0b01));
        assert!(starts_local(&slots, tue).is_empty());
        assert_eq!(at(wed, 12, 0), Some(0b01));
        assert_eq!(
            starts_local(&slots, sat),
            vec![(9, 0), (9, 30), (10, 0), (10, 30)]
        );
        assert_eq!(at(sat, 9, 0), Some(0b11));
        assert!(s.fits(NY, 0, ny(mon(), 12, 0), ny(mon(), 12, 30)));
        assert!(!s.fits(NY, 0, ny(mon(), 12, 30), ny(mon(), 13, 30)));
        assert!(s.closed_by_exception(NY, 0, ny(mon(), 13, 0), ny(mon(), 13, 30)));
        assert!(!s.closed_by_exception(NY, 1, ny(mon(), 9, 0), ny(mon(), 9, 30)));
    }

    #[test]
    fn yearly_exceptions_recur_and_cross_the_new_year() {
        let x = DateException {
            recurring_yearly: true,
            ..exc(
                ExceptionKind::Closed,
                None,
                d(2025, 12, 31),
                d(2026, 1, 1),
                None,
            )
        };
        assert!(x.occurs_on(d(2025, 12, 31)));
        assert!(x.occurs_on(d(2027, 1, 1)));
        assert!(x.occurs_on(d(2030, 12, 31)));
        assert!(!x.occurs_on(d(2027, 1, 2)));
        assert!(!x.occurs_on(d(2024, 12, 31)), "not before it was made");
        let leap = DateException {
            recurring_yearly: true,
            ..exc(
                ExceptionKind::Closed,
                None,
                d(2028, 2, 29),
                d(2028, 2, 29),
                None,
            )
        };
        assert!(leap.occurs_on(d(2032, 2, 29)));
        assert!(!leap.occurs_on(d(2029, 3, 1)));
    }

    #[test]
    fn closure_on_the_dst_change_covers_the_short_day() {
        // Sunday 8 March 2026 in New York is 23 hours long.
        let sun = d(2026, 3, 8);
        let x = exc(ExceptionKind::Closed, None, sun, sun, None);
        let (a, b) = x.span_on(NY, sun);
        assert_eq!(b - a, Duration::hours(23));
        assert_eq!(a, z(2026, 3, 8, 5, 0));
    }
}
