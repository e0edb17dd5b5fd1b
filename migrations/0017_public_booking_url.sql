-- The tenant's public booking URL: the link every message that asks the client to act
-- carries (reminders, no-show follow-ups, schedule-change notices, cancellations,
-- follow-ups). NULL: messages link to the tenant's hosted chat page instead.
ALTER TABLE tenants
    ADD COLUMN public_booking_url text
        CHECK (public_booking_url IS NULL OR (length(public_booking_url) BETWEEN 1 AND 500));
