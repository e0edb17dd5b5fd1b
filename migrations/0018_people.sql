-- People who sign in to the admin API and the console, their sessions, and what the
-- machine keys carry (a name, a role, when they were last used, who made them).

CREATE TABLE admin_users (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name           text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role           text NOT NULL CHECK (role IN ('owner', 'staff')),
    -- PHC string (argon2id); never the password.
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);
CREATE UNIQUE INDEX admin_users_email_idx ON admin_users (tenant_id, lower(email));
CREATE INDEX admin_users_sign_in_idx ON admin_users (lower(email));

-- A signed-in person's bearer token; only its SHA-256 is stored.
CREATE TABLE admin_sessions (
    id          uuid PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    user_id     uuid NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX admin_sessions_user_idx ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expiry_idx ON admin_sessions (expires_at);

ALTER TABLE tenant_api_keys
    ADD COLUMN name          text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    ADD COLUMN role          text NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'staff')),
    ADD COLUMN last_used_at  timestamptz,
    ADD COLUMN created_by    text,
    ADD COLUMN replaced_by   uuid REFERENCES tenant_api_keys(id);

-- A booking's history in the console reads its audit rows by entity.
CREATE INDEX audit_log_entity_idx ON audit_log (tenant_id, entity_id) WHERE entity_id IS NOT NULL;
