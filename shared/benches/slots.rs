//! Benchmark of the pure slot engine: 5 resources × 90 days, Mon–Fri 09:00–17:00
//! America/New_York (crossing the 2026-03-08 DST change), 30-minute step and duration,
//! 10-minute buffer, 1,500 busy intervals spread deterministically over the resources.
//!
//! Besides criterion's mean/median, a manual loop of 2,000 timed calls prints p50/p99/max
//! so the p99 target (≤ 1 ms) can be checked directly.

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::America::New_York;
use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, Criterion};
use gomomo::domain::slots::{compute_slots, local_to_utc, Busy, SlotRules, WeeklyHours};

const RESOURCES: usize = 5;
const DAYS: u64 = 90;
const BUSY_TOTAL: usize = 1_500;
const P99_ITERATIONS: usize = 2_000;

struct Input {
    tz: Tz,
    hours: WeeklyHours,
    rules: SlotRules,
    now: DateTime<Utc>,
    from: NaiveDate,
    to: NaiveDate,
    resources: Vec<Vec<Busy>>,
}

/// Deterministic 64-bit LCG (Knuth MMIX constants), high bits out.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

fn input() -> Input {
    let tz = New_York;
    let mut hours = WeeklyHours::default();
    for day in hours.days.iter_mut().take(5) {
        day.push((time(9, 0), time(17, 0)));
    }
    let rules = SlotRules {
        step: Duration::minutes(30),
        duration: Duration::minutes(30),
        buffer: Duration::minutes(10),
        min_notice: Duration::zero(),
        max_days_ahead: 120,
    };
    // Monday 2026-01-05 .. Sunday 2026-04-04 (90 days, 64 weekdays, across spring-forward).
    let from = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or(NaiveDate::MIN);
    let to = from + Duration::days(DAYS as i64 - 1);
    let now = Utc
        .with_ymd_and_hms(2026, 1, 4, 12, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC);

    // 1,500 appointments: resource i % 5, a random weekday of the 90, a random half-hour
    // start between 09:00 and 16:30 local, 30 or 60 minutes long (overlaps allowed).
    let mut rng = Lcg(0x00C0_FFEE_2026);
    let mut resources = vec![Vec::new(); RESOURCES];
    let mut placed = 0;
    while placed < BUSY_TOTAL {
        let date = from + Duration::days(rng.below(DAYS) as i64);
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        let half_hour = rng.below(16) as u32;
        let start = local_to_utc(
            tz,
            date,
            time(9 + half_hour / 2, 30 * (half_hour % 2)),
            true,
        );
        let len = Duration::minutes(30 * (1 + rng.below(2) as i64));
        resources[placed % RESOURCES].push(Busy {
            start,
            end: start + len,
        });
        placed += 1;
    }

    Input {
        tz,
        hours,
        rules,
        now,
        from,
        to,
        resources,
    }
}

fn run(input: &Input) -> usize {
    compute_slots(
        black_box(input.tz),
        black_box(&input.hours),
        black_box(&input.rules),
        black_box(input.now),
        black_box(input.from),
        black_box(input.to),
        black_box(&input.resources),
    )
    .map_or(0, |slots| slots.len())
}

fn manual_percentiles(input: &Input) {
    // Warm-up, then 2,000 individually timed calls.
    for _ in 0..200 {
        black_box(run(input));
    }
    let mut samples: Vec<StdDuration> = (0..P99_ITERATIONS)
        .map(|_| {
            let t0 = Instant::now();
            black_box(run(input));
            t0.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let pct = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)];
    let mean = samples.iter().sum::<StdDuration>() / samples.len() as u32;
    eprintln!(
        "slots/5x90d_1500busy manual loop ({P99_ITERATIONS} iterations, {} slots/call): \
         mean {mean:?}, p50 {:?}, p99 {:?}, max {:?}",
        run(input),
        pct(50),
        pct(99),
        samples[samples.len() - 1],
    );
}

fn bench_slots(c: &mut Criterion) {
    let input = input();
    manual_percentiles(&input);
    c.bench_function("slots/5x90d_1500busy", |b| b.iter(|| run(&input)));
}

criterion_group!(benches, bench_slots);
criterion_main!(benches);
