-- The client's own time zone (IANA name), when the client gave one: the web widget sends the
-- browser's zone, the REST booking route takes it as a field. Messages about the booking
-- (emails, texts, the calendar entry) show the client's time beside the clinic's when the
-- two differ. NULL: only the clinic's time is shown. A reschedule keeps it.
ALTER TABLE appointments ADD COLUMN client_time_zone text;
