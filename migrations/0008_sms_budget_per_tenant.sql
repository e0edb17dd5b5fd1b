-- The outbound SMS budget is counted per tenant and phone number: one tenant's messages to a
-- number no longer use up what another tenant may send to it. A send whose tenant is unknown
-- (a sending number no tenant owns) is counted in a row of its own with no tenant. The
-- opt-out ledger (`sms_opt_outs`) was already per tenant and is unchanged.
--
-- A new table, so the functions of the previous release keep counting in
-- `sms_rate_limits` (keyed by phone) while a deploy is under way; that table is dropped by a
-- later migration. The windows counted there (at most a week) start again here.
CREATE TABLE sms_budgets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid REFERENCES tenants(id) ON DELETE CASCADE,
    phone         text NOT NULL,
    window_start  timestamptz NOT NULL,
    sent          integer NOT NULL CHECK (sent >= 0),
    UNIQUE (tenant_id, phone)
);
CREATE UNIQUE INDEX sms_budgets_no_tenant_idx ON sms_budgets (phone)
    WHERE tenant_id IS NULL;

-- The per-tenant daily cap on chat follow-ups counts a tenant's recent rows.
CREATE INDEX followup_tenant_created_idx ON followup_contacts (tenant_id, created_at);
