import type { AuthorizationProtocol } from './connect/request-store.js';
import type { SignInMethodName } from './authn/methods.js';
import type { ErrorCode } from './errors.js';
import type { ZoneName } from './zones/zones.js';

/**
 * What Keygate counts about itself, as named events that the domain and the front-ends
 * report at their choke points; the composition root decides where they go (Prometheus
 * when a metrics port is configured, nowhere otherwise). Like the `Clock`, a port: no
 * metrics library is known here.
 *
 * Every argument is one of a closed set of values (a method, an outcome, a limit, a zone,
 * an error code, a route template): an operator reads rates from these, never people.
 * No event takes an email, a name, an address, a token, or the id of a person or an app,
 * so none can reach a label.
 */
export interface Metrics {
  /** One HTTP answer: `route` is the route's template (`/gateway/:connectId`), never the URL asked for. */
  httpRequest(request: HttpRequestObservation): void;
  /** One attempt to prove who one is during a sign-in, and how it ended. */
  signIn(method: SignInMethodName, outcome: SignInOutcome): void;
  /** A one-time code handed to an app through `protocol`'s return redirect. */
  codeIssued(protocol: Protocol): void;
  /** A one-time code an app presented and did not get tokens for. */
  codeRefused(protocol: Protocol, reason: ErrorCode): void;
  /** A token pair issued through `protocol`, for a code or a refresh token. */
  tokensIssued(protocol: Protocol, grant: TokenGrant): void;
  /** A refresh or access token an app presented and that was refused. */
  tokenRefused(protocol: Protocol, reason: ErrorCode): void;
  /** Every token descending from one code was revoked, because the code or a refresh token was presented twice. */
  tokensRevoked(protocol: Protocol, reason: RevocationReason): void;
  /** A rate limit refused what it counts. */
  rateLimited(limit: RateLimitName): void;
  /** One outgoing mail handed to its transport, or not. */
  mail(transport: MailTransport, outcome: 'sent' | 'failed'): void;
  /** A person's move between legal zones ended: moved at once, finished later from the journal, or abandoned. */
  zoneMove(from: ZoneName, to: ZoneName, outcome: ZoneMoveOutcome): void;
}

export interface HttpRequestObservation {
  /** The route template; `null` when no route matched (a 404). */
  readonly route: string | null;
  readonly method: string;
  readonly status: number;
  readonly seconds: number;
}

export type SignInOutcome = 'proved' | 'failed' | 'throttled';
/** The protocol front-end an app speaks. */
export type Protocol = AuthorizationProtocol;
export type TokenGrant = 'authorization_code' | 'refresh_token';
export type RevocationReason = 'code_replayed' | 'refresh_token_reused';
export type MailTransport = 'smtp' | 'outbox';
export type ZoneMoveOutcome = 'moved' | 'finished_later' | 'abandoned';

/**
 * The limits Keygate enforces, by name: sign-in attempts and mail requests per client
 * address (one budget), guesses per account (and the pause after too many), mail an
 * account may receive, nicknames an account may try, and API calls per app.
 */
export type RateLimitName = 'client_address' | 'account_attempts' | 'account_mail' | 'nickname_tries' | 'app_calls';

const ignore = () => {};

/** Counts nothing: the default of every service, and of tests that do not look. */
export const NO_METRICS: Metrics = Object.freeze({
  httpRequest: ignore,
  signIn: ignore,
  codeIssued: ignore,
  codeRefused: ignore,
  tokensIssued: ignore,
  tokenRefused: ignore,
  tokensRevoked: ignore,
  rateLimited: ignore,
  mail: ignore,
  zoneMove: ignore,
});
