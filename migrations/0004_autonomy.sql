-- Autonomy: the policy engine's rules, the persistent job queue, the notification outbox
-- the autonomous tools write to, and the consumers' record of processed events.

-- Allow/deny rules for autonomous actions (an action is a registered tool name).
-- tenant_id NULL = a global rule. The engine is default-deny: no matching rule, no action.
-- Tenant rules are consulted before global ones; within each, higher priority first.
-- conditions: a JSON object matched against the decision context: {"key": v} is equality,
-- {"min_key": n} is context.key >= n, {"max_key": n} is context.key <= n.
CREATE TABLE policy_rules (
    id          uuid PRIMARY KEY,
    tenant_id   uuid REFERENCES tenants(id) ON DELETE CASCADE,
    action      text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    effect      text NOT NULL CHECK (effect IN ('allow', 'deny')),
    conditions  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(conditions) = 'object'),
    priority    integer NOT NULL DEFAULT 0,
    enabled     boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX policy_rules_lookup_idx ON policy_rules (action, tenant_id) WHERE enabled;

-- The standard tools are allowed for everyone unless a tenant says otherwise.
INSERT INTO policy_rules (id, tenant_id, action, effect, priority, description) VALUES
  ('00000000-0000-4000-8000-00000000a001', NULL, 'send_confirmation',          'allow', 0, 'default: booking confirmations'),
  ('00000000-0000-4000-8000-00000000a002', NULL, 'send_cancellation',          'allow', 0, 'default: cancellation notices'),
  ('00000000-0000-4000-8000-00000000a003', NULL, 'send_reminder',              'allow', 0, 'default: 24 h and 2 h reminders'),
  ('00000000-0000-4000-8000-00000000a004', NULL, 'retry_calendar_sync',        'allow', 0, 'default: calendar retries (30 s, 120 s, 480 s)'),
  ('00000000-0000-4000-8000-00000000a005', NULL, 'escalate_calendar_failure',  'allow', 0, 'default: escalate exhausted calendar retries'),
  ('00000000-0000-4000-8000-00000000a006', NULL, 'send_hold_followup',         'allow', 0, 'default: follow up abandoned holds'),
  ('00000000-0000-4000-8000-00000000a007', NULL, 'send_waitlist_notification', 'allow', 0, 'default: tell waitlisted clients about opened slots'),
  ('00000000-0000-4000-8000-00000000a008', NULL, 'send_contact_followup',      'allow', 0, 'default: follow-up contacts the client asked for');

-- The persistent job queue. kind is free text on purpose: the runner refuses (and audits)
-- any kind that is not a registered tool, whoever inserted it.
CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind             text NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'claimed', 'completed', 'failed', 'cancelled')),
    priority         integer NOT NULL DEFAULT 0,
    run_at           timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
    -- e.g. "<booking id>:send_reminder:24h:<start>": an event delivered twice enqueues once
    idempotency_key  text NOT NULL UNIQUE,
    booking_id       uuid,
    session_id       text,
    source_event_id  uuid,
    last_error       text,
    claimed_at       timestamptz,
    completed_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due_idx ON jobs (run_at, priority DESC) WHERE status = 'pending';
CREATE INDEX jobs_claimed_idx ON jobs (claimed_at) WHERE status = 'claimed';
CREATE INDEX jobs_booking_idx ON jobs (booking_id, kind) WHERE booking_id IS NOT NULL;
CREATE INDEX jobs_session_kind_idx ON jobs (session_id, kind, created_at) WHERE session_id IS NOT NULL;

-- Messages queued by the autonomous tools. Delivery (SMTP, Twilio, signed webhooks) drains
-- this table through the Mailer / SmsSender ports and sets status, attempts, sent_at.
CREATE TABLE notification_outbox (
    id                   uuid PRIMARY KEY,
    tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel              text NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
    -- confirmation | cancellation | reminder_24h | reminder_2h | calendar_escalation |
    -- calendar_escalation_admin | hold_followup | waitlist_match | contact_followup
    kind                 text NOT NULL,
    recipient            text NOT NULL,
    subject              text,
    body                 text NOT NULL,
    -- PII-free facts a sender may need (reference, start, end, sequence, time zone)
    metadata             jsonb NOT NULL DEFAULT '{}'::jsonb,
    status               text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts             integer NOT NULL DEFAULT 0,
    idempotency_key      text NOT NULL UNIQUE,
    booking_id           uuid,
    job_id               uuid,
    last_error           text,
    provider_message_id  text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz
);
CREATE INDEX notification_outbox_queued_idx ON notification_outbox (created_at) WHERE status = 'queued';
CREATE INDEX notification_outbox_booking_idx ON notification_outbox (booking_id);

-- Consumers deduplicate by the outbox event id: at-least-once delivery (SQS, relay
-- re-publishing after a crash) must not act twice.
CREATE TABLE processed_events (
    event_id      uuid PRIMARY KEY,
    tenant_id     uuid,
    event_type    text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now()
);

-- Where escalations go (calendar retries exhausted). NULL: the client is told, the
-- escalation is audited, no admin email.
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS admin_email text;
