-- Delivery and integrations (issue 6): the notification dispatcher's bookkeeping, outbound
-- webhooks (per-tenant endpoints, one delivery row per event and endpoint, dead letters),
-- Google Calendar connections (tokens encrypted at rest) and OAuth states, and the dead
-- letters of the Excel import.

-- The dispatcher claims queued rows with a lease (claimed_until) so two workers never send
-- one row at once and a crashed worker's row is retried after the lease; next_attempt_at
-- carries the backoff. A row only ever leaves 'queued' for 'sent', 'skipped' or 'failed'
-- (permanent error or max_attempts reached): nothing is deleted.
ALTER TABLE notification_outbox
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN max_attempts    integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 50),
    ADD COLUMN claimed_until   timestamptz,
    ADD COLUMN failed_at       timestamptz;
-- 'skipped': not sent on purpose (the SMS recipient opted out, the booking moved or was
-- cancelled before a reminder went out); the row and its reason stay.
ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_status_check;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_status_check
    CHECK (status IN ('queued', 'sent', 'failed', 'skipped'));
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at) WHERE status = 'queued';

-- Webhook fan-out reads the domain-event outbox independently of the EventBridge relay:
-- webhooks_at is set once the event's deliveries are written. Rows older than this
-- migration are not fanned out.
ALTER TABLE outbox ADD COLUMN webhooks_at timestamptz;
UPDATE outbox SET webhooks_at = now();
CREATE INDEX outbox_webhooks_pending_idx ON outbox (created_at) WHERE webhooks_at IS NULL;

-- A tenant's webhook endpoints. The signing secret is stored encrypted (AES-256-GCM with
-- ENCRYPTION_KEY); event_types empty = every event.
CREATE TABLE webhook_endpoints (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url          text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    secret_enc   bytea NOT NULL,
    event_types  text[] NOT NULL DEFAULT '{}',
    enabled      boolean NOT NULL DEFAULT true,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id) WHERE enabled;

-- One delivery per (endpoint, event): id is the delivery id sent in the body and header.
-- pending → delivered | dead (after max_attempts); attempts and the last answer kept.
CREATE TABLE webhook_deliveries (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id          uuid NOT NULL,
    event_type        text NOT NULL,
    payload           jsonb NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts          integer NOT NULL DEFAULT 0,
    max_attempts      integer NOT NULL DEFAULT 6 CHECK (max_attempts BETWEEN 1 AND 50),
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    claimed_until     timestamptz,
    last_status_code  integer,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz,
    dead_at           timestamptz,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_tenant_idx ON webhook_deliveries (tenant_id, created_at DESC);

-- A tenant's Google Calendar: tokens encrypted with ENCRYPTION_KEY (nonce ‖ ciphertext).
CREATE TABLE calendar_connections (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    provider           text NOT NULL DEFAULT 'google' CHECK (provider IN ('google')),
    calendar_id        text NOT NULL DEFAULT 'primary',
    access_token_enc   bytea NOT NULL,
    refresh_token_enc  bytea,
    expires_at         timestamptz NOT NULL,
    scope              text NOT NULL DEFAULT '',
    connected_at       timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- OAuth `state` values: one-time, short-lived, bound to the tenant that started the flow.
CREATE TABLE oauth_states (
    state        text PRIMARY KEY CHECK (length(state) BETWEEN 32 AND 128),
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    provider     text NOT NULL DEFAULT 'google',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    consumed_at  timestamptz
);

-- Rows of an Excel import that could not be applied, with why (the seed's sync_dead_letter).
CREATE TABLE sync_dead_letter (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    source      text NOT NULL DEFAULT 'excel',
    row_number  integer,
    reference   text,
    operation   text NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    error       text NOT NULL,
    attempts    integer NOT NULL DEFAULT 1,
    resolved_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_dead_letter_tenant_idx ON sync_dead_letter (tenant_id, created_at DESC);
