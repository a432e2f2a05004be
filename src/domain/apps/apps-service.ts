import { randomUUID, type KeyObject } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { generateAppKeyPair, privateKeyFromDer, publicKeyFromSecretKey } from '../../crypto/app-keys.js';
import type { KeyRing } from '../../crypto/key-ring.js';
import type { Selectable } from 'kysely';
import type { AppsTable, ControlDatabase } from '../../storage/schema.js';
import { DEFAULT_PERMISSIONS } from '../consent/fields.js';
import { normaliseOrigin } from '../protection/origin.js';
import { parseReturnUrl } from '../protection/return-url.js';

/** An app as the protocol needs it: settings plus usable key objects. */
export interface App {
  readonly id: string;
  readonly name: string;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  readonly permissions: readonly string[];
  readonly legalBasis: string;
  readonly secretKey: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface NewApp {
  readonly name: string;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  readonly legalBasis?: string;
}

export class AppValidationError extends Error {
  override name = 'AppValidationError';
}

export const DEFAULT_LEGAL_BASIS = 'Needed to provide the service you are signing in to (performance of a contract, GDPR Art. 6(1)(b)).';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

const privateKeyLocation = (appId: string) => ({ table: 'apps', column: 'private_key_ct', rowId: appId });

// Parsing a private key costs several times the RSA operation it serves, so parsed keys
// are kept per key pair. Settings are read from the store on every request: only the
// immutable key material is cached, so any node sees a settings change at once.
const MAX_CACHED_KEYS = 10_000;

export class AppsService {
  readonly #keys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();

  constructor(
    private readonly db: Kysely<ControlDatabase>,
    private readonly ring: KeyRing,
    private readonly rsaBits: number,
  ) {}

  /** Registers an app with a fresh RSA key pair; returns its App ID and Secret Key. */
  async createApp(input: NewApp): Promise<{ appId: string; secretKey: string }> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) throw new AppValidationError('name must be 1 to 100 characters');
    const origins = input.origins.map((o) => {
      const origin = normaliseOrigin(o);
      if (!origin) throw new AppValidationError(`not an origin (scheme://host[:port]): ${o}`);
      return origin;
    });
    if (input.returnUrls.length === 0) throw new AppValidationError('at least one return URL is required');
    for (const url of input.returnUrls) {
      if (!parseReturnUrl(url)) throw new AppValidationError(`not an acceptable return URL (https, or http on loopback; no credentials): ${url}`);
    }
    const id = randomUUID();
    const { secretKey, privateKeyDer } = await generateAppKeyPair(this.rsaBits);
    const { keyId, sealed } = this.ring.seal(privateKeyLocation(id), privateKeyDer);
    await this.db.insertInto('apps').values({
      id,
      name,
      secret_key: secretKey,
      private_key_ct: sealed,
      private_key_master_key_id: keyId,
      origins: [...new Set(origins)],
      return_urls: [...new Set(input.returnUrls)],
      permissions: [...DEFAULT_PERMISSIONS],
      legal_basis: input.legalBasis?.trim() || DEFAULT_LEGAL_BASIS,
    }).execute();
    return { appId: id, secretKey };
  }

  /** The app with this id, or null. Malformed ids are simply unknown. */
  async findApp(appId: string): Promise<App | null> {
    if (!isUuid(appId)) return null;
    const row = await this.db.selectFrom('apps').selectAll().where('id', '=', appId.toLowerCase()).executeTakeFirst();
    return row ? this.#toApp(row) : null;
  }

  /** Whether any app lists this origin: enough to answer a CORS preflight, which names no app. */
  async isOriginListedByAnyApp(origin: string): Promise<boolean> {
    const row = await this.db.selectFrom('apps').select('id')
      .where(sql<boolean>`origins @> array[${origin}]::text[]`).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  #toApp(row: Selectable<AppsTable>): App {
    let keys = this.#keys.get(row.secret_key);
    if (!keys) {
      const der = this.ring.open(row.private_key_master_key_id, privateKeyLocation(row.id), row.private_key_ct);
      keys = { privateKey: privateKeyFromDer(der), publicKey: publicKeyFromSecretKey(row.secret_key) };
      if (this.#keys.size >= MAX_CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(row.secret_key, keys);
    }
    return {
      id: row.id,
      name: row.name,
      origins: row.origins,
      returnUrls: row.return_urls,
      permissions: row.permissions,
      legalBasis: row.legal_basis,
      secretKey: row.secret_key,
      ...keys,
    };
  }
}
