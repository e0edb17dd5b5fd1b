-- The languages a tenant's receptionist speaks (the first is its default) and the language
-- each client chose, kept where later messages are written from: a booking (confirmations,
-- reminders, calendar entries), a waitlist entry (its offers) and a follow-up request.
ALTER TABLE tenants
    ADD COLUMN languages text[] NOT NULL DEFAULT '{en}'
        CHECK (cardinality(languages) BETWEEN 1 AND 8
               AND array_position(languages, NULL) IS NULL);

ALTER TABLE appointments
    ADD COLUMN locale text NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}$');

ALTER TABLE waitlist_entries
    ADD COLUMN locale text NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}$');

ALTER TABLE followup_contacts
    ADD COLUMN locale text NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}$');
