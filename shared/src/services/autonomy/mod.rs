//! Autonomy: the orchestrator (domain event → policy → jobs) and the job runner (due jobs →
//! registered tools). The SQS worker, the scheduler and the standalone server all drive
//! this one type; only how events arrive differs.
//!
//! - Consumers deduplicate by the outbox event id (`processed_events`), in the same
//!   transaction as the jobs they enqueue, so a redelivered event changes nothing.
//! - The orchestrator never runs a tool inline: it enqueues jobs with an idempotency key
//!   (booking id + tool + what makes the job unique), each gated by the policy engine.
//! - `AUTONOMY_ENABLED=false`: events are still recorded, audited and decided by policy;
//!   no job is enqueued and none runs.

pub mod actions;
pub mod jobs;
pub mod policy;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use self::actions::{ActionCtx, ActionError, ActionOutcome};
use self::jobs::{backoff, JobSpec, ReminderKind, Tool};
use crate::db::{audit, bookings, followups, jobs as q, outbox, policy as policy_db, waitlist};
use crate::domain::events::{self, DomainEvent};
use crate::domain::{SessionId, TenantId};
use crate::ports::calendar::CalendarProvider;
use crate::ports::clock::Clock;
use crate::ports::events::EventEnvelope;
use crate::services::booking::BookingService;
use crate::services::push::LivePush;
use crate::services::relay::OutboxRelay;

/// A hold follow-up goes to a session at most once in this window.
pub const HOLD_FOLLOWUP_COOLDOWN: Duration = Duration::minutes(30);
/// Jobs claimed longer ago than this are assumed orphaned (their runner died).
pub const STALE_CLAIM: Duration = Duration::minutes(5);
/// The calendar promise: three retries (30 s, 120 s, 480 s), then escalation.
pub const CALENDAR_RETRIES: i32 = 3;
const DEFAULT_MAX_ATTEMPTS: i32 = 3;
const CLAIM_BATCH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum AutonomyError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventOutcome {
    /// The event had been processed before: nothing was done.
    pub duplicate: bool,
    pub jobs_enqueued: usize,
    pub denied: usize,
    /// Allowed by policy but not enqueued because autonomy is off.
    pub skipped_disabled: usize,
    pub cancelled: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub completed: usize,
    pub skipped: usize,
    pub retried: usize,
    pub failed: usize,
    pub refused: usize,
    pub denied: usize,
}

impl RunReport {
    pub fn total(&self) -> usize {
        self.completed + self.skipped + self.retried + self.failed + self.refused + self.denied
    }
}

#[derive(Clone)]
pub struct Autonomy {
    pub(crate) pool: PgPool,
    pub(crate) clock: Clock,
    pub(crate) enabled: bool,
    actions: ActionCtx,
    relay: Option<OutboxRelay>,
    live: Option<LivePush>,
}

/// A job the orchestrator wants, before policy.
struct Planned {
    spec: JobSpec,
    run_at: DateTime<Utc>,
    priority: i32,
    max_attempts: i32,
    key: String,
    session_id: Option<String>,
    context: Value,
}

/// An orchestrator's audit row about a job (or a job it did not create).
fn job_audit(
    tenant: Uuid,
    job: Option<Uuid>,
    event: &'static str,
    payload: Value,
) -> audit::AuditEntry<'static> {
    audit::AuditEntry {
        tenant_id: Some(tenant),
        event_type: event,
        entity_type: "job",
        entity_id: job.map(|j| j.to_string()),
        actor: "orchestrator",
        payload,
    }
}

impl Autonomy {
    /// `booking` gives the pool, the clock and availability (waitlist offers).
    pub fn new(
        booking: BookingService,
        enabled: bool,
        calendar: Arc<dyn CalendarProvider>,
    ) -> Self {
        Self {
            pool: booking.pool().clone(),
            clock: booking.clock().clone(),
            enabled,
            actions: ActionCtx {
                pool: booking.pool().clone(),
                clock: booking.clock().clone(),
                calendar,
                booking,
                public_base_url: String::new(),
            },
            relay: None,
            live: None,
        }
    }

    /// Where links in the tools' messages point (`PUBLIC_BASE_URL`).
    pub fn with_public_base_url(mut self, url: &str) -> Self {
        self.actions.public_base_url = url.trim_end_matches('/').to_string();
        self
    }

