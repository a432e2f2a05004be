import { randomUUID } from 'node:crypto';
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

const postForm: FormPoster = async (url, form) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    redirect: 'manual',
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  });
  await response.body?.cancel();
  return response.status;
};

export interface BackchannelLogoutOptions {
  readonly issuer: string;
  readonly signingKeys: SigningKeys;
  readonly tokens: TokenService;
  readonly findApp: (id: string) => Promise<App | null>;
  readonly clock: Clock;
  /** Waits between attempts; one attempt more than there are waits. */
  readonly retryDelaysMs?: readonly number[];
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
    this.#post = options.post ?? postForm;
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
