-- Phone and SMS (issue 5): the numbers each tenant answers on, durable voice calls (state
-- with a version column, so a retried or concurrent webhook cannot corrupt it) and their
-- transcripts, one-time handoff tokens, the SMS opt-out ledger, inbound message dedup and
-- per-phone SMS rate-limit counters. Nothing here lives in process memory: a Lambda
-- instance can vanish between two webhooks of the same call.

-- The Twilio numbers a tenant answers on; the called number (`To`) finds the tenant.
CREATE TABLE tenant_phone_numbers (
    phone_number   text PRIMARY KEY CHECK (phone_number ~ '^\+[1-9][0-9]{7,14}$'),
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    voice_enabled  boolean NOT NULL DEFAULT true,
    sms_enabled    boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_phone_numbers_tenant_idx ON tenant_phone_numbers (tenant_id);

-- One row per call (CallSid). `state` + `context` are the conversation engine's state;
-- every write is `... WHERE version = $seen` and bumps the version. `last_request_key` and
-- `last_response` answer a retried webhook with the TwiML it already got.
CREATE TABLE voice_calls (
    call_sid           text PRIMARY KEY CHECK (length(call_sid) BETWEEN 1 AND 64),
    tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    from_number        text NOT NULL,
    to_number          text NOT NULL,
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended', 'rejected')),
    state              text NOT NULL,
    context            jsonb NOT NULL DEFAULT '{}'::jsonb,
    version            integer NOT NULL DEFAULT 0,
    turn_count         integer NOT NULL DEFAULT 0,
    misunderstandings  integer NOT NULL DEFAULT 0,
    last_request_key   text,
    last_response      text,
    started_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    ended_at           timestamptz,
    end_reason         text
);
CREATE INDEX voice_calls_active_idx ON voice_calls (tenant_id, started_at) WHERE status = 'active';

-- The transcript: every caller utterance and every agent prompt, in order.
CREATE TABLE voice_call_turns (
    call_sid    text NOT NULL REFERENCES voice_calls(call_sid) ON DELETE CASCADE,
    seq         integer NOT NULL,
    speaker     text NOT NULL CHECK (speaker IN ('caller', 'agent')),
    text        text NOT NULL,
    state       text NOT NULL,
    confidence  real,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (call_sid, seq)
);

-- One-time handoff links (voice → web chat, SMS "R" → reschedule). The URL carries the
-- opaque id and an HMAC-SHA256 over it; nothing personal is in the URL. `context` holds
-- what the call gathered (service, date, name, email, transcript) for the chat session.
CREATE TABLE handoff_tokens (
    id               text PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 64),
    tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    purpose          text NOT NULL CHECK (purpose IN ('voice_handoff', 'sms_reschedule')),
    call_sid         text,
    phone            text,
    context          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    consumed_at      timestamptz,
    chat_session_id  text,
    CHECK (expires_at > created_at)
);
CREATE INDEX handoff_tokens_call_idx ON handoff_tokens (call_sid);

-- The opt-out ledger: the current consent per tenant and number (read before every
-- outbound SMS) and the append-only history of keywords that changed it.
CREATE TABLE sms_opt_outs (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    phone       text NOT NULL,
    opted_out   boolean NOT NULL,
    keyword     text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);
CREATE TABLE sms_opt_out_events (
    id           bigserial PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    phone        text NOT NULL,
    opted_out    boolean NOT NULL,
    keyword      text NOT NULL,
    message_sid  text,
    created_at   timestamptz NOT NULL
);
CREATE INDEX sms_opt_out_events_phone_idx ON sms_opt_out_events (tenant_id, phone, created_at);

-- Inbound SMS webhooks seen, by MessageSid: a duplicate delivery acts once and gets the
-- same reply.
CREATE TABLE sms_inbound_messages (
    message_sid  text PRIMARY KEY CHECK (length(message_sid) BETWEEN 1 AND 64),
    tenant_id    uuid REFERENCES tenants(id) ON DELETE CASCADE,
    from_number  text NOT NULL,
    action       text NOT NULL,
    reply        text,
    received_at  timestamptz NOT NULL
);

-- A question asked over SMS that waits for one more reply ("reply X again to cancel").
CREATE TABLE sms_pending_actions (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    phone       text NOT NULL,
    action      text NOT NULL CHECK (action IN ('cancel')),
    reference   text NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, phone)
);

-- Outbound SMS per phone: a window that starts with the first message and a count; one
-- atomic upsert decides (no read-then-write race between two Lambda instances).
CREATE TABLE sms_rate_limits (
    phone         text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    sent          integer NOT NULL CHECK (sent >= 0)
);
