import type { KeyObject } from 'node:crypto';
import { generateSigningKeyPair, signingKeyFromDer } from '../../crypto/signing-key-pair.js';
import type { KeyRing } from '../../crypto/key-ring.js';
import { OPERATOR, SYSTEM, type Actor } from '../audit/audit-log.js';
import { addSeconds, type Clock } from '../clock.js';
import type { NewSigningKey, SigningKeyRecord, SigningKeyStore } from './signing-key-store.js';

/** Where a signing key's private half is sealed: bound to its own row. */
export const signingKeyLocation = (kid: string) => ({ table: 'signing_keys', column: 'private_key_ct', rowId: kid });

/** The longest-lived tokens these keys sign are ID tokens, valid for an hour. */
export const LONGEST_SIGNED_TOKEN_SECONDS = 3600;

/** How long relying parties may cache the key set (its `Cache-Control` lifetime). */
export const KEY_SET_MAX_AGE_SECONDS = 600;

export interface SigningKeysOptions {
  readonly store: SigningKeyStore;
  /** The control plane's master keys, which seal the private halves. */
  readonly ring: KeyRing;
  readonly clock: Clock;
  /** The lifetime of the longest-lived token a key signs: how long a replaced key stays published. */
  readonly longestTokenSeconds: number;
  /** How long a new key is published before it signs; more than a cached key set can be old. */
  readonly publishLeadSeconds?: number;
  /** How long this node trusts what it read of the keys (a rotation elsewhere reaches it within this). */
  readonly reloadSeconds?: number;
}

/** The key that signs now. */
export interface Signer {
  readonly kid: string;
  readonly alg: 'RS256';
  readonly privateKey: KeyObject;
}

/** What a rotation did: the key that will sign, and the keys that will leave the key set. */
export interface SigningKeyRotation {
  readonly next: { readonly kid: string; readonly signsFrom: Date };
  readonly retiring: ReadonlyArray<{ readonly kid: string; readonly retiresAt: Date }>;
}

/**
 * Keygate's own signing keys and their life: a new key is published before it signs (so
 * every cached key set holds it by then), and a replaced key stays published until the
 * longest-lived token it signed has expired. The first key is made when one is first needed.
 */
export class SigningKeys {
  readonly #store: SigningKeyStore;
  readonly #ring: KeyRing;
  readonly #clock: Clock;
  readonly #longestTokenSeconds: number;
  readonly #publishLeadSeconds: number;
  readonly #reloadSeconds: number;
  #loaded: { at: number; keys: SigningKeyRecord[] } | null = null;
  /** The first key while it is being made, so that concurrent callers wait for one key instead of each generating one. */
  #makingFirst: Promise<SigningKeyRecord[]> | null = null;
  readonly #opened = new Map<string, KeyObject>();

  constructor(options: SigningKeysOptions) {
    this.#store = options.store;
    this.#ring = options.ring;
    this.#clock = options.clock;
    this.#longestTokenSeconds = options.longestTokenSeconds;
    this.#reloadSeconds = options.reloadSeconds ?? 60;
    this.#publishLeadSeconds = options.publishLeadSeconds ?? 2 * (KEY_SET_MAX_AGE_SECONDS + this.#reloadSeconds);
  }

  async #keys(): Promise<SigningKeyRecord[]> {
    const now = this.#clock.now();
    if (!this.#loaded || now.getTime() - this.#loaded.at >= this.#reloadSeconds * 1000) {
      this.#loaded = { at: now.getTime(), keys: await this.#store.unretired(now) };
    }
    return this.#loaded.keys.filter((key) => key.retiresAt === null || key.retiresAt > now);
  }

  async #newKey(signsFrom: Date): Promise<NewSigningKey> {
    const pair = await generateSigningKeyPair();
    const { keyId, sealed } = this.#ring.seal(signingKeyLocation(pair.kid), pair.privateKeyDer);
    return { kid: pair.kid, alg: 'RS256', publicJwk: pair.publicJwk as Record<string, string>, privateKey: { masterKeyId: keyId, sealed }, signsFrom };
  }

  /** The public keys relying parties verify with: every unretired key, the next one included. */
  async keySet(): Promise<{ keys: Array<Readonly<Record<string, string>>> }> {
    let keys = await this.#keys();
    if (keys.length === 0) keys = await this.#makeFirstKey();
    return { keys: keys.map((key) => key.publicJwk) };
  }

  /** The key to sign with now: of the keys that sign already, the newest. */
  async signer(): Promise<Signer> {
    const pick = (keys: SigningKeyRecord[], now: Date) => keys.filter((key) => key.signsFrom <= now)
      .sort((a, b) => b.signsFrom.getTime() - a.signsFrom.getTime())[0];
    let key = pick(await this.#keys(), this.#clock.now());
    if (!key) {
      // The first key signs at once wherever it was made: another node that made it a moment
      // later, or whose clock is a little behind, still signs with it (nobody can have cached
      // a key set without it, and a lone key is only ever the first).
      const keys = await this.#makeFirstKey();
      key = pick(keys, this.#clock.now()) ?? (keys.length === 1 ? keys[0] : undefined);
    }
    if (!key) throw new Error('no signing key signs yet');
    let privateKey = this.#opened.get(key.kid);
    if (!privateKey) {
      privateKey = signingKeyFromDer(this.#ring.open(key.privateKey.masterKeyId, signingKeyLocation(key.kid), key.privateKey.sealed));
      this.#opened.set(key.kid, privateKey);
    }
    return { kid: key.kid, alg: key.alg, privateKey };
  }

  /** With no key yet, the first signs at once: no relying party can have cached a key set without it. */
  #makeFirstKey(): Promise<SigningKeyRecord[]> {
    this.#makingFirst ??= (async () => {
      const now = this.#clock.now();
      const key = await this.#newKey(now);
      await this.#store.addFirst(key, now, SYSTEM, [{ action: 'signing_key.created', appId: null, detail: `kid=${key.kid}` }]);
      this.#loaded = null;
      return this.#keys();
    })().finally(() => { this.#makingFirst = null; });
    return this.#makingFirst;
  }

  /**
   * Makes the next key: published now, signing once every cached key set can hold it.
   * The keys it replaces leave the key set when the last token they may sign has expired.
   */
  async rotate(actor: Actor = OPERATOR): Promise<SigningKeyRotation> {
    if ((await this.#keys()).length === 0) await this.#makeFirstKey();
    const now = this.#clock.now();
    const next = await this.#newKey(addSeconds(now, this.#publishLeadSeconds));
    const retiresAt = addSeconds(next.signsFrom, this.#longestTokenSeconds);
    const retired = await this.#store.rotate(next, retiresAt, actor, [
      { action: 'signing_key.rotated', appId: null, detail: `kid=${next.kid}` },
    ]);
    this.#loaded = null;
    return { next: { kid: next.kid, signsFrom: next.signsFrom }, retiring: retired.map((kid) => ({ kid, retiresAt })) };
  }
}
