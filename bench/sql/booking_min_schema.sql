-- Source: the gomomo team's SQL-only booking floor for pgbench (schema), copied unchanged below.
-- The least SQL a correct booking needs: a hold guarded by EXCLUDE, then an appointment guarded by EXCLUDE,
-- an audit row and an outbox row in the same transaction, the hold removed.
create extension if not exists btree_gist;
drop table if exists mb_hold, mb_appt, mb_audit, mb_outbox;
create table mb_hold (id bigserial primary key, resource_id int not null, during tstzrange not null, session text not null,
  expires_at timestamptz not null, exclude using gist (resource_id with =, during with &&));
create table mb_appt (id bigserial primary key, resource_id int not null, during tstzrange not null, hold_id bigint unique,
  name text, email text, status text not null default 'confirmed',
  exclude using gist (resource_id with =, during with &&) where (status <> 'cancelled'));
create table mb_audit (id bigserial primary key, at timestamptz default now(), event text, detail jsonb);
create table mb_outbox (id bigserial primary key, at timestamptz default now(), event text, payload jsonb, published_at timestamptz);
