-- A keypad caller verified by a texted code is matched to their bookings by phone: the
-- upcoming ones to move or cancel, the latest for the details to book with.
CREATE INDEX appointments_phone_idx ON appointments (tenant_id, client_phone, created_at DESC)
    WHERE client_phone IS NOT NULL;
