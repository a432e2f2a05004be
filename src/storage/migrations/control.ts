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
};
