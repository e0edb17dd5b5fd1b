//! The waitlist as a lifecycle: an opened time is offered to one waiting entry with a real
//! hold owned by the offer (its lifetime is the offer's, `WAITLIST_OFFER_MINUTES`), so
//! nobody else can take the time meanwhile. The client accepts with the offer's token (a
//! link) or by replying BOOK; accepting confirms that hold into a booking like any confirm
//! (SERIALIZABLE, the rule locks, the exclusion constraint). An offer that runs out
//! releases its hold and the time passes to the next matching entry (a `SlotOpened`, the
//! same path as a cancellation). A client may leave the waitlist at any time.

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::freebusy::ExternalBusy;
use super::{
    confirm_retryable, is_constraint, is_retryable, offered_slot, retry_transaction, BookingError,
    BookingService, ClientDetails, LockedRules, Result, RuleLocks, TenantSchedule,
};
use crate::db::bookings::{self as q, AppointmentRow, HoldRow};
use crate::db::tenants::ServiceRow;
use crate::db::waitlist::{self as wl, WaitlistStatus};
use crate::db::{audit, outbox};
use crate::domain::events::{self, DomainEvent};
use crate::domain::{ClientName, Email, PhoneE164, SessionId, TenantId};

/// Offers that run out, handled per tick.
const EXPIRY_BATCH: i64 = 100;

/// An offer made to a waitlist entry: the hold kept for it and the token that accepts it
/// (shown to the client once; only its hash is stored).
#[derive(Debug, Clone)]
pub struct WaitlistOffer {
    pub entry_id: Uuid,
    pub hold: HoldRow,
    pub token: String,
}

/// SHA-256 (hex) of an offer token: what the entry keeps.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

fn new_token() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("wo_{}", hex::encode(bytes))
}

/// The session an offer's hold belongs to: the offer's own, never the chat's that joined
/// the waitlist (a new hold in that chat would otherwise release the offer's hold without
/// passing the time on).
fn offer_session(entry: Uuid) -> String {
    format!("waitlist-{}", entry.simple())
}

impl BookingService {
    /// Offers `start` (of `service_id`) to the waitlist entry: a hold for the entry, kept for
    /// the offer's lifetime, and a fresh token. When that entry no longer waits, the next
    /// matching entry that does gets the offer (the answer names it). None when nobody waits
    /// for it or the time is no longer free. An entry already offered this very time (a
    /// retried job) gets a new token for the same hold.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %entry, %start))]
    pub async fn offer_to_waitlist(
        &self,
        tenant: TenantId,
        entry: Uuid,
        service_id: Uuid,
        start: DateTime<Utc>,
    ) -> Result<Option<WaitlistOffer>> {
        let (sched, service) = self.schedule_and_service(tenant, service_id).await?;
        let date = sched.local_date(start);
        // The calendar is read before any lock is taken (no network call under a lock).
        let external = self
            .calendar_busy(&sched, date, date, &service.resource_ids)
            .await;
        let retry = |e: &sqlx::Error| {
            is_retryable(e) || is_constraint(e, "waitlist_entries_offer_token_hash_key")
        };
        retry_transaction(retry, || {
            self.offer_once(&sched, &service, entry, start, &external)
        })
        .await
    }

