-- Request budgets shared by every instance that serves the public routes (each Lambda
-- instance, each `gomomo serve` process): one row per budget kind, subject and window.
-- The subject is a session id's digest, a client address's keyed digest, or a tenant id:
-- a raw client address is never stored. Windows are fixed (`window_start`, `window_seconds`);
-- a check weighs the previous window's count by how much of it still overlaps the sliding
-- window, so a burst across a boundary is not let through twice. Rows past `expires_at`
-- are removed by the scheduler's sweep.
CREATE TABLE rate_budgets (
    kind            text NOT NULL,
    subject         text NOT NULL,
    window_start    timestamptz NOT NULL,
    window_seconds  integer NOT NULL CHECK (window_seconds > 0),
    hits            integer NOT NULL CHECK (hits >= 0),
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (kind, subject, window_start)
);
CREATE INDEX rate_budgets_expires_idx ON rate_budgets (expires_at);
