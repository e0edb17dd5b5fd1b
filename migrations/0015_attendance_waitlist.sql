-- Attendance and the waitlist as a lifecycle.
--
-- Attendance: a booking's outcome lives beside its status, so the exclusion constraint keeps
-- reading the status alone (a late cancellation is a cancellation: status 'cancelled', its
-- time free again, outcome 'late_cancel'). The client's own confirmation (SMS "C") is kept on
-- the booking; `confirm_by` is the deadline the no-show policy set for it, and
-- `cancel_reason` says why the system (not the client) cancelled it.
ALTER TABLE appointments
    ADD COLUMN outcome             text CHECK (outcome IN ('attended', 'no_show', 'late_cancel')),
    ADD COLUMN outcome_at          timestamptz,
    ADD COLUMN client_confirmed_at timestamptz,
    ADD COLUMN confirm_by          timestamptz,
    ADD COLUMN cancel_reason       text CHECK (cancel_reason IN ('unconfirmed'));
-- No-show counts per client (by email or by phone).
CREATE INDEX appointments_no_show_email_idx ON appointments (tenant_id, lower(client_email))
    WHERE outcome = 'no_show';
CREATE INDEX appointments_no_show_phone_idx ON appointments (tenant_id, client_phone)
    WHERE outcome = 'no_show';
-- Bookings waiting for the client's confirmation under the no-show policy.
CREATE INDEX appointments_confirm_by_idx ON appointments (confirm_by)
    WHERE confirm_by IS NOT NULL AND client_confirmed_at IS NULL AND status = 'confirmed';

-- The tenant's attendance settings. A cancellation less than `late_cancel_minutes` before
-- the start is late. With `no_show_confirm_threshold` set, a client with at least that many
-- no-shows must confirm (reply C) at least `no_show_confirm_hours` before the start, or the
-- booking is released.
ALTER TABLE tenants
    ADD COLUMN late_cancel_minutes integer NOT NULL DEFAULT 1440
        CHECK (late_cancel_minutes BETWEEN 0 AND 43200),
    ADD COLUMN no_show_confirm_threshold integer
        CHECK (no_show_confirm_threshold BETWEEN 1 AND 100),
    ADD COLUMN no_show_confirm_hours integer NOT NULL DEFAULT 24
        CHECK (no_show_confirm_hours BETWEEN 1 AND 336);

-- The waitlist: waiting → offered (a real hold kept for the entry until offer_expires_at)
-- → booked / expired / cancelled. `notified` (an old one-shot notice) ends as `expired`.
ALTER TABLE waitlist_entries DROP CONSTRAINT waitlist_entries_status_check;
UPDATE waitlist_entries SET status = 'expired' WHERE status = 'notified';
ALTER TABLE waitlist_entries
    ADD CONSTRAINT waitlist_entries_status_check
        CHECK (status IN ('waiting', 'offered', 'booked', 'expired', 'cancelled')),
    ADD COLUMN offer_hold_id        uuid,
    ADD COLUMN offer_service_id     uuid,
    ADD COLUMN offer_start          timestamptz,
    ADD COLUMN offer_end            timestamptz,
    ADD COLUMN offer_expires_at     timestamptz,
    ADD COLUMN offer_token_hash     text UNIQUE,
    ADD COLUMN booked_appointment_id uuid,
    ADD COLUMN closed_at            timestamptz;
CREATE INDEX waitlist_offer_expiry_idx ON waitlist_entries (offer_expires_at)
    WHERE status = 'offered';
CREATE INDEX waitlist_phone_idx ON waitlist_entries (tenant_id, client_phone)
    WHERE status IN ('waiting', 'offered');

-- The no-show follow-up (a rebooking offer) is allowed for everyone unless a tenant says otherwise.
INSERT INTO policy_rules (id, tenant_id, action, effect, priority, description) VALUES
  ('00000000-0000-4000-8000-00000000a009', NULL, 'send_no_show_followup', 'allow', 0,
   'default: a no-show follow-up with a rebooking offer');