    async fn offer_once(
        &self,
        sched: &TenantSchedule,
        service: &ServiceRow,
        entry: Uuid,
        start: DateTime<Utc>,
        external: &ExternalBusy,
    ) -> Result<Option<WaitlistOffer>> {
        let tenant_id = sched.tenant.id;
        let mut tx = self.pool.begin().await?;
        // Lock order: the entry row, then hold rows, then the resource-day locks.
        let Some(row) = wl::lock_entry(&mut tx, tenant_id, entry).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let token = new_token();
        // A retried job: the entry already holds this very time; a new token for it.
        let same = match (row.status, row.offer_hold_id) {
            (WaitlistStatus::Offered, Some(hold_id)) => {
                q::hold_for_update(&mut tx, tenant_id, hold_id)
                    .await?
                    .filter(|h| h.start_at == start && h.expires_at > now)
            }
            _ => None,
        };
        if let Some(hold) = same {
            wl::mark_offered(
                &mut tx,
                entry,
                &wl::Offer {
                    hold_id: hold.id,
                    service_id: hold.service_id,
                    start: hold.start_at,
                    end: hold.end_at,
                    expires_at: hold.expires_at,
                    token_hash: &token_hash(&token),
                },
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(Some(WaitlistOffer {
                entry_id: entry,
                hold,
                token,
            }));
        }
        // The entry planned for this time no longer waits (another time was offered to it
        // meanwhile, or it left): the next matching entry that waits gets it instead.
        let entry = if row.status == WaitlistStatus::Waiting {
            entry
        } else {
            let mut next = None;
            for candidate in wl::matching_entries(&mut tx, tenant_id, service.id, start).await? {
                if candidate == entry {
                    continue;
                }
                let waits = wl::lock_entry(&mut tx, tenant_id, candidate)
                    .await?
                    .is_some_and(|r| r.status == WaitlistStatus::Waiting);
                if waits {
                    next = Some(candidate);
                    break;
                }
            }
            match next {
                Some(e) => e,
                None => return Ok(None),
            }
        };
        // The locks and checks of any hold (buffers of the service, its daily cap).
        let rules = sched.rules(service);
        let mut locks = RuleLocks::new();
        locks.booking(sched, service, &service.resource_ids, start, rules.duration);
        // READ COMMITTED, like any hold: the rules read with the schedule are checked after
        // the locks, with the busy time (that statement's snapshot follows the lock wait).
        locks.take(&mut tx).await?;
        let (slot, resource) = match offered_slot(
            &mut tx,
            sched,
            service,
            &rules,
            &service.resource_ids,
            start,
            now,
            None,
            external,
            false,
            LockedRules::Known(&sched.extras),
        )
        .await
        {
            Ok(found) => found,
            Err(BookingError::SlotUnavailable) => return Ok(None),
            Err(e) => return Err(e),
        };
        let expires_at = now + self.offer_ttl;
        let hold = q::insert_hold(
            &mut tx,
            &q::NewHold {
                id: Uuid::new_v4(),
                tenant_id,
                service_id: service.id,
                resource_id: resource,
                session_id: offer_session(entry),
                start: slot.start,
                end: slot.end,
                expires_at,
                moves_appointment_id: None,
            },
        )
        .await?;
        wl::mark_offered(
            &mut tx,
            entry,
            &wl::Offer {
                hold_id: hold.id,
                service_id: service.id,
                start: hold.start_at,
                end: hold.end_at,
                expires_at,
                token_hash: &token_hash(&token),
            },
            now,
        )
        .await?;
        audit_entry(
            &mut tx,
            tenant_id,
            entry,
            "waitlist.offered",
            json!({"hold_id": hold.id, "service_id": service.id, "start": hold.start_at, "expires_at": expires_at}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(WaitlistOffer {
            entry_id: entry,
            hold,
            token,
        }))
    }

    /// Accepts the offer `token` names: its hold becomes a booking for the entry's client.
    /// Accepting again answers the same booking (`created` false).
    pub async fn accept_waitlist_offer(
        &self,
        tenant: TenantId,
        token: &str,
    ) -> Result<(AppointmentRow, bool, chrono_tz::Tz)> {
        let token = token.trim();
        if token.is_empty() || token.len() > 100 {
            return Err(BookingError::OfferNotFound);
        }
        let entry = wl::by_token_hash(&self.pool, tenant.0, &token_hash(token))
            .await?
            .ok_or(BookingError::OfferNotFound)?;
        self.accept_entry_offer(tenant, entry).await
    }

    /// What the offer `token` names (for its holder): None when no offer has that token.
    pub async fn waitlist_offer(
        &self,
        tenant: TenantId,
        token: &str,
    ) -> Result<Option<(wl::OfferView, chrono_tz::Tz)>> {
        let tz = self.time_zone(tenant).await?;
        let token = token.trim();
        if token.is_empty() || token.len() > 100 {
            return Ok(None);
        }
        Ok(
            wl::offer_by_token_hash(&self.pool, tenant.0, &token_hash(token))
                .await?
                .map(|v| (v, tz)),
        )
    }

    /// Accepts the newest open offer made to this phone (an SMS reply).
    pub async fn accept_waitlist_offer_by_phone(
        &self,
        tenant: TenantId,
        phone: &PhoneE164,
    ) -> Result<(AppointmentRow, bool, chrono_tz::Tz)> {
        let entry = wl::offered_for_phone(&self.pool, tenant.0, phone.as_str())
            .await?
            .ok_or(BookingError::OfferNotFound)?;
        self.accept_entry_offer(tenant, entry).await
    }

    async fn accept_entry_offer(
        &self,
        tenant: TenantId,
        entry: Uuid,
    ) -> Result<(AppointmentRow, bool, chrono_tz::Tz)> {
        let sched = self.schedule(tenant).await?;
        let done = retry_transaction(confirm_retryable, || self.accept_once(&sched, entry)).await;
        self.after_confirm(&sched, done).await
    }

    async fn accept_once(
        &self,
        sched: &TenantSchedule,
        entry: Uuid,
    ) -> Result<(AppointmentRow, bool)> {
        let tenant_id = sched.tenant.id;
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await?;
        let result = self.accept_in(&mut tx, sched, entry).await;
        match result {
            Ok(done) => {
                tx.commit().await?;
                Ok(done)
            }
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, tenant_id = %tenant_id, "rollback after a refused offer failed");
                }
                Err(e)
            }
        }
    }

    async fn accept_in(
        &self,
        tx: &mut PgConnection,
        sched: &TenantSchedule,
        entry: Uuid,
    ) -> Result<(AppointmentRow, bool)> {
        let tenant_id = sched.tenant.id;
        q::index_probes_only(tx).await?;
        let row = wl::lock_entry(tx, tenant_id, entry)
            .await?
            .ok_or(BookingError::OfferNotFound)?;
        match row.status {
            WaitlistStatus::Offered => {}
            WaitlistStatus::Booked => {
                let id = row.booked_appointment_id.ok_or(BookingError::OfferClosed)?;
                let appt = q::appointment_by_id(&mut *tx, id)
                    .await?
                    .ok_or(BookingError::OfferClosed)?;
                return Ok((appt, false));
            }
            WaitlistStatus::Expired => return Err(BookingError::OfferExpired),
            WaitlistStatus::Waiting | WaitlistStatus::Cancelled => {
                return Err(BookingError::OfferClosed)
            }
        }
        let now = self.clock.now();
        if row.offer_expires_at.is_none_or(|at| at <= now) {
            return Err(BookingError::OfferExpired);
        }
        let hold_id = row.offer_hold_id.ok_or(BookingError::OfferClosed)?;
        let email = Email::parse(row.client_email.as_deref().unwrap_or_default())?;
        let name = row
            .client_name
            .as_deref()
            .and_then(|n| ClientName::parse(n).ok())
            .map_or_else(|| ClientName::parse(email.as_str()), Ok)?;
        let client = ClientDetails {
            name,
            email,
            phone: row
                .client_phone
                .as_deref()
                .and_then(|p| PhoneE164::parse(p).ok()),
            notes: None,
            time_zone: None,
            locale: crate::domain::Locale::from_code(&row.locale),
        };
        let session = match q::hold_for_update(tx, tenant_id, hold_id).await? {
            Some(h) => SessionId::parse(&h.session_id)?,
            None => SessionId::parse(&offer_session(entry))?,
        };
        let (appt, created) = match self.confirm_in(tx, sched, hold_id, &session, &client).await {
            Err(BookingError::HoldExpired | BookingError::HoldNotFound) => {
                return Err(BookingError::OfferExpired)
            }
            other => other?,
        };
        wl::close(tx, entry, WaitlistStatus::Booked, Some(appt.id), now).await?;
        audit_entry(
            tx,
            tenant_id,
            entry,
            "waitlist.booked",
            json!({"reference": appt.reference, "hold_id": hold_id}),
        )
        .await?;
        Ok((appt, created))
    }

    /// Offers whose time ran out: each releases its hold, its entry becomes `expired`, and
    /// the time (still ahead) is opened again, so it passes to the next matching entry.
    /// Returns how many offers expired.
    pub async fn expire_waitlist_offers(&self) -> Result<usize> {
        let now = self.clock.now();
        let mut n = 0;
        for (tenant, entry) in wl::due_offers(&self.pool, now, EXPIRY_BATCH).await? {
            if self
                .close_entry(tenant, entry, WaitlistStatus::Expired, true)
                .await?
            {
                n += 1;
            }
        }
        if n > 0 {
            self.after_commit(Ok(())).await?;
        }
        Ok(n)
    }

    /// The client leaves the waitlist: the open entries of this phone become `cancelled`
    /// (an offered time is released and passes on). Returns how many entries left.
    pub async fn leave_waitlist_by_phone(
        &self,
        tenant: TenantId,
        phone: &PhoneE164,
    ) -> Result<usize> {
        let entries = wl::open_for_phone(&self.pool, tenant.0, phone.as_str()).await?;
        self.leave(tenant, entries).await
    }

    /// The client leaves the waitlist from the chat that joined it.
    pub async fn leave_waitlist_by_session(
        &self,
        tenant: TenantId,
        session: &SessionId,
    ) -> Result<usize> {
        let entries = wl::open_for_session(&self.pool, tenant.0, session.as_str()).await?;
        self.leave(tenant, entries).await
    }

    async fn leave(&self, tenant: TenantId, entries: Vec<Uuid>) -> Result<usize> {
        let mut n = 0;
        for entry in entries {
            if self
                .close_entry(tenant.0, entry, WaitlistStatus::Cancelled, false)
                .await?
            {
                n += 1;
            }
        }
        if n > 0 {
            self.after_commit(Ok(())).await?;
        }
        Ok(n)
    }

    /// Closes an open entry as `status`, releasing the hold of its offer (and opening that
    /// time again when it is still ahead). With `only_due`, only an offer that has run out
    /// is closed. False when the entry was not open (or not due).
    async fn close_entry(
        &self,
        tenant: Uuid,
        entry: Uuid,
        status: WaitlistStatus,
        only_due: bool,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = wl::lock_entry(&mut tx, tenant, entry).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        let open = match row.status {
            WaitlistStatus::Offered => {
                !only_due || row.offer_expires_at.is_some_and(|at| at <= now)
            }
            WaitlistStatus::Waiting => !only_due,
            _ => false,
        };
        if !open {
            return Ok(false);
        }
        let mut released = None;
        if let Some(hold_id) = row.offer_hold_id {
            if let Some(hold) = q::hold_for_update(&mut tx, tenant, hold_id).await? {
                q::delete_hold(&mut tx, hold.id).await?;
                released = Some(hold);
            }
        }
        wl::close(&mut tx, entry, status, None, now).await?;
        let event = match status {
            WaitlistStatus::Expired => "waitlist.offer_expired",
            _ => "waitlist.left",
        };
        audit_entry(
            &mut tx,
            tenant,
            entry,
            event,
            json!({"hold_id": released.as_ref().map(|h| h.id), "start": released.as_ref().map(|h| h.start_at)}),
        )
        .await?;
        if let Some(h) = released.filter(|h| h.start_at > now) {
            outbox::append(
                &mut tx,
                &DomainEvent::SlotOpened(events::SlotOpened {
                    tenant_id: h.tenant_id,
                    service_id: h.service_id,
                    resource_id: h.resource_id,
                    start: h.start_at,
                    end: h.end_at,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

async fn audit_entry(
    conn: &mut PgConnection,
    tenant: Uuid,
    entry: Uuid,
    event: &'static str,
    payload: serde_json::Value,
) -> Result<(), sqlx::Error> {
    audit::record(
        conn,
        audit::AuditEntry {
            tenant_id: Some(tenant),
            event_type: event,
            entity_type: "waitlist_entry",
            entity_id: Some(entry.to_string()),
            actor: "system",
            payload,
        },
    )
    .await
}
