-- The schedule a clinic keeps beyond one weekly timetable: each resource's own weekly
-- hours, and exceptions by local date (closures, time off, one-off extra hours).

-- A resource with rows here works these hours instead of the tenant's business_hours.
-- ISO weekday 1 = Monday … 7 = Sunday; several intervals per day are allowed.
CREATE TABLE resource_hours (
    resource_id  uuid NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    weekday      smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens        time NOT NULL,
    closes       time NOT NULL,
    CHECK (opens < closes),
    PRIMARY KEY (resource_id, weekday, opens)
);

-- Exceptions over the local dates start_date..=end_date of the tenant:
--   closed       the whole tenant (a holiday, a closure); resource_id is NULL
--   time_off     one resource
--   extra_hours  a one-off opening, tenant-wide (resource_id NULL) or of one resource
-- start_time/end_time: the part of each of those days (NULL = the whole day; extra hours
-- always name their times). recurring_yearly repeats the dates every year (Dec 25).
CREATE TABLE schedule_exceptions (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    resource_id       uuid REFERENCES resources(id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('closed', 'time_off', 'extra_hours')),
    start_date        date NOT NULL,
    end_date          date NOT NULL,
    start_time        time,
    end_time          time,
    recurring_yearly  boolean NOT NULL DEFAULT false,
    note              text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (start_date <= end_date),
    CHECK (end_date - start_date <= 366),
    CHECK ((start_time IS NULL) = (end_time IS NULL)),
    CHECK (start_time IS NULL OR start_time < end_time),
    CHECK (kind <> 'closed' OR resource_id IS NULL),
    CHECK (kind <> 'time_off' OR resource_id IS NOT NULL),
    CHECK (kind <> 'extra_hours' OR start_time IS NOT NULL)
);
CREATE INDEX schedule_exceptions_tenant_idx ON schedule_exceptions (tenant_id, end_date);

-- Booking rules. NULL = no limit / the tenant's value.
-- max_per_day: confirmed bookings of one local day (per service, per resource).
ALTER TABLE services
    ADD COLUMN max_per_day         integer CHECK (max_per_day BETWEEN 1 AND 1000),
    ADD COLUMN min_notice_minutes  integer CHECK (min_notice_minutes BETWEEN 0 AND 43200),
    -- Minutes kept free before and after a booking of the service (NULL: the tenant's
    -- buffer_minutes). Between two bookings the larger of the first's "after" and the
    -- second's "before" is kept.
    ADD COLUMN buffer_before_minutes  integer CHECK (buffer_before_minutes BETWEEN 0 AND 240),
    ADD COLUMN buffer_after_minutes   integer CHECK (buffer_after_minutes BETWEEN 0 AND 240);
ALTER TABLE resources
    ADD COLUMN max_per_day  integer CHECK (max_per_day BETWEEN 1 AND 1000);
-- Clients may cancel or move a booking by chat, SMS or the public API only until this
-- many minutes before it starts (0 = until it starts); staff may always.
ALTER TABLE tenants
    ADD COLUMN self_service_cutoff_minutes integer NOT NULL DEFAULT 0
        CHECK (self_service_cutoff_minutes BETWEEN 0 AND 43200);
