import type { KeyObject } from 'node:crypto';
import { privateKeyFromDer, publicKeyFromSecretKey } from '../../crypto/app-keys.js';
import type { KeyRing } from '../../crypto/key-ring.js';
import type { Clock } from '../clock.js';
import { appKeyId, currentKeyLocation, isUuid, retiringKeyLocation, type App, type AppKey } from './app.js';
import type { AppRecord, AppStore } from './app-store.js';

// Parsing a private key costs several times the RSA operation it serves, so parsed keys
// are kept per key pair (they outlive an app's cached settings: a changed setting does
// not make the key worth parsing again).
const MAX_CACHED_KEYS = 10_000;

// Every Ukey1 call needs its app; caching it saves a control-plane round trip per call.
// Bounded so that many apps cannot grow a node without limit (least recently used goes).
const MAX_CACHED_APPS = 5_000;
// How stale a cached app may be when a change notice from another node is lost: the
// change counter is read at most this often, and a moved counter empties the cache.
const CHANGE_CHECK_EVERY_MS = 1000;

export interface AppDirectoryOptions {
  readonly store: AppStore;
  /** The control plane's master keys, which seal every app's private keys. */
  readonly ring: KeyRing;
  readonly clock: Clock;
}

/**
 * Finds apps as the protocols need them (settings and parsed keys), from this node's
 * cache when it can: every change made here drops the entry at once, other nodes are told
 * by a notice, and a lost notice is covered within a second by the change counter.
 */
export class AppDirectory {
  readonly #store: AppStore;
  readonly #ring: KeyRing;
  readonly #clock: Clock;
  readonly #keys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();
  /** Apps by lower-case id, least recently used first. Unknown ids are not cached. */
  readonly #apps = new Map<string, App>();
  /**
   * Moves on every invalidation: a load that began before one must not cache what it
   * read, which may predate the change.
   */
  #generation = 0;
  #checkedChangesAt = Number.NEGATIVE_INFINITY;
  #seenChanges: string | undefined;
  #checkingChanges: Promise<void> | undefined;

  constructor(options: AppDirectoryOptions) {
    this.#store = options.store;
    this.#ring = options.ring;
    this.#clock = options.clock;
  }

  /** The app with this id and its live keys; malformed ids are simply unknown. */
  async findApp(appId: string): Promise<App | null> {
    if (!isUuid(appId)) return null;
    const id = appId.toLowerCase();
    await this.#checkChanges();
    const cached = this.#apps.get(id);
    if (cached) {
      this.#apps.delete(id);
      this.#apps.set(id, cached);
      return this.#withLiveKeys(cached);
    }
    const generation = this.#generation;
    const record = await this.#store.load(id, this.#clock.now());
    const app = record && this.#toApp(record);
    if (app && generation === this.#generation) {
      if (this.#apps.size >= MAX_CACHED_APPS) this.#apps.delete(this.#apps.keys().next().value!);
      this.#apps.set(id, app);
    }
    return app && this.#withLiveKeys(app);
  }

  /** Drops this app from the cache: it changed, here or on another node. */
  forgetApp(appId: string): void {
    this.#generation += 1;
    this.#apps.delete(appId.toLowerCase());
  }

  /** Empties the cache: changes may have been missed (a listening connection was lost). */
  forgetAllApps(): void {
    this.#generation += 1;
    this.#apps.clear();
  }

  /** Whether any app lists this origin: enough to answer a CORS preflight, which names no app. */
  isOriginListedByAnyApp(origin: string): Promise<boolean> {
    return this.#store.isOriginListedByAnyApp(origin);
  }

  /** Whether some app that browsers may call has domain protection off (a preflight may then be answered with `*`). */
  anyAppOpenToEveryOrigin(): Promise<boolean> {
    return this.#store.anyAppOpenToEveryOrigin();
  }

  /** A replaced key stops working when it retires, even while its app is cached. */
  #withLiveKeys(app: App): App {
    const now = this.#clock.now().getTime();
    const live = app.keys.filter((k) => k.retiresAt === null || k.retiresAt.getTime() > now);
    return live.length === app.keys.length ? app : { ...app, keys: live };
  }

  /** Reads the change counter when the last reading is a second old; one reading at a time. */
  async #checkChanges(): Promise<void> {
    if (performance.now() - this.#checkedChangesAt < CHANGE_CHECK_EVERY_MS) return;
    this.#checkingChanges ??= (async () => {
      try {
        const version = await this.#store.changeVersion();
        if (version !== this.#seenChanges) {
          this.forgetAllApps();
          this.#seenChanges = version;
        }
        this.#checkedChangesAt = performance.now();
      } finally {
        this.#checkingChanges = undefined;
      }
    })();
    await this.#checkingChanges;
  }

  #parsedKeys(secretKey: string, open: () => Buffer) {
    let keys = this.#keys.get(secretKey);
    if (!keys) {
      keys = { privateKey: privateKeyFromDer(open()), publicKey: publicKeyFromSecretKey(secretKey) };
      if (this.#keys.size >= MAX_CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(secretKey, keys);
    }
    return keys;
  }

  #toApp(record: AppRecord): App {
    const current: AppKey = {
      id: appKeyId(record.secretKey),
      secretKey: record.secretKey,
      retiresAt: null,
      ...this.#parsedKeys(record.secretKey, () => this.#ring.open(record.privateKey.masterKeyId, currentKeyLocation(record.id), record.privateKey.sealed)),
    };
    const retiring: AppKey[] = record.retiring.map((k) => ({
      id: k.keyId,
      secretKey: k.secretKey,
      retiresAt: k.retiresAt,
      ...this.#parsedKeys(k.secretKey, () => this.#ring.open(k.privateKey.masterKeyId, retiringKeyLocation(k.keyId), k.privateKey.sealed)),
    }));
    const { secretKey: _current, privateKey: _sealed, retiring: _replaced, ...settings } = record;
    return {
      ...settings,
      keys: [current, ...retiring],
      secretKey: current.secretKey,
      privateKey: current.privateKey,
      publicKey: current.publicKey,
    };
  }
}
