import { sql, type Migration } from 'kysely';

/** Control-plane migrations, applied in key order. Never edit one that has shipped: add another. */
export const controlMigrations: Record<string, Migration> = {
  '0001_apps_and_connect_requests': {
    async up(db) {
      await sql`
        create table apps (
          id uuid primary key,
          name text not null check (length(name) between 1 and 100),
          secret_key text not null,
          private_key_ct bytea not null,
          private_key_master_key_id text not null,
          origins text[] not null default '{}',
          return_urls text[] not null default '{}',
          permissions text[] not null default '{}',
          legal_basis text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      // Lets a CORS preflight (which carries no App ID) ask "does any app list this origin?".
      await sql`create index apps_origins_idx on apps using gin (origins)`.execute(db);
      await sql`
        create table connect_requests (
          id uuid primary key,
          app_id uuid not null references apps (id) on delete cascade,
          request_id text not null,
          scope text[] not null,
          return_url text not null,
          status text not null default 'pending' check (status in ('pending', 'authorized', 'canceled', 'denied')),
          zone text,
          created_at timestamptz not null default now(),
          expires_at timestamptz not null
        )`.execute(db);
      await sql`create index connect_requests_expires_idx on connect_requests (expires_at)`.execute(db);
    },
  },
  '0002_app_protections_owners_and_private_apps': {
    async up(db) {
      // Secure by default: domain and return-URL protection start on; the others are opt-in.
      await sql`
        alter table apps
          add column domain_protection boolean not null default true,
          add column return_url_protection boolean not null default true,
          add column server_only boolean not null default false,
          add column ip_protection boolean not null default false,
          add column ip_entries text[] not null default '{}',
          add column private boolean not null default false,
          add column mandatory_approved text[] not null default '{}',
          add column legal_bases jsonb not null default '{}'::jsonb`.execute(db);
      // Apps registered without origins were never held to an X-Origin: keep them working.
      await sql`update apps set domain_protection = false where cardinality(origins) = 0`.execute(db);
      // After a rotation the previous key pair keeps working until it retires.
      await sql`
        create table app_retiring_keys (
          key_id text primary key,
          app_id uuid not null references apps (id) on delete cascade,
          secret_key text not null,
          private_key_ct bytea not null,
          private_key_master_key_id text not null,
          retires_at timestamptz not null
        )`.execute(db);
      await sql`create index app_retiring_keys_app_idx on app_retiring_keys (app_id)`.execute(db);
      // Owners are opaque person ids with their zone (routing data), nothing personal.
      await sql`
        create table app_owners (
          app_id uuid not null references apps (id) on delete cascade,
          person_id uuid not null,
          zone text not null,
          added_at timestamptz not null default now(),
          primary key (app_id, person_id)
        )`.execute(db);
      await sql`create index app_owners_person_idx on app_owners (person_id)`.execute(db);
      // A private app's list of allowed people is the app's own list of email addresses:
      // an invitee may have no account (and so no zone) yet. Kept sealed under the control
      // plane's key, matched through a keyed blind index.
      await sql`
        create table extranet_members (
          reference_id uuid primary key,
          app_id uuid not null references apps (id) on delete cascade,
          email_index bytea not null,
          email_ct bytea not null,
          email_master_key_id text not null,
          invited_at timestamptz not null default now(),
          unique (app_id, email_index)
        )`.execute(db);
      // Which key pair a server used at /connect signs the redirect back to it.
      await sql`alter table connect_requests add column key_id text`.execute(db);
    },
  },
};
