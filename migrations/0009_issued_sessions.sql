-- Chat sessions are issued by the server: a public route or socket accepts a session id only
-- when it is recorded here for the tenant it names. Internal sessions (a call's, an import's)
-- are never recorded, so no public caller can use them.
CREATE TABLE issued_sessions (
    id            text PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
-- Purging sessions unused for a while reads by age.
CREATE INDEX issued_sessions_last_seen_idx ON issued_sessions (last_seen_at);

-- A session opened from a handoff link is looked up by the chat when it says what the
-- conversation continues.
CREATE INDEX handoff_tokens_chat_session_idx ON handoff_tokens (chat_session_id)
    WHERE chat_session_id IS NOT NULL;

-- The browser origins allowed to open the chat widget's WebSocket besides the deployment's
-- own; '*' allows any. Existing tenants keep accepting any origin; new tenants default to
-- their deployment's own origin only.
ALTER TABLE tenants ADD COLUMN widget_origins text[] NOT NULL DEFAULT '{*}';
ALTER TABLE tenants ALTER COLUMN widget_origins SET DEFAULT '{}';
