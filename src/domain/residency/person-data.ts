import type { FieldLocation } from '../../crypto/field-cipher.js';
import type { ZoneDatabase } from '../../storage/schema.js';

/**
 * The registry of person-owned data: every table of a zone, with what each operation on a
 * person does to it. Zone move, export, erasure, retention and master-key rotation iterate
 * this registry instead of keeping lists of their own, and the sealed columns' associated
 * data is built from it. It is typed over the zone schema: a table added to `ZoneDatabase`
 * without an entry here does not compile, and `test/http/person-data.test.ts` fails when a
 * table of the migrated database refers to a person and is missing from the schema.
 */

export type ZoneTable = keyof ZoneDatabase;
type ColumnOf<T extends ZoneTable> = keyof ZoneDatabase[T] & string;

/** What a zone move does with a table's rows about the person. */
export type MoveTreatment =
  /** Copied row for row: they refer to the person by id and hold nothing keyed by the zone. */
  | 'copy'
  /** The person's own row: copied with its blind indexes recomputed under the new zone's index key. */
  | 'reindex'
  /** The data key: the same key, wrapped by the new zone's master key (so every ciphertext moves as it is). */
  | 'rewrap'
  /** Keyed hashes made with a zone's key: copied, naming the zone whose key made them. */
  | 'copy-naming-key-zone'
  /** Copied into the new zone's chain as copies naming their originals, which are redacted. */
  | 'audit-chain'
  /** Short-lived and asked for again: left to be deleted with the old row. */
  | 'left-behind'
  /** Holds nothing about any one person. */
  | 'none';

/** What erasing a person does: the data key goes first (crypto-shredding), then every row; audit records stay. */
export type EraseTreatment = 'shred-first' | 'delete' | 'delete-last' | 'keep';

/** The sections of a person's data export (`AccountCentre.exportData`). */
export type ExportSection = 'profile' | 'account' | 'apps' | 'grants' | 'consents' | 'sessions' | 'audit';

export type ExportTreatment =
  | { readonly sections: readonly ExportSection[] }
  /** Why the table is not in the export (every table must say one or the other). */
  | { readonly omitted: string };

/** Rows deleted once `column` is more than `afterSeconds` in the past (data minimisation). */
export interface Retention<T extends ZoneTable> {
  readonly column: ColumnOf<T>;
  readonly afterSeconds: number;
}

/** Columns sealed with AES-GCM, bound to table, column and the row's key (see `crypto/field-cipher.ts`). */
export interface Sealing<T extends ZoneTable> {
  /** Under the person's data key, or (the data key itself) under the zone's master key. */
  readonly under: 'data-key' | 'master-key';
  readonly columns: ReadonlyArray<ColumnOf<T>>;
  /** The column whose value names the row in the associated data; `hex` for bytes. */
  readonly rowKey: ColumnOf<T>;
  readonly rowKeyEncoding?: 'hex';
  /** Under the master key: the column naming which master key sealed each value (for rotation). */
  readonly keyIdColumn?: ColumnOf<T>;
}

/** A keyed blind index of a sealed column, so that the row can be found without opening it. */
export interface BlindIndex<T extends ZoneTable> {
  readonly of: ColumnOf<T>;
  /** Separates the indexes made with one key (see `crypto/blind-index.ts`). */
  readonly purpose: string;
}

export interface PersonTableEntry<T extends ZoneTable> {
  /** The column that names the person; null for a table that holds nothing about one. */
  readonly person: ColumnOf<T> | null;
  readonly move: MoveTreatment;
  readonly export: ExportTreatment;
  readonly erase: EraseTreatment;
  readonly expires: Retention<T> | null;
  readonly sealed: Sealing<T> | null;
  readonly blindIndexes: Readonly<Partial<Record<ColumnOf<T>, BlindIndex<T>>>>;
}

const DAY_SECONDS = 24 * 3600;

/** What most tables are: rows naming the person by `person_id`, deleted with them, kept until then, nothing sealed. */
const ROWS_OF_A_PERSON = { person: 'person_id', erase: 'delete', expires: null, sealed: null, blindIndexes: {} } as const;

