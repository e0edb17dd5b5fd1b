-- Chat session ids are bearer secrets: whoever knows one can act in that chat. Domain events
-- and audit payloads no longer carry them (consumers read the session from the row the event
-- names). This removes the copies written before: in event payloads waiting in the outbox or
-- kept there after publishing, in webhook deliveries (whose bodies the tenant sees and
-- retries resend), and in audit rows. Audit rows about a chat session name it by a digest
-- (`chat-` + the first 24 hex digits of its SHA-256), as new rows do, and follow-up
-- recipients (an email address or a phone number) are redacted like other contact fields.

UPDATE outbox SET payload = payload - 'session_id' WHERE payload ? 'session_id';

UPDATE webhook_deliveries SET payload = payload - 'session_id' WHERE payload ? 'session_id';

-- An event's audit row keeps its detail under "detail".
UPDATE audit_log SET payload = payload #- '{detail,session_id}'
 WHERE jsonb_typeof(payload -> 'detail') = 'object' AND payload -> 'detail' ? 'session_id';

UPDATE audit_log SET payload = payload - 'session_id' WHERE payload ? 'session_id';

UPDATE audit_log SET payload = jsonb_set(payload, '{recipient}', '"[REDACTED]"')
 WHERE payload ? 'recipient' AND payload -> 'recipient' <> 'null'::jsonb;

-- Tool-call audit rows keep the model's arguments under "args".
UPDATE audit_log SET payload = jsonb_set(payload, '{args,recipient}', '"[REDACTED]"')
 WHERE jsonb_typeof(payload -> 'args') = 'object' AND payload -> 'args' ? 'recipient'
   AND payload -> 'args' -> 'recipient' <> 'null'::jsonb;

UPDATE audit_log
   SET entity_id = 'chat-' || left(encode(sha256(convert_to(entity_id, 'UTF8')), 'hex'), 24)
 WHERE entity_type = 'chat_session' AND entity_id IS NOT NULL;
