-- Privacy: retention sweeps and per-client erasure.
--
-- The SMS opt-out ledger keeps a keyed digest of each number instead of the number: an
-- erased client's opt-out must outlive the erasure (so they are never texted again) without
-- keeping their number. The digest is SHA-256 over a per-deployment pepper followed by the
-- E.164 number. The pepper is 366 random bits generated here, once, and kept in the database
-- with the digests it keys: it cannot be lost or rotated apart from them (a rotated key
-- would silently stop matching every opt-out and text people who said STOP), and a copy of
-- one table (an export, a log, the ledger alone) cannot be reversed or matched against
-- precomputed tables of another deployment. It does not hold against someone with the
-- whole database, who has the pepper too (and every live booking's number).
CREATE TABLE privacy_pepper (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pepper      bytea NOT NULL CHECK (length(pepper) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO privacy_pepper (pepper)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- The digest of an E.164 number, the one definition the code and this migration share.
CREATE FUNCTION phone_digest(phone text) RETURNS bytea
    LANGUAGE sql STABLE STRICT
    AS $$ SELECT sha256(pepper || convert_to(phone, 'UTF8')) FROM privacy_pepper $$;

-- The ledger: numbers become digests. Functions of the previous release that still write
-- the `phone` column fail during a deploy (closed: their sends are retried), rather than
-- writing a raw number again.
ALTER TABLE sms_opt_outs ADD COLUMN phone_hash bytea;
UPDATE sms_opt_outs SET phone_hash = phone_digest(phone);
ALTER TABLE sms_opt_outs ALTER COLUMN phone_hash SET NOT NULL;
ALTER TABLE sms_opt_outs DROP CONSTRAINT sms_opt_outs_pkey;
ALTER TABLE sms_opt_outs DROP COLUMN phone;
ALTER TABLE sms_opt_outs ADD PRIMARY KEY (tenant_id, phone_hash);
CREATE INDEX sms_opt_outs_hash_idx ON sms_opt_outs (phone_hash) WHERE opted_out;

ALTER TABLE sms_opt_out_events ADD COLUMN phone_hash bytea;
UPDATE sms_opt_out_events SET phone_hash = phone_digest(phone);
ALTER TABLE sms_opt_out_events ALTER COLUMN phone_hash SET NOT NULL;
ALTER TABLE sms_opt_out_events DROP COLUMN phone;
CREATE INDEX sms_opt_out_events_hash_idx ON sms_opt_out_events (tenant_id, phone_hash, created_at);

-- The retention sweep finds old rows by time.
CREATE INDEX chat_messages_created_idx ON chat_messages (created_at);
CREATE INDEX chat_sessions_updated_idx ON chat_sessions (updated_at);
CREATE INDEX voice_calls_updated_idx ON voice_calls (updated_at);
CREATE INDEX sms_inbound_received_idx ON sms_inbound_messages (received_at);
CREATE INDEX handoff_tokens_expires_idx ON handoff_tokens (expires_at);
