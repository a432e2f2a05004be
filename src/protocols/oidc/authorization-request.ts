import type { App } from '../../domain/apps/app.js';
import { isUuid } from '../../domain/apps/app.js';
import { FIELD_CODES, mayAskFor, type FieldCode, type Scope } from '../../domain/consent/fields.js';
import { isRegisteredRedirectUri } from '../../domain/protection/redirect-uri.js';
import { fieldOfClaim, SCOPE_FIELDS } from './claims.js';
import { OAuthError } from './errors.js';
import type { IdTokenHint } from './id-token-hint.js';

/**
 * The authorization request (OpenID Connect Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636)
 * checked in order by named steps. Until the client and its redirect URI are known to
 * be good, a problem is shown on a page and nobody is redirected (§3.1.2.6: an
 * unvalidated redirect URI would make Keygate an open redirector); after that, problems
 * go back to the redirect URI with the request's `state`.
 */

/** Raw request parameters, from the query (GET) or the form (POST). */
export type AuthorizationParams = Readonly<Record<string, unknown>>;

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';
const PROMPTS: readonly Prompt[] = ['none', 'login', 'consent', 'select_account'];

/** A request every check accepted: what the core's request is opened with. */
export interface AuthorizationRequest {
  readonly app: App;
  readonly redirectUri: string;
  readonly scope: Scope;
  /** `offline_access` was asked for: the answer carries a refresh token. */
  readonly offlineAccess: boolean;
  readonly state: string | null;
  readonly nonce: string | null;
  readonly codeChallenge: string | null;
  readonly prompt: ReadonlySet<Prompt>;
  readonly maxAge: number | null;
  /** Fields whose claims the `claims` parameter asks for in the ID token itself. */
  readonly idTokenFields: readonly FieldCode[];
  readonly loginHint: string | null;
  readonly uiLocales: readonly string[];
  /** What a valid `id_token_hint` says: the client expects this person. */
  readonly hint: IdTokenHint | null;
  /** The people (ids for this client) the request may be answered for, as `claims` names them by `sub` value; null: anyone. */
  readonly expectedUserIds: readonly string[] | null;
}

/** Why a request gets a page and no redirect. */
export type PageProblem = 'unknown_client' | 'missing_redirect_uri' | 'unregistered_redirect_uri' | 'repeated_parameter';

export type AuthorizationCheck =
  | { readonly kind: 'page'; readonly problem: PageProblem }
  | { readonly kind: 'redirect'; readonly redirectUri: string; readonly state: string | null; readonly error: OAuthError }
  | { readonly kind: 'accepted'; readonly request: AuthorizationRequest };

const MAX_STATE = 2048;
const MAX_NONCE = 512;
const MAX_HINT = 320;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** A parameter sent more than once (RFC 6749 §3.1: "MUST NOT be included more than once"). */
class Repeated extends Error {}

/** Text no store keeps as it is: NUL, or UTF-16 halves without their pair. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A parameter holding text no store keeps: refused, and never sent back. */
class Unstorable extends Error {}

function single(params: AuthorizationParams, name: string): string | null {
  const value = params[name];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new Repeated(name);
  if (UNSTORABLE.test(value)) throw new Unstorable(name);
  return value;
}

const invalid = (description: string) => new OAuthError('invalid_request', description);

/** Step 1: `client_id` names a known app. */
async function checkClient(params: AuthorizationParams, findApp: (id: string) => Promise<App | null>): Promise<App | null> {
  const clientId = single(params, 'client_id');
  if (!clientId || !isUuid(clientId)) return null;
  return findApp(clientId.toLowerCase());
}

/** Step 2: `redirect_uri` is one the client registered, exactly. */
function checkRedirectUri(params: AuthorizationParams, app: App): { redirectUri: string } | { problem: PageProblem } {
  const redirectUri = single(params, 'redirect_uri');
  if (!redirectUri) return { problem: 'missing_redirect_uri' };
  return isRegisteredRedirectUri(redirectUri, app.redirectUris) ? { redirectUri } : { problem: 'unregistered_redirect_uri' };
}

/** Request objects are not supported (discovery says `request_parameter_supported: false`). */
function checkRequestObjects(params: AuthorizationParams): void {
  if (single(params, 'request') !== null) throw new OAuthError('request_not_supported', 'Request objects (request) are not supported.');
  if (single(params, 'request_uri') !== null) throw new OAuthError('request_uri_not_supported', 'Request objects by reference (request_uri) are not supported.');
}

