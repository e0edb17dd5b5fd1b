-- Calendars belong to the people who keep them: each resource (a staff member, a room) has
-- at most one connection, with its own provider — Google, CalDAV or Microsoft 365. A
-- tenant-wide Google connection becomes one connection per resource of the tenant, sharing
-- the tokens it had.

ALTER TABLE calendar_connections DROP CONSTRAINT calendar_connections_pkey;
ALTER TABLE calendar_connections DROP CONSTRAINT calendar_connections_provider_check;
ALTER TABLE calendar_connections
    ADD COLUMN id uuid,
    ADD COLUMN resource_id uuid REFERENCES resources(id) ON DELETE CASCADE,
    -- CalDAV: the server the owner named, the account, its app password (sealed like the
    -- tokens) and the calendar collection found by discovery.
    ADD COLUMN server_url text CHECK (length(server_url) <= 2000),
    ADD COLUMN username text CHECK (length(username) <= 320),
    ADD COLUMN password_enc bytea,
    ADD COLUMN calendar_url text CHECK (length(calendar_url) <= 2000),
    -- Health, for the admin: the last call that worked, the last that did not and why, and
    -- when the provider refused the credentials (revoked consent, changed app password).
    ADD COLUMN last_success_at timestamptz,
    ADD COLUMN last_error_at timestamptz,
    ADD COLUMN last_error text CHECK (length(last_error) <= 500),
    ADD COLUMN revoked_at timestamptz,
    ALTER COLUMN access_token_enc DROP NOT NULL,
    ALTER COLUMN expires_at DROP NOT NULL,
    ALTER COLUMN provider DROP DEFAULT;

INSERT INTO calendar_connections (id, tenant_id, resource_id, provider, calendar_id,
        access_token_enc, refresh_token_enc, expires_at, scope, connected_at, updated_at)
SELECT gen_random_uuid(), c.tenant_id, r.id, c.provider, c.calendar_id, c.access_token_enc,
       c.refresh_token_enc, c.expires_at, c.scope, c.connected_at, c.updated_at
  FROM calendar_connections c JOIN resources r ON r.tenant_id = c.tenant_id
 WHERE c.resource_id IS NULL;
DELETE FROM calendar_connections WHERE resource_id IS NULL;

ALTER TABLE calendar_connections
    ALTER COLUMN id SET NOT NULL,
    ALTER COLUMN resource_id SET NOT NULL,
    ADD PRIMARY KEY (id),
    ADD CONSTRAINT calendar_connections_resource_key UNIQUE (resource_id),
    ADD CONSTRAINT calendar_connections_provider_check
        CHECK (provider IN ('google', 'caldav', 'microsoft')),
    ADD CONSTRAINT calendar_connections_credentials_check CHECK (
        (provider = 'caldav' AND server_url IS NOT NULL AND username IS NOT NULL
             AND password_enc IS NOT NULL AND calendar_url IS NOT NULL)
        OR (provider <> 'caldav' AND access_token_enc IS NOT NULL AND expires_at IS NOT NULL));
CREATE INDEX calendar_connections_tenant_idx ON calendar_connections (tenant_id);

-- Where each booking's event lives: the connection it was written to, the provider's id for
-- it (Google's event id, Graph's event id, the CalDAV resource's href), the ETag and
-- SEQUENCE of our last write, and the times we wrote (an event found elsewhere or gone is
-- reported to the admin, never applied to the booking). No foreign key to the booking: a
-- row outlives a booking erased by retention, so its event can still be found and removed.
CREATE TABLE calendar_events (
    booking_id     uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id  uuid NOT NULL REFERENCES calendar_connections(id) ON DELETE CASCADE,
    external_id    text NOT NULL CHECK (length(external_id) <= 2000),
    etag           text CHECK (length(etag) <= 500),
    sequence       integer NOT NULL DEFAULT 0,
    start_at       timestamptz NOT NULL,
    end_at         timestamptz NOT NULL,
    written_at     timestamptz NOT NULL DEFAULT now(),
    -- Set when the event was found moved or deleted outside gomomo and reported.
    drift_reported_at timestamptz,
    -- When the scheduler last read the event back from the calendar.
    checked_at     timestamptz
);
CREATE INDEX calendar_events_connection_idx ON calendar_events (connection_id, start_at);
CREATE INDEX calendar_events_check_idx ON calendar_events (checked_at NULLS FIRST, end_at)
    WHERE drift_reported_at IS NULL;

-- The OAuth flow now starts for one resource, and Microsoft's carries a PKCE verifier.
ALTER TABLE oauth_states
    ADD COLUMN resource_id uuid REFERENCES resources(id) ON DELETE CASCADE,
    ADD COLUMN code_verifier text CHECK (length(code_verifier) BETWEEN 43 AND 128),
    DROP CONSTRAINT IF EXISTS oauth_states_provider_check;
ALTER TABLE oauth_states ADD CONSTRAINT oauth_states_provider_check
    CHECK (provider IN ('google', 'microsoft'));
