import { randomUUID } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { SignJWT } from 'jose';
import type { App } from '../../domain/apps/app.js';
import type { Clock } from '../../domain/clock.js';
import type { SigningKeys } from '../../domain/signing/signing-keys.js';
import type { TokenService } from '../../domain/tokens/token-service.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';

/** The event a logout token carries (OpenID Connect Back-Channel Logout 1.0 §2.4). */
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token is for immediate use; two minutes covers clock skew. */
const LOGOUT_TOKEN_SECONDS = 120;
const DELIVERY_TIMEOUT_MS = 5_000;

/** Posts a form to a URL and says the answer's status (or throws when nothing answered). */
export type FormPoster = (url: string, form: Record<string, string>) => Promise<number>;

/** Whether an address is on the public internet (not loopback, private, link-local, reserved, …). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

class PrivateTarget extends Error {
  override name = 'PrivateTarget';
}

/**
 * Resolves like the system does, but refuses a name that leads inside Keygate's own
 * networks. The connection is made to the address checked here, so a name that resolves
 * differently a moment later (DNS rebinding) gains nothing.
 */
const publicOnlyLookup = ((hostname: string, options: { all?: boolean }, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
  dnsLookup(hostname, { all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused || addresses.length === 0) return callback(new PrivateTarget(`${hostname} resolves to a non-public address`), []);
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}) as unknown as typeof dnsLookup;

/** Posts the form with Node's client: no redirects followed, a time limit, and (unless allowed) public addresses only. */
export function formPoster(options: { allowPrivateNetworks: boolean }): FormPoster {
  return (url, form) => new Promise<number>((resolve, reject) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivateNetworks && isIP(host) !== 0 && !isPublicAddress(host)) return reject(new PrivateTarget(`${host} is not a public address`));
    const body = new URLSearchParams(form).toString();
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      timeout: DELIVERY_TIMEOUT_MS,
      ...(options.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
    }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

export interface BackchannelLogoutOptions {
  readonly issuer: string;
  readonly signingKeys: SigningKeys;
  readonly tokens: TokenService;
  readonly findApp: (id: string) => Promise<App | null>;
  readonly clock: Clock;
  /** Waits between attempts; one attempt more than there are waits. */
  readonly retryDelaysMs?: readonly number[];
  /**
   * May notices go to loopback and private addresses? Only in development: in production
   * an app owner's URI must not make Keygate reach into its own network.
   */
  readonly allowPrivateNetworks: boolean;
  readonly post?: FormPoster;
  readonly onFailure?: (appId: string, reason: string) => void;
}

/**
 * Tells each client the person signed in to with a browser session, server to server,
 * that the session ended (Back-Channel Logout 1.0): a signed logout token naming the
 * session (`sid`) and the person (`sub`, the client's own id for them) is posted to the
 * client's registered URI, and posted again a few times while the client does not answer
 * 200. The sign-out itself never waits for it.
 */
export class BackchannelLogout {
  readonly #pending = new Set<Promise<void>>();
  readonly #post: FormPoster;
  readonly #delays: readonly number[];

  constructor(private readonly options: BackchannelLogoutOptions) {
    this.#post = options.post ?? formPoster({ allowPrivateNetworks: options.allowPrivateNetworks });
    this.#delays = options.retryDelaysMs ?? [1_000, 5_000, 30_000];
  }

  /** Starts telling the session's clients; returns at once. */
  sessionEnded(person: PersonRef, sid: string): void {
    const work = this.#notifyAll(person, sid).catch((error: unknown) => this.options.onFailure?.('*', (error as Error).message));
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  /** Resolves when every notice started so far has been delivered or given up. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #notifyAll(person: PersonRef, sid: string): Promise<void> {
    const clients = await this.options.tokens.clientsOfSession(person, sid);
    await Promise.all(clients.map(async ({ appId, userId }) => {
      const app = await this.options.findApp(appId);
      if (!app?.backchannelLogoutUri) return;
      await this.#deliver(app, app.backchannelLogoutUri, userId, sid);
    }));
  }

  async #deliver(app: App, uri: string, subject: string, sid: string): Promise<void> {
    let reason = 'not delivered';
    for (let attempt = 0; attempt <= this.#delays.length; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.#delays[attempt - 1]).unref());
      try {
        // A fresh token (its own jti) for every attempt: a client may refuse a jti it has seen.
        const status = await this.#post(uri, { logout_token: await this.#logoutToken(app, subject, sid) });
        if (status === 200 || status === 204) return;
        reason = `answered ${status}`;
        if (status === 400) break;
      } catch (error) {
        reason = (error as Error).name;
        if (error instanceof PrivateTarget) break;
      }
    }
    this.options.onFailure?.(app.id, reason);
  }

  async #logoutToken(app: App, subject: string, sid: string): Promise<string> {
    const signer = await this.options.signingKeys.signer();
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    return new SignJWT({ sid, events: { [LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: signer.alg, typ: 'logout+jwt', kid: signer.kid })
      .setIssuer(this.options.issuer)
      .setAudience(app.id)
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(now + LOGOUT_TOKEN_SECONDS)
      .setJti(randomUUID())
      .sign(signer.privateKey);
  }
}