function checkResponseType(params: AuthorizationParams): void {
  const responseType = single(params, 'response_type');
  if (responseType === null) throw invalid('response_type is required.');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'Only response_type=code is supported.');
  const responseMode = single(params, 'response_mode');
  if (responseMode !== null && responseMode !== 'query') throw invalid('Only response_mode=query is supported.');
}

interface RequestedClaims {
  readonly fields: readonly FieldCode[];
  readonly essential: readonly FieldCode[];
  readonly idToken: readonly FieldCode[];
  /** The `sub` the client asked for by `value`/`values` (§5.5.1): only that person may be answered. */
  readonly subjects: readonly string[] | null;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The `claims` parameter (§5.5): which personal claims it asks for, and which as essential. */
function parseClaims(raw: string | null): RequestedClaims {
  const none: RequestedClaims = { fields: [], essential: [], idToken: [], subjects: null };
  if (raw === null) return none;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid('claims is not JSON.');
  }
  if (!isObject(parsed)) throw invalid('claims must be a JSON object.');
  const fields = new Set<FieldCode>();
  const essential = new Set<FieldCode>();
  const idToken = new Set<FieldCode>();
  let subjects: string[] | null = null;
  for (const member of ['userinfo', 'id_token'] as const) {
    const requests = parsed[member];
    if (requests === undefined) continue;
    if (!isObject(requests)) throw invalid(`claims.${member} must be a JSON object.`);
    for (const [claim, request] of Object.entries(requests)) {
      if (request !== null && !isObject(request)) throw invalid(`claims.${member}.${claim} must be null or an object.`);
      if (claim === 'sub' && request !== null) {
        const asked = request.value !== undefined ? [request.value] : request.values;
        if (asked === undefined) continue;
        if (!Array.isArray(asked) || asked.length === 0 || asked.length > 10 || !asked.every((v) => typeof v === 'string' && v.length <= 64)) {
          throw invalid(`claims.${member}.sub value(s) must be strings.`);
        }
        // Asked in both members: only a person both name will do.
        subjects = subjects === null ? [...asked as string[]] : subjects.filter((s) => (asked as string[]).includes(s));
        continue;
      }
      const field = fieldOfClaim(claim);
      if (!field) continue;
      fields.add(field);
      if (member === 'id_token') idToken.add(field);
      if (request?.essential === true) essential.add(field);
    }
  }
  const ordered = (set: Set<FieldCode>) => FIELD_CODES.filter((f) => set.has(f));
  return { fields: ordered(fields), essential: ordered(essential), idToken: ordered(idToken), subjects };
}

/**
 * `scope` must hold `openid`; other values it does not know are ignored (§3.1.2.1).
 * Fields come from the scope values and from `claims`; an app gets only the fields it may
 * ask for, and an essential claim is mandatory only where the app may make that field
 * mandatory (otherwise it is asked for like any other).
 */
function checkScope(params: AuthorizationParams, app: App): { scope: Scope; offlineAccess: boolean; idTokenFields: FieldCode[]; subjects: readonly string[] | null } {
  const values = new Set((single(params, 'scope') ?? '').split(' ').filter(Boolean));
  if (!values.has('openid')) throw new OAuthError('invalid_scope', 'scope must include openid.');
  const claims = parseClaims(single(params, 'claims'));
  const asked = new Set<FieldCode>([...[...values].flatMap((value) => SCOPE_FIELDS[value] ?? []), ...claims.fields]);
  const fields = FIELD_CODES.filter((f) => asked.has(f) && mayAskFor(app.permissions, f, false));
  const mandatory = fields.filter((f) => claims.essential.includes(f) && mayAskFor(app.permissions, f, true));
  return {
    scope: { fields, mandatory },
    offlineAccess: values.has('offline_access'),
    idTokenFields: claims.idToken.filter((f) => fields.includes(f)),
    subjects: claims.subjects,
  };
}

/** PKCE: S256 only; a public client must use it (it has no secret to prove the exchange is its own). */
function checkPkce(params: AuthorizationParams, app: App): string | null {
  const challenge = single(params, 'code_challenge');
  const method = single(params, 'code_challenge_method');
  if (challenge === null) {
    if (method !== null) throw invalid('code_challenge_method was given without code_challenge.');
    if (app.publicClient) throw invalid('A public client must use PKCE (code_challenge with code_challenge_method=S256).');
    return null;
  }
  if (method !== 'S256') throw invalid('Only code_challenge_method=S256 is supported.');
  if (!S256_CHALLENGE.test(challenge)) throw invalid('code_challenge is not an S256 challenge (43 base64url characters).');
  return challenge;
}

