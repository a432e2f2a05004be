import { randomUUID } from 'node:crypto';
import { generateAppKeyPair } from '../../crypto/app-keys.js';
import { generateClientSecret } from '../../crypto/client-secret.js';
import type { KeyRing } from '../../crypto/key-ring.js';
import { OPERATOR, SYSTEM, type Actor } from '../audit/audit-log.js';
import { addSeconds, type Clock } from '../clock.js';
import { DEFAULT_PERMISSIONS, isFieldCode, type FieldCode } from '../consent/fields.js';
import type { PersonRef } from '../zones/zone-registry.js';
import { appKeyId, currentKeyLocation, DEFAULT_LEGAL_BASIS, retiringKeyLocation } from './app.js';
import type { AppDirectory } from './app-directory.js';
import type { AppAuditEntry, AppChanges, AppStore, LogoutSettings, ProtectionSettings } from './app-store.js';
import {
  AppSettingsError, validateFieldPermissions, validateGraceDays, validateIpEntries, validateName, validateOrigins, validateRedirectUris, validateReturnUrls, validateClientJwks,
} from './app-settings.js';

export interface NewApp {
  readonly name: string;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  /** OpenID Connect redirect URIs; with them, return URLs become optional. */
  readonly redirectUris?: readonly string[];
  /** An OpenID Connect client without a secret, which must use PKCE. */
  readonly publicClient?: boolean;
  readonly legalBasis?: string;
  /** The developer who creates the app from the dashboard; the CLI creates apps without one. */
  readonly owner?: PersonRef;
  /** Refuse an app without origins (the dashboard: domain protection starts on). */
  readonly requireOrigins?: boolean;
}


/** Kept for callers that only need to know that the input was refused. */
export { AppSettingsError as AppValidationError } from './app-settings.js';

/** A registered app's credentials: its App ID (also its OpenID Connect client id), Secret Key and, for a confidential client, its client secret. */
export interface CreatedApp {
  readonly appId: string;
  readonly secretKey: string;
  readonly clientId: string;
  readonly clientSecret?: string;
}

export interface AppsServiceOptions {
  readonly store: AppStore;
  /** Told of every change made here, so that this node never serves what it just changed. */
  readonly directory: AppDirectory;
  /** The control plane's master keys, which seal every app's private keys. */
  readonly ring: KeyRing;
  readonly rsaBits: number;
  readonly clock: Clock;
}

/**
 * Registers apps and changes their settings and keys. Every method that changes an app
 * records what changed in the control plane's audit trail, in the same transaction (ids
 * and codes only); `actor` says who acted.
 */
export class AppsService {
  readonly #store: AppStore;
  readonly #directory: AppDirectory;
  readonly #ring: KeyRing;
  readonly #rsaBits: number;
  readonly #clock: Clock;

  constructor(options: AppsServiceOptions) {
    this.#store = options.store;
    this.#directory = options.directory;
    this.#ring = options.ring;
    this.#rsaBits = options.rsaBits;
    this.#clock = options.clock;
  }

