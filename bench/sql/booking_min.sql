-- Source: the gomomo team's SQL-only booking floor for pgbench (one booking per transaction pair), copied unchanged below.
\set r random(1, :nres)
\set s random(1, :nslots)
begin;
insert into mb_hold(resource_id, during, session, expires_at)
values (:r, tstzrange(timestamptz '2026-01-05 00:00+00' + :s * interval '30 min', timestamptz '2026-01-05 00:00+00' + (:s + 1) * interval '30 min'), 's', now() + interval '5 min')
on conflict do nothing returning id \gset h_
commit;
begin;
insert into mb_appt(resource_id, during, hold_id, name, email)
select resource_id, during, id, 'n', 'e@x' from mb_hold where id = :h_id on conflict do nothing;
insert into mb_audit(event, detail) values ('BookingCreated', jsonb_build_object('hold', :h_id));
insert into mb_outbox(event, payload) values ('BookingCreated', jsonb_build_object('hold', :h_id));
delete from mb_hold where id = :h_id;
commit;
