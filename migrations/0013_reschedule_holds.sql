-- A hold taken to move a booking names that booking: its own interval is not busy for it,
-- and only that booking can be moved onto it (never confirmed as a new booking).
ALTER TABLE availability_holds
    ADD COLUMN moves_appointment_id uuid REFERENCES appointments(id) ON DELETE CASCADE;

-- The hold of a booking's latest move: the same reschedule retried answers the booking.
ALTER TABLE appointments ADD COLUMN last_move_hold_id uuid;
