-- gomomo foundation schema: tenants, services, resources, hours, appointments, holds,
-- audit log, domain-event outbox, API keys.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE tenants (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone           text NOT NULL,
    slot_step_minutes   integer NOT NULL DEFAULT 30 CHECK (slot_step_minutes BETWEEN 5 AND 480),
    min_notice_minutes  integer NOT NULL DEFAULT 60 CHECK (min_notice_minutes BETWEEN 0 AND 43200),
    max_days_ahead      integer NOT NULL DEFAULT 14 CHECK (max_days_ahead BETWEEN 1 AND 365),
    buffer_minutes      integer NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 240),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Per-tenant admin API keys; only a SHA-256 of the key is stored.
CREATE TABLE tenant_api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key_hash    bytea NOT NULL UNIQUE,
    key_prefix  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- ISO weekday 1 = Monday … 7 = Sunday; several intervals per day are allowed.
CREATE TABLE business_hours (
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens       time NOT NULL,
    closes      time NOT NULL,
    CHECK (opens < closes),
    PRIMARY KEY (tenant_id, weekday, opens)
);

CREATE TABLE services (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description       text NOT NULL DEFAULT '',
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 720),
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX services_tenant_idx ON services (tenant_id);

-- Staff members or rooms. A service is done by one or more resources.
CREATE TABLE resources (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL DEFAULT 'staff' CHECK (kind IN ('staff', 'room')),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resources_tenant_idx ON resources (tenant_id);

CREATE TABLE service_resources (
    service_id   uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    resource_id  uuid NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, resource_id)
);

CREATE TABLE appointments (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    service_id    uuid NOT NULL REFERENCES services(id),
    resource_id   uuid NOT NULL REFERENCES resources(id),
    -- the hold this booking was confirmed from: makes confirm idempotent
    hold_id       uuid NOT NULL UNIQUE,
    session_id    text NOT NULL,
    reference     text NOT NULL,
    during        tstzrange NOT NULL CHECK (NOT isempty(during)),
    status        text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
    client_name   text NOT NULL,
    client_email  text NOT NULL,
    client_phone  text,
    notes         text,
    -- grows on every reschedule (iCalendar SEQUENCE later)
    sequence      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    cancelled_at  timestamptz,
    CONSTRAINT appointments_reference_unique UNIQUE (tenant_id, reference),
    -- The last guard against double booking: no two live appointments of one resource overlap.
    CONSTRAINT appointments_no_overlap
        EXCLUDE USING gist (resource_id WITH =, during WITH &&) WHERE (status <> 'cancelled')
);
CREATE INDEX appointments_tenant_time_idx ON appointments (tenant_id, lower(during));
CREATE INDEX appointments_email_idx ON appointments (tenant_id, lower(client_email));

-- Temporary holds: 5-minute TTL, bound to the chat/web session that asked for them.
-- No exclusion constraint here (expired rows would block); hold creation is serialized by
-- an advisory lock per resource and local day, and the appointments constraint is the last guard.
CREATE TABLE availability_holds (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    service_id   uuid NOT NULL REFERENCES services(id),
    resource_id  uuid NOT NULL REFERENCES resources(id),
    session_id   text NOT NULL,
    during       tstzrange NOT NULL CHECK (NOT isempty(during)),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired')),
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX holds_resource_during_idx ON availability_holds USING gist (resource_id, during) WHERE status = 'active';
CREATE INDEX holds_expiry_idx ON availability_holds (expires_at) WHERE status = 'active';

-- Every state change, PII-redacted before it is written.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    tenant_id    uuid,
    event_type   text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text,
    actor        text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at);

-- Domain events, written in the same transaction as the change that causes them.
-- Publishing (EventBridge / in-process) marks published_at.
CREATE TABLE outbox (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    event_type    text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;
