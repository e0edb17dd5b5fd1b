-- A person to hand a call over to, and the messages callers leave when nobody answers.
--
-- tenant_phone_handover: the number a call is transferred to (<Dial>) and the number the
-- staff is texted at (the call's summary, a new voicemail); either may be unset.
CREATE TABLE tenant_phone_handover (
    tenant_id        uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    transfer_number  text CHECK (transfer_number ~ '^\+[1-9][0-9]{7,14}$'),
    staff_number     text CHECK (staff_number ~ '^\+[1-9][0-9]{7,14}$'),
    updated_at       timestamptz NOT NULL
);

-- voicemails: one recording of a call (Twilio <Record>), an escalation for the staff. Kept
-- with its call: erasing or purging the call erases the message too.
CREATE TABLE voicemails (
    id                    uuid PRIMARY KEY,
    tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    call_sid              text NOT NULL REFERENCES voice_calls(call_sid) ON DELETE CASCADE,
    recording_sid         text NOT NULL UNIQUE CHECK (length(recording_sid) BETWEEN 1 AND 64),
    caller_number         text NOT NULL,
    recording_url         text CHECK (length(recording_url) <= 500),
    duration_seconds      integer CHECK (duration_seconds >= 0),
    -- Why the caller reached voicemail: asked for a person, misunderstood, time limit.
    reason                text NOT NULL CHECK (reason IN ('asked', 'misunderstood', 'time_limit')),
    -- The <Dial> outcome when a transfer was tried first (busy, no-answer, failed, canceled).
    dial_status           text CHECK (dial_status IN ('busy', 'no-answer', 'failed', 'canceled')),
    locale                text NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}$'),
    transcription         text CHECK (length(transcription) <= 10000),
    transcription_status  text CHECK (transcription_status IN ('requested', 'completed', 'failed', 'not_offered')),
    created_at            timestamptz NOT NULL,
    transcribed_at        timestamptz
);
CREATE INDEX voicemails_tenant_idx ON voicemails (tenant_id, created_at DESC);
CREATE INDEX voicemails_call_idx ON voicemails (call_sid);