    /// Publishes the outbox rows tools write (e.g. `CalendarRetryExhausted`) after each run.
    pub fn with_relay(mut self, relay: OutboxRelay) -> Self {
        self.relay = Some(relay);
        self
    }

    /// Posts the pushes tools write to the session's open connections right after the
    /// job's transaction commits.
    pub fn with_live_push(mut self, live: LivePush) -> Self {
        self.live = Some(live);
        self
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn relay(&self) -> Option<&OutboxRelay> {
        self.relay.as_ref()
    }

    // --- the orchestrator -------------------------------------------------------------

    /// Reacts to one delivered event: dedup, audit, plan, policy, enqueue — one transaction.
    #[tracing::instrument(skip_all, fields(event_id = %env.event_id, tenant_id = %env.tenant_id, event = env.event.name()))]
    pub async fn handle_event(&self, env: &EventEnvelope) -> Result<EventOutcome, AutonomyError> {
        let mut out = EventOutcome::default();
        let mut tx = self.pool.begin().await?;
        let name = env.event.name();
        if !q::mark_event_processed(&mut tx, env.event_id, env.tenant_id, name).await? {
            tx.commit().await?;
            tracing::info!("duplicate event ignored");
            out.duplicate = true;
            return Ok(out);
        }
        // The event's audit rows are written together at the end, in one statement.
        let mut audits = vec![audit::AuditEntry {
            tenant_id: Some(env.tenant_id),
            event_type: "event.received",
            entity_type: "event",
            entity_id: Some(env.event_id.to_string()),
            actor: "orchestrator",
            payload: json!({ "event": name, "detail": env.event.detail(), "autonomy_enabled": self.enabled }),
        }];
        let now = self.clock.now();

        // Moving or cancelling a booking retires its old reminders whatever the switch says:
        // a stale reminder must never go out.
        match &env.event {
            DomainEvent::BookingRescheduled(e) => {
                out.cancelled += self
                    .cancel_jobs(
                        &mut tx,
                        e.tenant_id,
                        e.booking_id,
                        &[Tool::SendReminder],
                        "rescheduled",
                        &mut audits,
                    )
                    .await?;
            }
            DomainEvent::BookingCancelled(e) => {
                out.cancelled += self
                    .cancel_jobs(
                        &mut tx,
                        e.tenant_id,
                        e.booking_id,
                        &[
                            Tool::SendReminder,
                            Tool::SendConfirmation,
                            Tool::RetryCalendarSync,
                        ],
                        "cancelled",
                        &mut audits,
                    )
                    .await?;
            }
            _ => {}
        }

        let planned = self.plan(&mut tx, env, now, &mut audits).await?;
        // One read of the tenant's rules for every decision of this event.
        let rules = if planned.is_empty() {
            Vec::new()
        } else {
            policy_db::rules_for_tenant(&mut *tx, env.tenant_id).await?
        };
        for p in planned {
            let tool = p.spec.tool();
            let (decision, entry) = policy::judge(
                &rules,
                env.tenant_id,
                tool.name(),
                &p.context,
                Some(p.key.clone()),
            );
            audits.push(entry);
            if !decision.allowed() {
                out.denied += 1;
                continue;
            }
            if !self.enabled {
                out.skipped_disabled += 1;
                audits.push(job_audit(
                    env.tenant_id,
                    None,
                    "job.skipped_autonomy_disabled",
                    json!({"tool": tool.name(), "key": p.key}),
                ));
                continue;
            }
            let job = q::NewJob {
                tenant_id: env.tenant_id,
                kind: tool.name().to_string(),
                payload: serde_json::to_value(&p.spec).unwrap_or_default(),
                priority: p.priority,
                run_at: p.run_at,
                max_attempts: p.max_attempts,
                idempotency_key: p.key.clone(),
                booking_id: p.spec.booking_id(),
                session_id: p.session_id.clone(),
                source_event_id: Some(env.event_id),
            };
            match q::enqueue(&mut tx, &job, now).await? {
                Some(id) => {
                    out.jobs_enqueued += 1;
                    audits.push(job_audit(
                        env.tenant_id,
                        Some(id),
                        "job.created",
                        json!({"tool": tool.name(), "run_at": p.run_at, "key": p.key}),
                    ));
                }
                None => {
                    audits.push(job_audit(
                        env.tenant_id,
                        None,
                        "job.duplicate",
                        json!({"tool": tool.name(), "key": p.key}),
                    ));
                }
            }
        }
        audit::record_many(&mut tx, &audits).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn cancel_jobs(
        &self,
        conn: &mut PgConnection,
        tenant: Uuid,
        booking: Uuid,
        tools: &[Tool],
        why: &str,
        audits: &mut Vec<audit::AuditEntry<'static>>,
    ) -> Result<usize, sqlx::Error> {
        let kinds: Vec<&str> = tools.iter().map(|t| t.name()).collect();
        let ids = q::cancel_for_booking(conn, booking, &kinds).await?;
        for id in &ids {
            audits.push(job_audit(
                tenant,
                Some(*id),
                "job.cancelled",
                json!({"reason": why, "booking_id": booking}),
            ));
        }
        Ok(ids.len())
    }

    async fn plan(
        &self,
        conn: &mut PgConnection,
        env: &EventEnvelope,
        now: DateTime<Utc>,
        audits: &mut Vec<audit::AuditEntry<'static>>,
    ) -> Result<Vec<Planned>, sqlx::Error> {
        let name = env.event.name();
        let base = |extra: Value| {
            let mut ctx =
                json!({ "event_type": name, "tenant_id": env.tenant_id, "channel": "email" });
            if let (Some(m), Value::Object(x)) = (ctx.as_object_mut(), extra) {
                m.extend(x);
            }
            ctx
        };
        let hours_until = |start: DateTime<Utc>| (start - now).num_seconds() as f64 / 3600.0;
        let mut plan = Vec::new();
        match &env.event {
            DomainEvent::BookingCreated(e) => {
                plan.push(confirmation(
                    e.booking_id,
                    0,
                    now,
                    base(json!({"hours_until_start": hours_until(e.start)})),
                ));
                plan.extend(reminders(e.booking_id, 0, e.start, now, &base));
            }
            DomainEvent::BookingRescheduled(e) => {
                plan.push(confirmation(
                    e.booking_id,
                    e.sequence,
                    now,
                    base(json!({"hours_until_start": hours_until(e.start), "rescheduled": true})),
                ));
                plan.extend(reminders(e.booking_id, e.sequence, e.start, now, &base));
            }
            DomainEvent::BookingCancelled(e) => plan.push(Planned {
                spec: JobSpec::SendCancellation {
                    booking_id: e.booking_id,
                },
                run_at: now,
                priority: 10,
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                key: format!("{}:send_cancellation", e.booking_id),
                session_id: bookings::session_of_appointment(&mut *conn, e.tenant_id, e.booking_id)
                    .await?,
                context: base(json!({"hours_until_start": hours_until(e.start)})),
            }),
            DomainEvent::HoldExpired(e) => {
                let tool = Tool::SendHoldFollowup.name();
                let since = now - HOLD_FOLLOWUP_COOLDOWN;
                // Expired holds are kept a day; an event replayed later finds no session.
                let Some(session) =
                    bookings::session_of_hold(&mut *conn, e.tenant_id, e.hold_id).await?
                else {
                    audits.push(job_audit(
                        e.tenant_id,
                        None,
                        "job.source_gone",
                        json!({"tool": tool, "hold_id": e.hold_id}),
                    ));
                    return Ok(plan);
                };
                if q::exists_for_session_since(&mut *conn, &session, tool, since).await? {
                    audits.push(job_audit(
                        e.tenant_id,
                        None,
                        "job.cooldown",
                        json!({"tool": tool, "hold_id": e.hold_id}),
                    ));
                } else {
                    plan.push(Planned {
                        spec: JobSpec::SendHoldFollowup {
                            hold_id: e.hold_id,
                            session_id: session.clone(),
                            service_id: e.service_id,
                            start: e.start,
                        },
                        run_at: now,
                        priority: 0,
                        max_attempts: DEFAULT_MAX_ATTEMPTS,
                        key: format!("{}:send_hold_followup", e.hold_id),
                        session_id: Some(session),
                        context: base(json!({"hours_until_start": hours_until(e.start)})),
                    });
                }
            }
            DomainEvent::SlotOpened(e) => {
                // The opened time is offered to one entry at a time: the oldest that suits
                // it gets a hold; when that offer runs out it passes to the next.
                if e.start > now {
                    for entry in
                        waitlist::matching_entries(conn, e.tenant_id, e.service_id, e.start)
                            .await?
                            .into_iter()
                            .take(1)
                    {
                        plan.push(waitlist_job(
                            entry,
                            e.service_id,
                            e.start,
                            e.end,
                            now,
                            base(json!({"hours_until_start": hours_until(e.start)})),
                        ));
                    }
                }
            }
            DomainEvent::WaitlistMatched(e) => {
                if e.start > now {
                    plan.push(waitlist_job(
                        e.entry_id,
                        e.service_id,
                        e.start,
                        e.end,
                        now,
                        base(json!({"hours_until_start": hours_until(e.start)})),
                    ));
                }
            }
            DomainEvent::CalendarWriteFailed(e) => plan.push(Planned {
                spec: JobSpec::RetryCalendarSync {
                    booking_id: e.booking_id,
                },
                run_at: now + backoff(1),
                priority: 5,
                max_attempts: CALENDAR_RETRIES,
                key: format!("{}:retry_calendar_sync:{}", e.booking_id, env.event_id),
                session_id: bookings::session_of_appointment(&mut *conn, e.tenant_id, e.booking_id)
                    .await?,
                context: base(json!({"operation": e.operation, "error_kind": e.error_kind})),
            }),
            DomainEvent::CalendarRetryExhausted(e) => plan.push(Planned {
                spec: JobSpec::EscalateCalendarFailure {
                    booking_id: e.booking_id,
                    attempts: e.attempts,
                },
                run_at: now,
                priority: 10,
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                key: format!(
                    "{}:escalate_calendar_failure:{}",
                    e.booking_id, env.event_id
                ),
                session_id: bookings::session_of_appointment(&mut *conn, e.tenant_id, e.booking_id)
                    .await?,
                context: base(json!({"attempts": e.attempts})),
            }),
            DomainEvent::NoShowRecorded(e) => plan.push(Planned {
                spec: JobSpec::SendNoShowFollowup {
                    booking_id: e.booking_id,
                },
                run_at: now,
                priority: 5,
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                key: format!("{}:send_no_show_followup", e.booking_id),
                session_id: bookings::session_of_appointment(&mut *conn, e.tenant_id, e.booking_id)
                    .await?,
                context: base(json!({"no_shows": e.no_shows})),
            }),
            DomainEvent::FollowupRequested(e) => plan.push(Planned {
                spec: JobSpec::SendContactFollowup {
                    followup_id: e.followup_id,
                },
                run_at: now,
                priority: 0,
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                key: format!("{}:send_contact_followup", e.followup_id),
                session_id: followups::session_of(&mut *conn, e.tenant_id, e.followup_id).await?,
                context: base(json!({"channel": e.channel})),
            }),
        }
        Ok(plan)
    }

    // --- the job runner -----------------------------------------------------------------

    /// Runs up to `limit` due jobs. Does nothing while autonomy is off.
    #[tracing::instrument(skip_all)]
    pub async fn run_due_jobs(&self, limit: usize) -> Result<RunReport, AutonomyError> {
        let mut report = RunReport::default();
        if !self.enabled {
            return Ok(report);
        }
        while report.total() < limit {
            let take = (limit - report.total()).min(CLAIM_BATCH) as i64;
            let mut tx = self.pool.begin().await?;
            let claimed = q::claim_due(&mut tx, self.clock.now(), take).await?;
            tx.commit().await?;
            if claimed.is_empty() {
                break;
            }
            let n = claimed.len();
            for job in claimed {
                self.run_job(job, &mut report).await?;
            }
            if (n as i64) < take {
                break;
            }
        }
        if report.total() > 0 {
            if let Some(relay) = &self.relay {
                relay.publish_after_commit().await;
            }
        }
        Ok(report)
    }

    #[tracing::instrument(skip_all, fields(job_id = %job.id, kind = %job.kind, attempt = job.attempts))]
    async fn run_job(&self, job: q::JobRow, report: &mut RunReport) -> Result<(), AutonomyError> {
        let spec = match JobSpec::from_row(&job.kind, &job.payload) {
            Ok(spec) => spec,
            Err(refusal) => {
                let mut tx = self.pool.begin().await?;
                q::fail(&mut tx, job.id, &format!("refused: {refusal}")).await?;
                self.audit_run(&mut tx, &job, "job.refused", json!({"kind": job.kind.chars().take(100).collect::<String>(), "reason": refusal.to_string()})).await?;
                tx.commit().await?;
                tracing::warn!(reason = %refusal, "job refused");
                report.refused += 1;
                return Ok(());
            }
        };
        let tool = spec.tool();
        // Policy again at run time: a tenant that turned a tool off after the job was
        // enqueued is obeyed.
        let mut tx = self.pool.begin().await?;
        let ctx = json!({"phase": "run", "tenant_id": job.tenant_id, "attempt": job.attempts, "channel": "email"});
        let decision = policy::decide(
            &mut tx,
            job.tenant_id,
            tool.name(),
            &ctx,
            Some(job.id.to_string()),
        )
        .await?;
        if !decision.allowed() {
            q::cancel_denied(&mut tx, job.id).await?;
            self.audit_run(
                &mut tx,
                &job,
                "job.denied",
                json!({"tool": tool.name(), "reason": decision.reason}),
            )
            .await?;
            tx.commit().await?;
            report.denied += 1;
            return Ok(());
        }
        tx.commit().await?;

        // External calls happen outside any transaction (no row locks held across network I/O).
        let external = actions::external_phase(&self.actions, &job, &spec).await;
        let mut tx = self.pool.begin().await?;
        match actions::run(&self.actions, &mut tx, &job, &spec, external).await {
            Ok(outcome) => {
                let mut pushed_to = None;
                let (event, detail, count) = match outcome {
                    ActionOutcome::Done(summary) => (
                        "job.completed",
                        json!({"tool": tool.name(), "result": summary}),
                        &mut report.completed,
                    ),
                    ActionOutcome::Pushed { summary, session } => {
                        pushed_to = Some(session);
                        (
                            "job.completed",
                            json!({"tool": tool.name(), "result": summary}),
                            &mut report.completed,
                        )
                    }
                    ActionOutcome::Skipped(reason) => (
                        "job.skipped",
                        json!({"tool": tool.name(), "reason": reason}),
                        &mut report.skipped,
                    ),
                };
                q::complete(&mut tx, job.id, self.clock.now()).await?;
                self.audit_run(&mut tx, &job, event, detail).await?;
                tx.commit().await?;
                *count += 1;
                if let Some(session) = pushed_to {
                    self.push_live(job.tenant_id, &session).await;
                }
            }
            Err(err) => {
                tx.rollback().await?;
                let mut tx = self.pool.begin().await?;
                let permanent = matches!(err, ActionError::Permanent(_));
                let msg = err.to_string();
                if let JobSpec::RetryCalendarSync { booking_id } = &spec {
                    audit::record(
                        &mut tx,
                        audit::AuditEntry {
                            tenant_id: Some(job.tenant_id),
                            event_type: "calendar.retry_failed",
                            entity_type: "appointment",
                            entity_id: Some(booking_id.to_string()),
                            actor: "job_runner",
                            payload: json!({"attempt": job.attempts, "error": msg}),
                        },
                    )
                    .await?;
                }
                if permanent || job.attempts >= job.max_attempts {
                    q::fail(&mut tx, job.id, &msg).await?;
                    self.audit_run(
                        &mut tx,
                        &job,
                        "job.failed",
                        json!({"tool": tool.name(), "error": msg, "attempts": job.attempts}),
                    )
                    .await?;
                    self.on_exhausted(&mut tx, &job, &spec).await?;
                    report.failed += 1;
                } else {
                    let at = self.clock.now() + spec.retry_delay(job.attempts);
                    q::retry_at(&mut tx, job.id, at, &msg).await?;
                    self.audit_run(&mut tx, &job, "job.retry_scheduled", json!({"tool": tool.name(), "error": msg, "attempts": job.attempts, "run_at": at})).await?;
                    report.retried += 1;
                }
                tx.commit().await?;
                tracing::info!(error = %msg, permanent, "job attempt failed");
            }
        }
        Ok(())
    }

    /// Posts the session's pending pushes to its open connections (when a pusher is
    /// configured). A failure is logged: the pushes stay pending for the client's next
    /// `hello` or turn.
    async fn push_live(&self, tenant: Uuid, session: &str) {
        let Some(live) = &self.live else {
            return;
        };
        match SessionId::parse(session) {
            Ok(session) => {
                live.deliver(TenantId(tenant), &session).await;
            }
            Err(e) => tracing::warn!(error = %e, "push written for an invalid session id"),
        }
    }

    /// When a job gives up for good. Calendar retries hand over to the escalation path
    /// through an event (so the policy engine decides the escalation too).
    async fn on_exhausted(
        &self,
        conn: &mut PgConnection,
        job: &q::JobRow,
        spec: &JobSpec,
    ) -> Result<(), sqlx::Error> {
        if let JobSpec::RetryCalendarSync { booking_id } = spec {
            if let Some(appt) =
                crate::db::bookings::appointment_by_id(&mut *conn, *booking_id).await?
            {
                outbox::append(
                    conn,
                    &DomainEvent::CalendarRetryExhausted(events::CalendarRetryExhausted {
                        tenant_id: job.tenant_id,
                        booking_id: *booking_id,
                        reference: appt.reference,
                        attempts: job.attempts,
                    }),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn audit_run(
        &self,
        conn: &mut PgConnection,
        job: &q::JobRow,
        event: &str,
        payload: Value,
    ) -> Result<(), sqlx::Error> {
        audit::record(
            conn,
            audit::AuditEntry {
                tenant_id: Some(job.tenant_id),
                event_type: event,
                entity_type: "job",
                entity_id: Some(job.id.to_string()),
                actor: "job_runner",
                payload,
            },
        )
        .await
    }

    /// Returns jobs claimed more than [`STALE_CLAIM`] ago to the queue (or fails them when
    /// no attempts are left). Returns how many.
    pub async fn reclaim_stale(&self) -> Result<usize, AutonomyError> {
        let mut tx = self.pool.begin().await?;
        let rows = q::reclaim_stale(&mut tx, self.clock.now() - STALE_CLAIM).await?;
        for (id, tenant, status) in &rows {
            audit::record(
                &mut tx,
                audit::AuditEntry {
                    tenant_id: Some(*tenant),
                    event_type: "job.reclaimed",
                    entity_type: "job",
                    entity_id: Some(id.to_string()),
                    actor: "scheduler",
                    payload: json!({ "status": status }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}

fn confirmation(booking: Uuid, sequence: i32, now: DateTime<Utc>, context: Value) -> Planned {
    Planned {
        spec: JobSpec::SendConfirmation {
            booking_id: booking,
            sequence,
        },
        run_at: now,
        priority: 10,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        key: format!("{booking}:send_confirmation:{sequence}"),
        session_id: None,
        context,
    }
}

/// The 24 h and 2 h reminders still in the future. The key carries the booking's sequence,
/// so each reschedule makes new keys (the old reminders are cancelled separately).
fn reminders(
    booking: Uuid,
    sequence: i32,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    base: &dyn Fn(Value) -> Value,
) -> Vec<Planned> {
    [ReminderKind::H24, ReminderKind::H2]
        .into_iter()
        .filter_map(|which| {
            let run_at = start - which.lead();
            (run_at > now).then(|| Planned {
                spec: JobSpec::SendReminder {
                    booking_id: booking,
                    which,
                    start,
                },
                run_at,
                priority: 5,
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                key: format!("{booking}:send_reminder:{}:s{sequence}", which.as_str()),
                session_id: None,
                context: base(json!({
                    "reminder": which.as_str(),
                    "hours_until_start": (start - now).num_seconds() as f64 / 3600.0,
                })),
            })
        })
        .collect()
}

fn waitlist_job(
    entry: Uuid,
    service: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    context: Value,
) -> Planned {
    Planned {
        spec: JobSpec::SendWaitlistNotification {
            entry_id: entry,
            service_id: service,
            start,
            end,
        },
        run_at: now,
        priority: 8,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        key: format!("{entry}:send_waitlist_notification:{}", start.timestamp()),
        session_id: None,
        context,
    }
}
