import { sql, type Migration } from 'kysely';

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
};