  /**
   * Registers an app with a fresh RSA key pair; returns its App ID and Secret Key, and,
   * for an OpenID Connect client that is not public, its client secret (shown this once).
   * Without `actor`, the record names the owner creating the app, or the system.
   */
  async createApp(input: NewApp, actor?: Actor): Promise<CreatedApp> {
    const name = validateName(input.name);
    const origins = validateOrigins(input.origins);
    const returnUrls = validateReturnUrls(input.returnUrls);
    const redirectUris = validateRedirectUris(input.redirectUris ?? []);
    const publicClient = input.publicClient === true;
    if (publicClient && redirectUris.length === 0) {
      throw new AppSettingsError('redirectUris', 'A public client needs at least one redirect URI.', 'redirectUris.required');
    }
    if (returnUrls.length === 0 && redirectUris.length === 0) {
      throw new AppSettingsError('returnUrls', 'At least one return URL is required.', 'returnUrls.required');
    }
    const client = redirectUris.length > 0 && !publicClient ? generateClientSecret() : null;
    if (input.requireOrigins && origins.length === 0) throw new AppSettingsError('origins', 'At least one origin is required: domain protection starts on.', 'origins.required');
    const id = randomUUID();
    const { secretKey, privateKeyDer } = await generateAppKeyPair(this.#rsaBits);
    const { keyId, sealed } = this.#ring.seal(currentKeyLocation(id), privateKeyDer);
    await this.#store.create({
      id,
      name,
      secretKey,
      privateKey: { masterKeyId: keyId, sealed },
      origins,
      returnUrls,
      redirectUris,
      publicClient,
      clientSecretHash: client?.hash ?? null,
      permissions: DEFAULT_PERMISSIONS,
      legalBasis: input.legalBasis?.trim() || DEFAULT_LEGAL_BASIS,
      // Secure by default: on whenever there is a list to check (an app registered
      // without origins, from the CLI, is a server-side app until origins are added).
      domainProtection: origins.length > 0,
    }, input.owner ?? null, actor ?? (input.owner ? { kind: 'person', id: input.owner.id } : SYSTEM), [
      { action: 'app.created', appId: id, detail: `key=${appKeyId(secretKey)}${redirectUris.length > 0 ? `,client=${publicClient ? 'public' : 'confidential'}` : ''}` },
    ]);
    return { appId: id, secretKey, clientId: id, ...(client ? { clientSecret: client.secret } : {}) };
  }

  /**
   * Gives a confidential OpenID Connect client a new secret, shown this once; the old one
   * stops working at once. Refused for a public client, which has none by design.
   */
  async regenerateClientSecret(appId: string, actor: Actor = SYSTEM): Promise<{ clientSecret: string }> {
    const client = generateClientSecret();
    await this.#changeApp(appId, async (changes) => {
      if (!(await changes.setClientSecretHash(client.hash))) throw new AppSettingsError('redirectUris', 'No such confidential client.', 'other');
      await changes.audit(actor, [{ action: 'app.client_secret_regenerated', appId }]);
    });
    return { clientSecret: client.secret };
  }

  /**
   * Replaces the OpenID Connect redirect URIs, matched exactly from now on (a request
   * already open for a removed one is not answered there). A public client needs at
   * least one; every app needs a way back, a return URL or a redirect URI.
   */
  async updateRedirectUris(appId: string, uris: readonly string[], actor: Actor = SYSTEM): Promise<void> {
    const redirectUris = validateRedirectUris(uris);
    const app = await this.#directory.findApp(appId);
    if (app?.publicClient && redirectUris.length === 0) {
      throw new AppSettingsError('redirectUris', 'A public client needs at least one redirect URI.', 'redirectUris.required');
    }
    if (app && app.returnUrls.length + redirectUris.length === 0) {
      throw new AppSettingsError('redirectUris', 'Without return URLs, at least one redirect URI is required: it is where people come back to.', 'redirectUris.requiredBack');
    }
    await this.#changeApp(appId, async (changes) => {
      if (await changes.setRedirectUris(redirectUris)) await changes.audit(actor, [{ action: 'app.redirect_uris_changed', appId, detail: `redirect_uris=${redirectUris.length}` }]);
    });
  }

  /**
   * Sets where the person may be sent after signing out at the client's request (matched
   * exactly, checked like redirect URIs) and the back-channel logout URI (https, or http
   * on loopback; no fragment), or none.
   */
  async updateLogout(appId: string, input: LogoutSettings, actor: Actor = SYSTEM): Promise<void> {
    const postLogoutRedirectUris = validateRedirectUris(input.postLogoutRedirectUris, 'postLogoutRedirectUris');
    const backchannel = input.backchannelLogoutUri?.trim() || null;
    const backchannelLogoutUri = backchannel === null ? null : validateRedirectUris([backchannel], 'backchannelLogoutUri')[0]!;
    await this.#changeApp(appId, async (changes) => {
      if (await changes.setLogout({ postLogoutRedirectUris, backchannelLogoutUri })) {
        await changes.audit(actor, [{
          action: 'app.logout_changed', appId, detail: `post_logout_redirect_uris=${postLogoutRedirectUris.length},backchannel=${backchannelLogoutUri ? 'on' : 'off'}`,
        }]);
      }
    });
  }

  /**
   * Registers the public keys a confidential client signs its token-endpoint assertions
   * with (private_key_jwt), as a JWK set in JSON; empty removes them. The client secret
   * keeps working beside them.
   */
  async updateClientJwks(appId: string, jwksJson: string, actor: Actor = SYSTEM): Promise<void> {
    const jwks = validateClientJwks(jwksJson);
    if (jwks && (await this.#directory.findApp(appId))?.publicClient) {
      throw new AppSettingsError('clientJwks', 'A public client has no credentials: it cannot register keys.', 'clientJwks.publicClient');
    }
    await this.#changeApp(appId, async (changes) => {
      if (await changes.setClientJwks(jwks)) await changes.audit(actor, [{ action: 'app.client_keys_changed', appId, detail: `keys=${jwks?.keys.length ?? 0}` }]);
    });
  }

  /** Runs a change to an app, and drops it from this node's cache once it is over. */
  async #changeApp<T>(appId: string, work: (changes: AppChanges) => Promise<T>): Promise<T> {
    try {
      return await this.#store.change(appId, work);
    } finally {
      // Also after a failure: whether it committed is not always known (a lost connection).
      this.#directory.forgetApp(appId);
    }
  }

  async rename(appId: string, name: string, actor: Actor = SYSTEM): Promise<void> {
    const validated = validateName(name);
    await this.#changeApp(appId, async (changes) => {
      if (await changes.rename(validated)) await changes.audit(actor, [{ action: 'app.renamed', appId }]);
    });
  }

  async deleteApp(appId: string, actor: Actor = SYSTEM): Promise<void> {
    await this.#changeApp(appId, async (changes) => {
      if (await changes.remove()) await changes.audit(actor, [{ action: 'app.deleted', appId }]);
    });
  }

  /**
   * Saves the four protections and their lists together, validated as a whole: a
   * protection turned on needs a list to check against.
   */
  async updateProtections(appId: string, input: ProtectionSettings, actor: Actor = SYSTEM): Promise<void> {
    const origins = validateOrigins(input.origins);
    const returnUrls = validateReturnUrls(input.returnUrls);
    const ipEntries = validateIpEntries(input.ipEntries);
    // An OpenID Connect client's people come back to its redirect URIs instead.
    const redirectUris = (await this.#directory.findApp(appId))?.redirectUris ?? [];
    if (returnUrls.length + redirectUris.length === 0) {
      throw new AppSettingsError('returnUrls', 'At least one return URL is required: it is where people come back to.', 'returnUrls.requiredBack');
    }
    if (input.protections.domain && origins.length === 0) throw new AppSettingsError('origins', 'Domain protection needs at least one origin.', 'origins.requiredForDomain');
    if (input.protections.ip && ipEntries.length === 0) throw new AppSettingsError('ipEntries', 'IP protection needs at least one address or subnet.', 'ipEntries.requiredForIp');
    const { domain, returnUrl, serverOnly, ip } = input.protections;
    const onOff = (on: boolean) => (on ? 'on' : 'off');
    // Which protections are on and how long each list is; never the entries (addresses).
    const detail = `domain=${onOff(domain)},return_url=${onOff(returnUrl)},server_only=${onOff(serverOnly)},ip=${onOff(ip)};`
      + `origins=${origins.length},return_urls=${returnUrls.length},ip_entries=${ipEntries.length}`;
    await this.#changeApp(appId, async (changes) => {
      if (await changes.setProtections({ protections: input.protections, origins, returnUrls, ipEntries })) {
        await changes.audit(actor, [{ action: 'app.protections_changed', appId, detail }]);
      }
    });
  }

  async updateFields(
    appId: string, requested: readonly FieldCode[], mandatory: readonly FieldCode[], legalBases: Partial<Record<FieldCode, string>>, actor: Actor = SYSTEM,
  ): Promise<void> {
    await this.#changeApp(appId, async (changes) => {
      const approved = await changes.lockMandatoryApproved();
      if (!approved) throw new Error(`no app ${appId}`);
      const { permissions, legalBases: bases } = validateFieldPermissions(requested, mandatory, legalBases, approved);
      await changes.setPermissions(permissions, bases);
      await changes.audit(actor, [{ action: 'app.fields_changed', appId, detail: permissions.join(',') }]);
    });
  }

  /** Operator: lets the app make these fields (e.g. `email`, `image`) mandatory. */
  async allowMandatory(appId: string, fields: readonly string[], actor: Actor = OPERATOR): Promise<boolean> {
    const codes = fields.filter(isFieldCode);
    if (codes.length !== fields.length || codes.length === 0) {
      const unknown = fields.filter((f) => !isFieldCode(f)).join(', ') || '(none given)';
      throw new AppSettingsError('permissions', `Unknown field: ${unknown}.`, 'permissions.unknown', { fields: unknown });
    }
    return this.#changeApp(appId, async (changes) => {
      if (!(await changes.approveMandatory(codes))) return false;
      await changes.audit(actor, [{ action: 'app.mandatory_allowed', appId, detail: codes.join(',') }]);
      return true;
    });
  }

  /**
   * Issues a new key pair. The replaced one keeps working for `graceDays` (0 = it stops
   * at once), so that a deployment can switch keys without downtime.
   */
  async rotateKey(appId: string, graceDays: number, actor: Actor = SYSTEM): Promise<{ secretKey: string }> {
    validateGraceDays(graceDays);
    const { secretKey, privateKeyDer } = await generateAppKeyPair(this.#rsaBits);
    const { keyId: masterKeyId, sealed } = this.#ring.seal(currentKeyLocation(appId), privateKeyDer);
    await this.#changeApp(appId, async (changes) => {
      const old = await changes.lockCurrentKey();
      if (!old) throw new Error(`no app ${appId}`);
      if (graceDays > 0) {
        const oldKeyId = appKeyId(old.secretKey);
        const der = this.#ring.open(old.privateKey.masterKeyId, currentKeyLocation(appId), old.privateKey.sealed);
        const resealed = this.#ring.seal(retiringKeyLocation(oldKeyId), der);
        await changes.keepRetiringKey({
          keyId: oldKeyId,
          secretKey: old.secretKey,
          privateKey: { masterKeyId: resealed.keyId, sealed: resealed.sealed },
          retiresAt: addSeconds(this.#clock.now(), graceDays * 24 * 60 * 60),
        });
      }
      await changes.setCurrentKey(secretKey, { masterKeyId, sealed });
      await changes.audit(actor, [
        { action: 'app.key_rotated', appId, detail: `key=${appKeyId(secretKey)},previous=${appKeyId(old.secretKey)},grace_days=${graceDays}` },
      ]);
    });
    return { secretKey };
  }

  /** Ends every replaced key's grace period now (a leaked old key). */
  async retireOldKeys(appId: string, actor: Actor = SYSTEM): Promise<void> {
    await this.#changeApp(appId, async (changes) => {
      const retired = await changes.retireOldKeys();
      if (retired.length > 0) await changes.audit(actor, [{ action: 'app.old_keys_retired', appId, detail: retired.map((id) => `key=${id}`).join(',') }]);
    });
  }

  async setPrivate(appId: string, isPrivate: boolean, actor: Actor = SYSTEM): Promise<void> {
    await this.#changeApp(appId, async (changes) => {
      if (await changes.setPrivate(isPrivate)) await changes.audit(actor, [{ action: 'app.private_changed', appId, detail: isPrivate ? 'on' : 'off' }]);
    });
  }

  /**
   * Records that the API refused a call for one of the app's protections (the code
   * only: no address, nothing about the caller).
   */
  async recordRefusal(appId: string, code: string, requestId: string | null): Promise<void> {
    await this.#store.audit({ kind: 'system', id: null, requestId }, [{ action: 'api.refused', appId, detail: code }]);
  }

  /** The app's own audit records in the control plane, newest first: what its owners see in the dashboard. */
  auditTrail(appId: string, limit = 100): Promise<AppAuditEntry[]> {
    return this.#store.auditTrail(appId, limit);
  }
}