export const PERSON_DATA = {
  people: {
    person: 'id',
    move: 'reindex',
    export: { sections: ['profile', 'account'] },
    erase: 'delete-last',
    expires: null,
    sealed: {
      under: 'data-key',
      columns: ['email_ct', 'firstname_ct', 'surname_ct', 'country_ct', 'language_ct', 'image_ct', 'nickname_ct', 'totp_secret_ct'],
      rowKey: 'id',
    },
    blindIndexes: {
      email_index: { of: 'email_ct', purpose: 'people.email' },
      nickname_index: { of: 'nickname_ct', purpose: 'people.nickname' },
    },
  },
  person_keys: {
    ...ROWS_OF_A_PERSON,
    move: 'rewrap',
    export: { omitted: 'the key that seals the other fields, itself sealed by the zone' },
    erase: 'shred-first',
    sealed: { under: 'master-key', columns: ['wrapped_key'], rowKey: 'person_id', keyIdColumn: 'master_key_id' },
  },
  app_users: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { sections: ['apps'] },
  },
  grants: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { sections: ['grants'] },
  },
  consent_records: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { sections: ['consents'] },
    sealed: { under: 'data-key', columns: ['ip_ct'], rowKey: 'id' },
  },
  // One-time codes stay a day after they expired, to recognise a replay and revoke what the first use issued.
  auth_codes: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { omitted: 'hashes of single-use codes held for apps; their use is in the audit section' },
    expires: { column: 'expires_at', afterSeconds: DAY_SECONDS },
  },
  access_tokens: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { omitted: 'credentials held by apps; what they read is in the audit section' },
    expires: { column: 'expires_at', afterSeconds: 0 },
  },
  refresh_tokens: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { omitted: 'hashes of credentials held by apps; what they read is in the audit section' },
    expires: { column: 'expires_at', afterSeconds: 0 },
  },
  sessions: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { sections: ['sessions'] },
    expires: { column: 'expires_at', afterSeconds: 0 },
    sealed: { under: 'data-key', columns: ['device_ct', 'network_ct'], rowKey: 'id_hash', rowKeyEncoding: 'hex' },
  },
  audit_events: {
    ...ROWS_OF_A_PERSON,
    move: 'audit-chain',
    export: { sections: ['audit'] },
    erase: 'keep',
  },
  audit_checkpoints: {
    person: null,
    move: 'none',
    export: { omitted: 'signatures over the whole chain; about no one' },
    erase: 'keep',
    expires: null,
    sealed: null,
    blindIndexes: {},
  },
  // Emailed codes, reset links, a half-finished second-factor step: asked for again after a move.
  challenges: {
    ...ROWS_OF_A_PERSON,
    move: 'left-behind',
    export: { omitted: 'pending codes and links, valid for minutes; each one sent is in the audit section' },
    expires: { column: 'expires_at', afterSeconds: DAY_SECONDS },
    sealed: { under: 'data-key', columns: ['detail_ct'], rowKey: 'person_id' },
  },
  recovery_codes: {
    ...ROWS_OF_A_PERSON,
    move: 'copy-naming-key-zone',
    export: { omitted: 'hashes of the second factor\'s recovery codes; the account section says whether it is on' },
  },
  known_devices: {
    ...ROWS_OF_A_PERSON,
    move: 'copy',
    export: { omitted: 'keyed hashes of browsers seen, nothing readable; live sessions are in the sessions section' },
  },
} as const satisfies { readonly [T in ZoneTable]: PersonTableEntry<T> };

type Registry = typeof PERSON_DATA;

/** A sealing read generically, whatever its table. */
export interface AnySealing {
  readonly under: 'data-key' | 'master-key';
  readonly columns: readonly string[];
  readonly rowKey: string;
  readonly rowKeyEncoding?: 'hex';
  readonly keyIdColumn?: string;
}

const sealingOf = (table: ZoneTable): AnySealing | null => PERSON_DATA[table].sealed as AnySealing | null;

/** The tables whose entries match `where`, in the registry's order. */
export function zoneTablesWhere(where: (entry: PersonTableEntry<ZoneTable>, table: ZoneTable) => boolean): ZoneTable[] {
  return (Object.keys(PERSON_DATA) as ZoneTable[]).filter((table) => where(PERSON_DATA[table] as PersonTableEntry<ZoneTable>, table));
}

/** Tables moved with `treatment`, typed so that the result can be queried. */
export function tablesMovedBy<M extends MoveTreatment>(treatment: M): Array<{ [T in ZoneTable]: Registry[T]['move'] extends M ? T : never }[ZoneTable]> {
  return zoneTablesWhere((entry) => entry.move === treatment) as never;
}

/** The tables whose rows expire. */
export type ExpiringTable = { [T in ZoneTable]: Registry[T]['expires'] extends null ? never : T }[ZoneTable];

/** The export's sections in the registry's order, each once. */
export function exportSections(): ExportSection[] {
  const named = zoneTablesWhere(() => true).flatMap((table) => {
    const treatment: ExportTreatment = PERSON_DATA[table].export;
    return 'sections' in treatment ? treatment.sections : [];
  });
  return [...new Set(named)];
}

type SealedTable = { [T in ZoneTable]: Registry[T]['sealed'] extends null ? never : T }[ZoneTable];
type SealedColumn<T extends SealedTable> = Registry[T]['sealed'] extends { columns: ReadonlyArray<infer C> } ? C : never;

/** A sealed column of the person's own row. */
export type PersonSealedColumn = SealedColumn<'people'>;

/**
 * Where a sealed value of a zone table lives, for the AES-GCM associated data. Only a
 * column the registry lists as sealed type-checks, so no sealed column goes unregistered.
 */
export function sealedAt<T extends SealedTable>(table: T, column: SealedColumn<T>, rowKey: string): FieldLocation {
  return { table, column: column as string, rowId: rowKey };
}

/** The value naming a row in its sealed columns' associated data. */
export function sealedRowKey(table: SealedTable, row: Record<string, unknown>): string {
  const sealing = sealingOf(table)!;
  const value = row[sealing.rowKey];
  return sealing.rowKeyEncoding === 'hex' ? Buffer.from(value as Uint8Array).toString('hex') : String(value);
}

/** Every sealed column of the zone schema, with how it is sealed. */
export function sealedColumns(): Array<{ table: SealedTable; column: string; sealing: AnySealing }> {
  return zoneTablesWhere((entry) => entry.sealed !== null).flatMap((table) => {
    const sealing = sealingOf(table)!;
    return sealing.columns.map((column) => ({ table: table as SealedTable, column, sealing }));
  });
}