function checkPrompt(params: AuthorizationParams): Set<Prompt> {
  const values = (single(params, 'prompt') ?? '').split(' ').filter(Boolean);
  const prompt = new Set<Prompt>();
  for (const value of values) {
    const known = PROMPTS.find((p) => p === value);
    if (!known) throw invalid(`prompt=${value.slice(0, 40)} is not supported.`);
    prompt.add(known);
  }
  if (prompt.has('none') && prompt.size > 1) throw invalid('prompt=none cannot be combined with other values.');
  return prompt;
}

function checkMaxAge(params: AuthorizationParams): number | null {
  const maxAge = single(params, 'max_age');
  if (maxAge === null) return null;
  if (!/^\d{1,9}$/.test(maxAge)) throw invalid('max_age must be a number of seconds.');
  return Number(maxAge);
}

function bounded(params: AuthorizationParams, name: string, max: number): string | null {
  const value = single(params, name);
  if (value !== null && value.length > max) throw invalid(`${name} is longer than ${max} characters.`);
  return value;
}

/** What the checks look up: the client, and whether an ID token hint is one Keygate issued. */
export interface AuthorizationLookups {
  findApp(id: string): Promise<App | null>;
  readIdTokenHint(token: string): Promise<IdTokenHint | null>;
}

/** `id_token_hint`, when sent, must be an ID token Keygate issued to this very client (expired or not). */
async function checkIdTokenHint(params: AuthorizationParams, app: App, lookups: AuthorizationLookups): Promise<IdTokenHint | null> {
  const token = single(params, 'id_token_hint');
  if (token === null) return null;
  const hint = await lookups.readIdTokenHint(token);
  if (!hint || hint.clientId !== app.id) throw invalid('id_token_hint is not an ID token this provider issued to this client.');
  return hint;
}

/** Runs the checks in order; the first that fails decides the answer. */
export async function checkAuthorizationRequest(params: AuthorizationParams, lookups: AuthorizationLookups): Promise<AuthorizationCheck> {
  const findApp = (id: string) => lookups.findApp(id);
  let app: App | null;
  let target: ReturnType<typeof checkRedirectUri>;
  try {
    app = await checkClient(params, findApp);
    if (!app) return { kind: 'page', problem: 'unknown_client' };
    target = checkRedirectUri(params, app);
  } catch (error) {
    if (error instanceof Repeated || error instanceof Unstorable) return { kind: 'page', problem: 'repeated_parameter' };
    throw error;
  }
  if ('problem' in target) return { kind: 'page', problem: target.problem };
  const { redirectUri } = target;
  // A repeated or oversized state is not sent back: it is not the client's to trust.
  let state: string | null = null;
  try {
    state = bounded(params, 'state', MAX_STATE);
  } catch {
    state = null;
  }
  try {
    checkRequestObjects(params);
    checkResponseType(params);
    const { scope, offlineAccess, idTokenFields, subjects } = checkScope(params, app);
    const codeChallenge = checkPkce(params, app);
    const prompt = checkPrompt(params);
    const maxAge = checkMaxAge(params);
    const hint = await checkIdTokenHint(params, app, lookups);
    if (single(params, 'state') !== null) bounded(params, 'state', MAX_STATE);
    const nonce = bounded(params, 'nonce', MAX_NONCE);
    const loginHint = bounded(params, 'login_hint', MAX_HINT);
    const uiLocales = (bounded(params, 'ui_locales', MAX_HINT) ?? '').split(' ').filter(Boolean);
    return {
      kind: 'accepted',
      request: {
        app, redirectUri, scope, offlineAccess, state, nonce, codeChallenge, prompt, maxAge, idTokenFields, loginHint, uiLocales, hint,
        expectedUserIds: subjects,
      },
    };
  } catch (error) {
    if (error instanceof Repeated) return { kind: 'redirect', redirectUri, state, error: invalid(`${error.message} was sent more than once.`) };
    if (error instanceof Unstorable) return { kind: 'redirect', redirectUri, state, error: invalid(`${error.message} holds a NUL character or broken Unicode.`) };
    if (error instanceof OAuthError) return { kind: 'redirect', redirectUri, state, error };
    throw error;
  }
}
