-- The per-phone SMS counter of the first telephony release, keyed by the raw number and
-- replaced by `sms_budgets` (counted per tenant). No code reads or writes it any more.
DROP TABLE IF EXISTS sms_rate_limits;
