-- One-time codes texted to a caller who uses the keypad only: keying the code back proves
-- the call comes from the phone the code was sent to. The code itself is never stored:
-- `code_hash` is HMAC-SHA256 under the deployment's handoff secret over the call and the
-- code (six digits are too few for a plain hash). A code works until `expires_at`, for at
-- most `max_attempts` tries, and once; everything lives here, not in process memory.
CREATE TABLE phone_codes (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- No foreign key to voice_calls: a turn holds its call's row FOR UPDATE while it
    -- writes a code, and the key-share lock of a foreign key check would wait on it.
    call_sid      text NOT NULL CHECK (length(call_sid) BETWEEN 1 AND 64),
    phone         text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    code_hash     bytea NOT NULL,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  integer NOT NULL CHECK (max_attempts > 0),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    verified_at   timestamptz
);
CREATE INDEX phone_codes_call_idx ON phone_codes (call_sid, created_at DESC);
CREATE INDEX phone_codes_expiry_idx ON phone_codes (expires_at);
