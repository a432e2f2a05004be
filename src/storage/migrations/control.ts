import { sql, type Migration } from 'kysely';
import { createAuditGuardsAndCheckpoints } from './audit-guards.js';

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
  '0003_audit_chain': {
    async up(db) {
      // What happened to apps (created, changed, keys rotated, deleted, …) and the API's
      // protection refusals: ids and codes only, nothing personal, no addresses. Kept as a
      // hash chain like a zone's trail (see src/domain/audit/chain.ts for the encoding).
      await sql`
        create table audit_events (
          id bigint generated always as identity primary key,
          occurred_at timestamptz not null default now(),
          app_id uuid,
          action text not null,
          detail text,
          actor_kind text not null check (actor_kind in ('person', 'app', 'operator', 'system')),
          actor_id text,
          request_id text,
          prev_hash bytea not null,
          hash bytea not null
        )`.execute(db);
      await sql`create unique index audit_events_prev_hash_key on audit_events (prev_hash)`.execute(db);
      await sql`create index audit_events_app_idx on audit_events (app_id, occurred_at) where app_id is not null`.execute(db);
      // The canonical encoding (src/domain/audit/chain.ts): item(NULL) = 0x00,
      // item(text) = 0x01 || uint32_be(UTF-8 length) || UTF-8 bytes.
      const item = (text: string) =>
        `coalesce(decode('01', 'hex') || int4send(octet_length(convert_to(${text}, 'UTF8'))) || convert_to(${text}, 'UTF8'), decode('00', 'hex'))`;
      await sql`
        create function keygate_audit_hash(
          previous bytea, p_id bigint, p_occurred_at timestamptz, p_app_id uuid, p_action text, p_detail text,
          p_actor_kind text, p_actor_id text, p_request_id text
        ) returns bytea language sql stable parallel safe as $$
          select sha256(previous || ${sql.raw([
            "'keygate.audit.control.v1'", 'p_id::text', '((extract(epoch from p_occurred_at) * 1000000)::bigint)::text',
            'p_app_id::text', 'p_action', 'p_detail', 'p_actor_kind', 'p_actor_id', 'p_request_id',
          ].map(item).join('\n            || '))})
        $$`.execute(db);
      // The one writer, serialised per store as in a zone (see zone migration 0006).
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
            select * from rows from (jsonb_to_recordset(events) as (app_id uuid, action text, detail text, actor_kind text,
              actor_id text, request_id text)) with ordinality as x(app_id, action, detail, actor_kind, actor_id, request_id, ord)
            order by x.ord
          loop
            next_id := nextval(pg_get_serial_sequence('audit_events', 'id'));
            ids := ids || next_id;
            prevs := prevs || previous;
            previous := keygate_audit_hash(previous, next_id, stamp, e.app_id, e.action, e.detail, e.actor_kind, e.actor_id, e.request_id);
            hashes := hashes || previous;
          end loop;
          insert into audit_events (id, occurred_at, app_id, action, detail, actor_kind, actor_id, request_id, prev_hash, hash)
            overriding system value
            select c.id, stamp, x.app_id, x.action, x.detail, x.actor_kind, x.actor_id, x.request_id, c.prev_hash, c.hash
            from rows from (jsonb_to_recordset(events) as (app_id uuid, action text, detail text, actor_kind text,
              actor_id text, request_id text)) with ordinality as x(app_id, action, detail, actor_kind, actor_id, request_id, ord)
            join unnest(ids, prevs, hashes) with ordinality as c(id, prev_hash, hash, ord) on c.ord = x.ord;
          return cardinality(ids);
        end $$`.execute(db);
      await createAuditGuardsAndCheckpoints(db);
    },
  },
  '0004_zone_moves': {
    async up(db) {
      // The journal of people moving between zones. A move commits in the new zone first
      // and in the old one second; a move whose second commit never happened is finished
      // from here (see src/domain/zones/zone-move.ts). Opaque ids and zone names only.
      await sql`
        create table zone_moves (
          id uuid primary key,
          person_id uuid not null,
          from_zone text not null,
          to_zone text not null,
          started_at timestamptz not null,
          finished_at timestamptz,
          outcome text check (outcome in ('moved', 'abandoned'))
        )`.execute(db);
      await sql`create index zone_moves_open_idx on zone_moves (started_at) where finished_at is null`.execute(db);
    },
  },
  '0005_sign_in_flows': {
    async up(db) {
      // A sign-in in progress: where it returns to, the person once identified and the
      // methods they completed, so that every step (a second factor, a confirmation code)
      // knows what came before and the session can record how the person authenticated.
      // The browser holds the flow's token; only its SHA-256 is kept. Ids and method names only.
      await sql`
        create table sign_in_flows (
          id_hash bytea primary key,
          return_to text not null,
          person_id uuid,
          zone text,
          methods text[] not null default '{}',
          step text not null check (step in ('identify', 'confirm_email', 'second_factor')),
          created_at timestamptz not null default now(),
          expires_at timestamptz not null
        )`.execute(db);
      await sql`create index sign_in_flows_expires_idx on sign_in_flows (expires_at)`.execute(db);
    },
  },
  '0006_private_app_invitation_mail': {
    async up(db) {
      // A private app's invitation is mailed once per address, in the language it was
      // asked in; a resend is an explicit act of an owner and uses the same language.
      // Entries listed before this migration were mailed when listed (or belonged to people
      // who already used the app): counted as mailed then.
      await sql`
        alter table extranet_members
          add column locale text not null default 'en_GB',
          add column mailed_at timestamptz`.execute(db);
      await sql`update extranet_members set mailed_at = invited_at`.execute(db);
    },
  },
  '0007_owner_invitations': {
    async up(db) {
      // An invitation to become an owner of an app, waiting for the invited account to
      // accept it. Like app_owners it names people by opaque id only (no address, no zone:
      // the invitee's session gives the zone when they accept): the invitee, and the owner
      // who invited, whose invitation lapses when they stop being an owner. The link's
      // token is a capability, so only its SHA-256 is kept.
      await sql`
        create table owner_invitations (
          id uuid primary key,
          token_hash bytea not null unique,
          app_id uuid not null references apps (id) on delete cascade,
          person_id uuid not null,
          invited_by uuid not null,
          created_at timestamptz not null default now(),
          expires_at timestamptz not null,
          unique (app_id, person_id)
        )`.execute(db);
      await sql`create index owner_invitations_person_idx on owner_invitations (person_id)`.execute(db);
      await sql`create index owner_invitations_expires_idx on owner_invitations (expires_at)`.execute(db);
    },
  },
  '0008_app_changes': {
    async up(db) {
      // One counter bumped in every transaction that changes what a node caches of an
      // app. Nodes are also told of each change by LISTEN/NOTIFY; this counter, read once a
      // second, bounds how stale a node can be when a notice is lost. A table rather than a
      // sequence: a sequence moves before the commit, and a node reading it then would
      // reload the old row and believe itself current.
      await sql`create table app_changes (only_row boolean primary key default true check (only_row), version bigint not null)`.execute(db);
      await sql`insert into app_changes (version) values (0)`.execute(db);
    },
  },
  '0009_signing_keys': {
    async up(db) {
      // Keygate's own keys for signing what it issues under its own name (OpenID Connect
      // ID tokens). The public half is published from when the key is created; the key
      // signs only from signs_from, so that relying parties' caches of the key set hold
      // it before its first signature; retires_at is when it leaves the key set, once
      // the longest-lived token it signed has expired. The private half is sealed under
      // the control plane's master key, bound to the key's row.
      await sql`
        create table signing_keys (
          kid text primary key,
          alg text not null check (alg in ('RS256')),
          public_jwk jsonb not null,
          private_key_ct bytea not null,
          private_key_master_key_id text not null,
          created_at timestamptz not null default now(),
          signs_from timestamptz not null,
          retires_at timestamptz
        )`.execute(db);
    },
  },
  '0010_oidc_clients': {
    async up(db) {
      // Every app can be an OpenID Connect client under its App ID. Redirect URIs are kept
      // as registered, for they are compared as written. A confidential client's secret is
      // kept as its SHA-256 only; a public client has none and must use PKCE.
      await sql`
        alter table apps
          add column redirect_uris text[] not null default '{}',
          add column public_client boolean not null default false,
          add column client_secret_hash bytea`.execute(db);
    },
  },
  '0011_authorization_requests': {
    async up(db) {
      // A pending sign-in now comes from one of two protocols. An OpenID Connect request
      // has no Ukey1 request id; it may carry a PKCE challenge (S256, the verifier's hash,
      // nothing personal) and the protocol's own parameters (state, nonce, max_age, …),
      // which only its front-end reads. `sign_in_after` asks for a sign-in at or after that
      // time (OpenID Connect `prompt=login`, `max_age`): an older session must sign in again.
      await sql`
        alter table connect_requests
          add column protocol text not null default 'ukey1' check (protocol in ('ukey1', 'oidc')),
          add column code_challenge text,
          add column sign_in_after timestamptz,
          add column protocol_params jsonb not null default '{}'::jsonb,
          alter column request_id drop not null`.execute(db);
    },
  },
  '0012_oidc_logout': {
    async up(db) {
      // Where an OpenID Connect client may have the person sent after signing out (matched
      // exactly, like redirect URIs), and where it hears of a sign-out server to server.
      await sql`
        alter table apps
          add column post_logout_redirect_uris text[] not null default '{}',
          add column backchannel_logout_uri text`.execute(db);
    },
  },
  '0013_client_keys': {
    async up(db) {
      // A client that authenticates with private_key_jwt registers its public keys (a JWK
      // set); each signed assertion works once, so its id is kept until it expires.
      await sql`alter table apps add column client_jwks jsonb`.execute(db);
      await sql`
        create table client_assertions (
          client_id uuid not null references apps (id) on delete cascade,
          jti text not null,
          expires_at timestamptz not null,
          primary key (client_id, jti)
        )`.execute(db);
      await sql`create index client_assertions_expires_idx on client_assertions (expires_at)`.execute(db);
    },
  },
};
