-- Tables shared by the chat agent (which writes them) and the autonomous tools (which
-- read and update them): the waitlist, follow-up contacts and proactive pushes.

-- Clients waiting for a slot to open (the agent's create_inquiry tool).
CREATE TABLE waitlist_entries (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    session_id      text,
    service_id      uuid REFERENCES services(id) ON DELETE SET NULL,
    -- local dates the client can do (inclusive); NULL = any
    preferred_from  date,
    preferred_to    date,
    -- 'morning' | 'afternoon' | 'evening' | NULL (any)
    time_of_day     text CHECK (time_of_day IN ('morning', 'afternoon', 'evening')),
    client_name     text,
    client_email    text,
    client_phone    text,
    status          text NOT NULL DEFAULT 'waiting'
                    CHECK (status IN ('waiting', 'notified', 'booked', 'expired', 'cancelled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    notified_at     timestamptz
);
CREATE INDEX waitlist_waiting_idx ON waitlist_entries (tenant_id, service_id) WHERE status = 'waiting';

-- Follow-up contacts a session asked for (schedule_contact_followup): the per-session limit,
-- the per-recipient cooldown and the explicit-confirmation guard read this table.
CREATE TABLE followup_contacts (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    session_id    text NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient     text NOT NULL,
    reason        text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'sent', 'failed', 'cancelled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX followup_session_idx ON followup_contacts (tenant_id, session_id, created_at);
CREATE INDEX followup_recipient_idx ON followup_contacts (tenant_id, recipient, created_at);

-- Proactive messages for a chat session (waitlist_match, calendar_retry_success). Persisted
-- so a client that reconnects gets what it missed; delivered_at marks delivery.
CREATE TABLE push_events (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    session_id    text NOT NULL,
    type          text NOT NULL CHECK (type IN ('waitlist_match', 'calendar_retry_success')),
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);
CREATE INDEX push_events_pending_idx ON push_events (session_id, created_at) WHERE delivered_at IS NULL;
CREATE INDEX push_events_dedup_idx ON push_events (session_id, type, created_at);
