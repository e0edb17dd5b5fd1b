-- The chat agent: sessions (dialogue state and client metadata), the message history the
-- model reads back, and the open WebSocket connections (API Gateway or the standalone /ws).
-- Nothing about a conversation lives in process memory: a Lambda instance may vanish
-- between two messages.

CREATE TABLE chat_sessions (
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            text NOT NULL,
    -- 'web' | 'rest' | 'voice' | 'sms': where the session started
    channel       text NOT NULL DEFAULT 'web',
    -- Dialogue state and metadata (client name/email/time zone, active hold, dates the
    -- client confirmed, pending confirmations). Shape: gomomo::services::agent::SessionState.
    state         jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- A turn in progress holds this lease, so two messages of one session are never
    -- handled at once; a crashed turn's lease simply runs out.
    busy_until    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- One row per message in OpenAI chat format (user, assistant with or without tool_calls,
-- tool results), in order. The deterministic engine stores user and assistant messages.
CREATE TABLE chat_messages (
    id            bigserial PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    session_id    text NOT NULL,
    role          text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    message       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, session_id) REFERENCES chat_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX chat_messages_session_idx ON chat_messages (tenant_id, session_id, id);

-- Open WebSocket connections. endpoint is the API Gateway management endpoint
-- (https://{domain}/{stage}) or 'local' for the standalone server.
CREATE TABLE ws_connections (
    connection_id text PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    session_id    text NOT NULL,
    endpoint      text NOT NULL,
    connected_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ws_connections_session_idx ON ws_connections (tenant_id, session_id);
