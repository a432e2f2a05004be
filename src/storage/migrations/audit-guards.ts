import { sql, type Kysely } from 'kysely';

/**
 * What the audit trail of every store (zone or control plane) shares once its chain is in
 * place: append-only guards on `audit_events`, and the table of signed checkpoints.
 * Part of the 0006 (zone) and 0003 (control) migrations: the statements must stay as they
 * shipped.
 */
export async function createAuditGuardsAndCheckpoints(db: Kysely<any>): Promise<void> {
  // Append-only: the application never updates or deletes a record (someone who owns the
  // table can lift this, which is what the chain and the signed checkpoints detect).
  await sql`
    create function keygate_audit_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit records are append-only' using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`
    create trigger audit_events_append_only before update or delete on audit_events
      for each row execute function keygate_audit_append_only()`.execute(db);
  await sql`
    create trigger audit_events_no_truncate before truncate on audit_events
      for each statement execute function keygate_audit_append_only()`.execute(db);
  // Signed (HMAC, key derived from the store's master key) statements that the chain
  // reached last_id with last_hash: cutting the tail off behind one is detected.
  await sql`
    create table audit_checkpoints (
      id bigint generated always as identity primary key,
      created_at timestamptz not null,
      last_id bigint not null,
      last_hash bytea not null,
      key_id text not null,
      signature bytea not null
    )`.execute(db);
  await sql`create index audit_checkpoints_last_idx on audit_checkpoints (last_id)`.execute(db);
}
