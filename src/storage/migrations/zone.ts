import { sql, type Migration } from 'kysely';
import { createAuditGuardsAndCheckpoints } from './audit-guards.js';

/** Zone migrations, applied in key order to every zone. Never edit one that has shipped: add another. */
export const zoneMigrations: Record<string, Migration> = {
  '0001_people_consents_tokens': {
    async up(db) {
      await sql`
        create table people (
          id uuid primary key,
          email_index bytea not null unique,
          email_ct bytea not null,
          firstname_ct bytea not null,
          surname_ct bytea not null,
          country_ct bytea not null,
          language_ct bytea not null,
          image_ct bytea,
          password_hash text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      // Kept apart from people so that erasure can destroy the key alone (crypto-shredding).
      await sql`
        create table person_keys (
          person_id uuid primary key references people (id) on delete cascade,
          master_key_id text not null,
          wrapped_key bytea not null
        )`.execute(db);
      await sql`
        create table app_users (
          person_id uuid not null references people (id) on delete cascade,
          app_id uuid not null,
          user_id uuid not null unique,
          created_at timestamptz not null default now(),
          primary key (person_id, app_id)
        )`.execute(db);
      await sql`
        create table grants (
          person_id uuid not null references people (id) on delete cascade,
          app_id uuid not null,
          fields text[] not null,
          granted_at timestamptz not null,
          primary key (person_id, app_id)
        )`.execute(db);
      await sql`
        create table consent_records (
          id uuid primary key,
          person_id uuid not null references people (id) on delete cascade,
          app_id uuid not null,
          connect_id uuid not null,
          requested text[] not null,
          mandatory text[] not null,
          granted text[] not null,
          legal_basis text,
          decision text not null check (decision in ('allowed', 'canceled')),
          decided_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table auth_codes (
          code_hash bytea primary key,
          connect_id uuid not null unique,
          app_id uuid not null,
          person_id uuid not null references people (id) on delete cascade,
          scope text[] not null,
          expires_at timestamptz not null,
          used_at timestamptz
        )`.execute(db);
      await sql`
        create table access_tokens (
          jti uuid primary key,
          code_hash bytea not null,
          connect_id uuid not null,
          person_id uuid not null references people (id) on delete cascade,
          app_id uuid not null,
          scope text[] not null,
          issued_at timestamptz not null,
          expires_at timestamptz not null,
          revoked_at timestamptz
        )`.execute(db);
      await sql`create index access_tokens_code_idx on access_tokens (code_hash)`.execute(db);
      await sql`
        create table sessions (
          id_hash bytea primary key,
          person_id uuid not null references people (id) on delete cascade,
          created_at timestamptz not null default now(),
          last_seen_at timestamptz not null,
          expires_at timestamptz not null
        )`.execute(db);
      await sql`create index sessions_person_idx on sessions (person_id)`.execute(db);
      // No foreign key to people: the record of what happened outlives the person's erasure.
      await sql`
        create table audit_events (
          id bigint generated always as identity primary key,
          occurred_at timestamptz not null default now(),
          person_id uuid,
          action text not null,
          field text,
          actor_kind text not null check (actor_kind in ('person', 'app', 'operator', 'system')),
          actor_id text,
          app_id uuid,
          purpose text,
          request_id text
        )`.execute(db);
      await sql`create index audit_events_person_idx on audit_events (person_id, occurred_at)`.execute(db);
    },
  },
  '0002_refresh_tokens': {
    async up(db) {
      // A family is every token descending from one code: reuse of any member revokes all.
      await sql`alter table access_tokens add column family_id uuid`.execute(db);
      await sql`create index access_tokens_family_idx on access_tokens (family_id)`.execute(db);
      await sql`
        create table refresh_tokens (
          token_hash bytea primary key,
          family_id uuid not null,
          code_hash bytea not null,
          connect_id uuid not null,
          person_id uuid not null references people (id) on delete cascade,
          app_id uuid not null,
          scope text[] not null,
          issued_at timestamptz not null,
          expires_at timestamptz not null,
          used_at timestamptz,
          revoked_at timestamptz
        )`.execute(db);
      await sql`create index refresh_tokens_family_idx on refresh_tokens (family_id)`.execute(db);
    },
  },
  '0003_lookup_indexes': {
    async up(db) {
      // /me and /system/scopes find the consent behind a token by its connect id; without
      // this index every call scans all consents of the zone.
      await sql`create index consent_records_connect_idx on consent_records (connect_id)`.execute(db);
      await sql`create index refresh_tokens_code_idx on refresh_tokens (code_hash)`.execute(db);
    },
  },
  '0004_audit_by_app': {
    async up(db) {
      // The dashboard's usage chart counts an app's records per day.
      await sql`create index audit_events_app_idx on audit_events (app_id, occurred_at) where app_id is not null`.execute(db);
    },
  },
  '0005_account_security': {
    async up(db) {
      // Accounts are usable once their email is confirmed; nicknames are found like emails,
      // through a blind index; the second factor's secret is sealed like every field.
      await sql`
        alter table people
          add column email_verified_at timestamptz,
          add column nickname_index bytea unique,
          add column nickname_ct bytea,
          add column totp_secret_ct bytea,
          add column totp_last_step bigint,
          add column password_changed_at timestamptz`.execute(db);
      // Earlier accounts signed up before confirmation existed: they keep working.
      await sql`update people set email_verified_at = created_at`.execute(db);
      // One-time proofs sent by email (codes, reset links) or held by the browser between
      // two sign-in steps; only hashes are stored.
      await sql`
        create table challenges (
          token_hash bytea primary key,
          person_id uuid not null references people (id) on delete cascade,
          purpose text not null check (purpose in ('sign_up', 'sign_in_code', 'reset', 'second_factor')),
          code_hash bytea,
          attempts integer not null default 0,
          created_at timestamptz not null default now(),
          expires_at timestamptz not null
        )`.execute(db);
      await sql`create index challenges_person_idx on challenges (person_id)`.execute(db);
      await sql`create index challenges_expires_idx on challenges (expires_at)`.execute(db);
      await sql`
        create table recovery_codes (
          person_id uuid not null references people (id) on delete cascade,
          code_hash bytea not null,
          primary key (person_id, code_hash)
        )`.execute(db);
      // Browsers a person signed in from, as keyed hashes of a random device cookie.
      await sql`
        create table known_devices (
          person_id uuid not null references people (id) on delete cascade,
          device_hash bytea not null,
          first_seen_at timestamptz not null default now(),
          primary key (person_id, device_hash)
        )`.execute(db);
    },
  },
  '0006_audit_chain': {
    async up(db) {
      // The audit trail becomes a hash chain: every record commits to the one before it,
      // hash = SHA-256(prev_hash || encode(record)), with the canonical encoding described in
      // src/domain/audit/chain.ts (this SQL and that file must agree byte for byte):
      // item(NULL) = 0x00, item(text) = 0x01 || uint32_be(UTF-8 length) || UTF-8 bytes.
      const item = (text: string) =>
        `coalesce(decode('01', 'hex') || int4send(octet_length(convert_to(${text}, 'UTF8'))) || convert_to(${text}, 'UTF8'), decode('00', 'hex'))`;
      await sql`
        create function keygate_audit_hash(
          previous bytea, p_id bigint, p_occurred_at timestamptz, p_person_id uuid, p_action text, p_field text,
          p_actor_kind text, p_actor_id text, p_app_id uuid, p_purpose text, p_request_id text
        ) returns bytea language sql stable parallel safe as $$
          select sha256(previous || ${sql.raw([
            "'keygate.audit.zone.v1'", 'p_id::text', '((extract(epoch from p_occurred_at) * 1000000)::bigint)::text',
            'p_person_id::text', 'p_action', 'p_field', 'p_actor_kind', 'p_actor_id', 'p_app_id::text', 'p_purpose', 'p_request_id',
          ].map(item).join('\n            || '))})
        $$`.execute(db);
      await sql`alter table audit_events add column prev_hash bytea, add column hash bytea`.execute(db);
      // Records written before the chain existed are chained in the order of their ids.
      await sql`
        do $$
        declare
          r record;
          previous bytea := decode(repeat('00', 32), 'hex');
          chained bytea;
        begin
          for r in select * from audit_events order by id loop
            chained := keygate_audit_hash(previous, r.id, r.occurred_at, r.person_id, r.action, r.field,
                                          r.actor_kind, r.actor_id, r.app_id, r.purpose, r.request_id);
            update audit_events set prev_hash = previous, hash = chained where id = r.id;
            previous := chained;
          end loop;
        end $$`.execute(db);
      await sql`alter table audit_events alter column prev_hash set not null, alter column hash set not null`.execute(db);
      // One successor per record: even a writer that skipped the lock could not fork the chain.
      await sql`create unique index audit_events_prev_hash_key on audit_events (prev_hash)`.execute(db);
      // The one writer of audit records. Appends are serialised per store by a transaction
      // advisory lock taken right before the last hash is read (a volatile function reads
      // with a fresh snapshot, so it sees the append that held the lock before it); ids are
      // drawn under the lock, so id order is chain order. The lock is held to the end of the
      // caller's transaction: a rolled-back append leaves no trace but an unused id.
      await sql`
        create function keygate_audit_append(events jsonb) returns integer language plpgsql volatile as $$
        declare
          e record;
          previous bytea;
          next_id bigint;
          stamp timestamptz := now();
          ids bigint[] := '{}';
          prevs bytea[] := '{}';
          hashes bytea[] := '{}';
        begin
          if events is null or jsonb_array_length(events) = 0 then
            return 0;
          end if;
          perform pg_advisory_xact_lock(1801937251);
          select a.hash into previous from audit_events a order by a.id desc limit 1;
          previous := coalesce(previous, decode(repeat('00', 32), 'hex'));
          for e in
            select * from rows from (jsonb_to_recordset(events) as (person_id uuid, action text, field text, actor_kind text,
              actor_id text, app_id uuid, purpose text, request_id text)) with ordinality as x(person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id, ord)
            order by x.ord
          loop
            next_id := nextval(pg_get_serial_sequence('audit_events', 'id'));
            ids := ids || next_id;
            prevs := prevs || previous;
            previous := keygate_audit_hash(previous, next_id, stamp, e.person_id, e.action, e.field, e.actor_kind, e.actor_id, e.app_id, e.purpose, e.request_id);
            hashes := hashes || previous;
          end loop;
          insert into audit_events (id, occurred_at, person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id, prev_hash, hash)
            overriding system value
            select c.id, stamp, x.person_id, x.action, x.field, x.actor_kind, x.actor_id, x.app_id, x.purpose, x.request_id, c.prev_hash, c.hash
            from rows from (jsonb_to_recordset(events) as (person_id uuid, action text, field text, actor_kind text,
              actor_id text, app_id uuid, purpose text, request_id text)) with ordinality as x(person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id, ord)
            join unnest(ids, prevs, hashes) with ordinality as c(id, prev_hash, hash, ord) on c.ord = x.ord;
          return cardinality(ids);
        end $$`.execute(db);
      await createAuditGuardsAndCheckpoints(db);
    },
  },
  '0007_consent_address': {
    async up(db) {
      // Part of the proof of a consent: where it was given from, sealed like every personal value.
      await sql`alter table consent_records add column ip_ct bytea`.execute(db);
    },
  },
  '0008_zone_moves_and_email_change': {
    async up(db) {
      // A person who changes country to one of another zone is moved: their rows are copied
      // to the new zone and deleted here. Their audit records are copied too (a copy names
      // the store, id and time of its original, and is chained under its own tag), and the
      // originals here are redacted: their contents are removed, their id, time and hashes
      // stay, so the chain still verifies, and `redacted_by` names the move record that
      // commits to exactly which records it redacted.
      await sql`
        alter table audit_events
          add column origin_store text,
          add column origin_id bigint,
          add column origin_at timestamptz,
          add column redacted_by bigint`.execute(db);
      // Recovery codes are keyed hashes under a zone's key; moved ones keep naming that zone.
      await sql`alter table recovery_codes add column key_zone text`.execute(db);
      // Changing one's email is confirmed by a code sent to the new address, which waits in
      // the challenge, sealed under the person's data key.
      await sql`
        alter table challenges
          drop constraint challenges_purpose_check,
          add constraint challenges_purpose_check check (purpose in ('sign_up', 'sign_in_code', 'reset', 'second_factor', 'email_change')),
          add column detail_ct bytea`.execute(db);
      // What a person sees of each session: the browser and the network it signed in from,
      // sealed under their data key like every personal value.
      await sql`alter table sessions add column device_ct bytea, add column network_ct bytea`.execute(db);
      const item = (text: string) =>
        `coalesce(decode('01', 'hex') || int4send(octet_length(convert_to(${text}, 'UTF8'))) || convert_to(${text}, 'UTF8'), decode('00', 'hex'))`;
      const micros = (column: string) => `((extract(epoch from ${column}) * 1000000)::bigint)::text`;
      await sql`
        create function keygate_audit_copy_hash(
          previous bytea, p_id bigint, p_occurred_at timestamptz, p_person_id uuid, p_action text, p_field text,
          p_actor_kind text, p_actor_id text, p_app_id uuid, p_purpose text, p_request_id text,
          p_origin_store text, p_origin_id bigint, p_origin_at timestamptz
        ) returns bytea language sql stable parallel safe as $$
          select sha256(previous || ${sql.raw([
            "'keygate.audit.zone.copy.v1'", 'p_id::text', micros('p_occurred_at'),
            'p_person_id::text', 'p_action', 'p_field', 'p_actor_kind', 'p_actor_id', 'p_app_id::text', 'p_purpose', 'p_request_id',
            'p_origin_store', 'p_origin_id::text', micros('p_origin_at'),
          ].map(item).join('\n            || '))})
        $$`.execute(db);
      // The same single writer as in 0006, now also taking copies (records with an origin).
      const recordset = sql.raw(`rows from (jsonb_to_recordset(events) as (person_id uuid, action text, field text, actor_kind text,
              actor_id text, app_id uuid, purpose text, request_id text, origin_store text, origin_id bigint, origin_at timestamptz))
              with ordinality as x(person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id, origin_store, origin_id, origin_at, ord)`);
      await sql`
        create or replace function keygate_audit_append(events jsonb) returns integer language plpgsql volatile as $$
        declare
          e record;
          previous bytea;
          next_id bigint;
          stamp timestamptz := now();
          ids bigint[] := '{}';
          prevs bytea[] := '{}';
          hashes bytea[] := '{}';
        begin
          if events is null or jsonb_array_length(events) = 0 then
            return 0;
          end if;
          perform pg_advisory_xact_lock(1801937251);
          select a.hash into previous from audit_events a order by a.id desc limit 1;
          previous := coalesce(previous, decode(repeat('00', 32), 'hex'));
          for e in select * from ${recordset} order by x.ord
          loop
            next_id := nextval(pg_get_serial_sequence('audit_events', 'id'));
            ids := ids || next_id;
            prevs := prevs || previous;
            if e.origin_store is null then
              previous := keygate_audit_hash(previous, next_id, stamp, e.person_id, e.action, e.field, e.actor_kind, e.actor_id, e.app_id, e.purpose, e.request_id);
            else
              previous := keygate_audit_copy_hash(previous, next_id, stamp, e.person_id, e.action, e.field, e.actor_kind, e.actor_id, e.app_id, e.purpose, e.request_id,
                                                  e.origin_store, e.origin_id, e.origin_at);
            end if;
            hashes := hashes || previous;
          end loop;
          insert into audit_events (id, occurred_at, person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id,
                                    origin_store, origin_id, origin_at, prev_hash, hash)
            overriding system value
            select c.id, stamp, x.person_id, x.action, x.field, x.actor_kind, x.actor_id, x.app_id, x.purpose, x.request_id,
                   x.origin_store, x.origin_id, x.origin_at, c.prev_hash, c.hash
            from ${recordset}
            join unnest(ids, prevs, hashes) with ordinality as c(id, prev_hash, hash, ord) on c.ord = x.ord;
          return cardinality(ids);
        end $$`.execute(db);
      // Still append-only, with one exception: inside a move (which sets keygate.audit_redaction
      // for its transaction) a record may become a tombstone: contents removed, id, time and
      // hashes untouched, pointing at the move record. Nothing is ever deleted.
      await sql`
        create function keygate_audit_guard() returns trigger language plpgsql as $$
        begin
          if tg_op = 'UPDATE' and current_setting('keygate.audit_redaction', true) = 'on'
             and old.redacted_by is null and new.redacted_by is not null and new.redacted_by > old.id
             and new.id = old.id and new.occurred_at = old.occurred_at and new.prev_hash = old.prev_hash and new.hash = old.hash
             and new.action = 'redacted' and new.actor_kind = 'system'
             and new.person_id is null and new.field is null and new.actor_id is null and new.app_id is null
             and new.purpose is null and new.request_id is null
             and new.origin_store is null and new.origin_id is null and new.origin_at is null then
            return new;
          end if;
          raise exception 'audit records are append-only' using errcode = 'insufficient_privilege';
        end $$`.execute(db);
      await sql`drop trigger audit_events_append_only on audit_events`.execute(db);
      await sql`
        create trigger audit_events_append_only before update or delete on audit_events
          for each row execute function keygate_audit_guard()`.execute(db);
      // A move finds the records about its person, verification the records a move redacted.
      await sql`create index audit_events_actor_idx on audit_events (actor_id) where actor_kind = 'person'`.execute(db);
      await sql`create index audit_events_redacted_idx on audit_events (redacted_by) where redacted_by is not null`.execute(db);
    },
  },
  '0009_session_authentication': {
    async up(db) {
      // When and how the person proved who they are for this session (RFC 8176 method
      // values), for re-authentication rules and the claims of later protocols. Sessions
      // from before were started by a completed sign-in at their creation.
      await sql`alter table sessions add column auth_time timestamptz, add column amr text[] not null default '{}'`.execute(db);
      await sql`update sessions set auth_time = created_at`.execute(db);
      await sql`alter table sessions alter column auth_time set not null, alter column auth_time set default now()`.execute(db);
    },
  },
  '0010_second_factor_undo': {
    async up(db) {
      // The link mailed when a second factor is set up, which removes it if that was not the person.
      await sql`alter table challenges drop constraint challenges_purpose_check,
        add constraint challenges_purpose_check check (purpose in ('sign_up', 'sign_in_code', 'reset', 'second_factor', 'email_change', 'second_factor_undo'))`.execute(db);
    },
  },
  '0011_code_authentication': {
    async up(db) {
      // When and how the person had signed in when they allowed the request: an ID token
      // issued for the code, or for any refresh of its family, states it (auth_time, amr).
      // Codes and tokens from before carry none.
      // `sid` names the browser session it happened in (a digest of the session's id, never
      // the cookie), for OpenID Connect logout.
      await sql`alter table auth_codes add column auth_time timestamptz, add column amr text[] not null default '{}', add column sid text`.execute(db);
      await sql`alter table refresh_tokens add column auth_time timestamptz, add column amr text[] not null default '{}', add column sid text`.execute(db);
      await sql`create index auth_codes_sid_idx on auth_codes (sid) where sid is not null`.execute(db);
      await sql`create index refresh_tokens_sid_idx on refresh_tokens (sid) where sid is not null`.execute(db);
    },
  },
};
