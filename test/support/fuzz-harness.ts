import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { UKEY1_ERRORS } from '../../src/protocols/ukey1/errors.js';
import type { PersonRef } from '../../src/domain/zones/zone-registry.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from './gateway-visitor.js';
import { signRequest, Ukey1ServerClient } from './ukey1-client.js';
import { startTestKeygate, type TestKeygate } from './test-keygate.js';
import {
  DASH_ORIGIN, DASH_RETURN_URL, ORIGIN, PLACEHOLDERS, RETURN_URL,
  OIDC_REDIRECT_URI, OIDC_SIGNED_OUT, type FuzzRequest, type Placeholder, type Signer,
} from './fuzz-arbitraries.js';

/**
 * Sends generated requests into one in-process Keygate (`server.inject`, no sockets) and
 * checks every answer: never a 5xx; the Ukey1 envelope on the API; a readable HTML page
 * without a stack trace elsewhere; and, for every refused request (status >= 400), the
 * same row counts in the control plane and in every zone before and after it (and no
 * control-plane row of an app, owner, list entry or connect request updated).
 */

const SESSION_COOKIE = 'keygate-session';
const CSRF_COOKIE = 'keygate-csrf';

export type JarName = 'developer' | 'visitor' | 'anonymous';

/** A browser's cookies and the CSRF token its pages carry. */
class Jar {
  readonly cookies = new Map<string, string>();
  csrf = '';
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  static of(visitor: GatewayVisitor): Jar {
    const jar = new Jar();
    for (const [k, v] of visitor.cookies) jar.cookies.set(k, v);
    jar.csrf = visitor.csrf ?? '';
    return jar;
  }
}

interface SignerKeys { readonly id: string; readonly secretKey: string }

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly body: string;
  readonly method: string;
  readonly url: string;
}

type State = Record<string, string>;

/**
 * The tables whose row counts a refused request must leave alone, per store; in the
 * control plane (the apps' settings, owners and lists, the connect requests) an UPDATE
 * of a row counts as a write too.
 */
const WATCHED = {
  control: { counted: ['apps', 'connect_requests', 'extranet_members', 'app_owners', 'app_retiring_keys'], updated: ['apps', 'connect_requests', 'extranet_members', 'app_owners'] },
  zone: { counted: ['people', 'sessions', 'consent_records', 'auth_codes', 'access_tokens', 'refresh_tokens', 'grants'], updated: [] as string[] },
} as const;

type Db = Kysely<any>;

/**
 * Counting rows after every request costs milliseconds on PGlite, so the test keeps the
 * counts itself: a table `fuzz_counts` in each store, kept by row triggers (INSERT +1,
 * DELETE -1, UPDATE into "<table> updates") in the writer's own transaction, so a
 * rolled-back write leaves it as it was. `checkCounters` compares it with count(*).
 */
async function watchWrites(db: Db, tables: { counted: readonly string[]; updated: readonly string[] }): Promise<void> {
  await sql`create table fuzz_counts (name text primary key, n bigint not null)`.execute(db);
  await sql`create function fuzz_count() returns trigger language plpgsql as $$
    begin
      if TG_OP = 'INSERT' then update fuzz_counts set n = n + 1 where name = TG_TABLE_NAME;
      elsif TG_OP = 'DELETE' then update fuzz_counts set n = n - 1 where name = TG_TABLE_NAME;
      else update fuzz_counts set n = n + 1 where name = TG_TABLE_NAME || ' updates';
      end if;
      return null;
    end $$`.execute(db);
  for (const table of tables.counted) {
    const events = tables.updated.includes(table) ? sql.raw('insert or delete or update') : sql.raw('insert or delete');
    await sql`insert into fuzz_counts select ${table}, count(*) from ${sql.table(table)}`.execute(db);
    if (tables.updated.includes(table)) await sql`insert into fuzz_counts values (${`${table} updates`}, 0)`.execute(db);
    await sql`create trigger fuzz_count after ${events} on ${sql.table(table)} for each row execute function fuzz_count()`.execute(db);
  }
}

async function readCounters(db: Db): Promise<Array<{ name: string; n: string }>> {
  return (await sql<{ name: string; n: string }>`select name, n::text as n from fuzz_counts`.execute(db)).rows;
}

/** Stack frames and error class names, as they would appear if an error leaked into an answer. */
const STACK_LINE = /^\s*at (?:async )?\S+ \(?(?:file:|node:|\/)|\bat \S+ \([^)]*:\d+:\d+\)|^\s*at [^\n]*:\d+:\d+\)?$/m;
const ERROR_CLASS = /\b(?:[A-Z][a-z]+)*(?:Error|Exception)(?:: |\s*\[ERR_)|\bFST_ERR_|\bERR_[A-Z_]{4,}/;

const excerpt = (text: string) => {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 600 ? `${line.slice(0, 600)}... (${text.length} chars)` : line;
};

export class FuzzHarness {
  requests = 0;
  /** Milliseconds spent answering requests, taking snapshots and restoring fixtures. */
  readonly spent = { answering: 0, snapshots: 0, restoring: 0 };
  readonly statuses = new Map<number, number>();
  /** How often each API error code was answered: what the fuzzer reached. */
  readonly codes = new Map<string, number>();
  /** The state after the last request, when nothing else has written since. */
  #state: State | undefined;
  readonly #values = new Map<Placeholder, string>();
  readonly #jars: Record<JarName, Jar>;

  private constructor(
    readonly keygate: TestKeygate,
    readonly signers: Record<Signer, SignerKeys>,
    jars: Record<JarName, Jar>,
    private readonly people: { jana: PersonRef; developer: PersonRef },
    values: Partial<Record<Placeholder, string>>,
  ) {
    this.#jars = jars;
    for (const [k, v] of Object.entries(values)) this.#values.set(k as Placeholder, v);
  }

  /** A Keygate with apps of every kind, a person with tokens, a developer with an app, and their browsers. */
  static async start(): Promise<FuzzHarness> {
    const keygate = await startTestKeygate();
    try {
      return await FuzzHarness.#build(keygate);
    } catch (error) {
      await keygate.close();
      throw error;
    }
  }

  static async #build(keygate: TestKeygate): Promise<FuzzHarness> {
    await watchWrites(keygate.stores.control.db as Db, WATCHED.control);
    for (const zone of Object.values(keygate.stores.zones)) await watchWrites(zone.db as Db, WATCHED.zone);
    const { apps, extranet, people } = keygate.services;
    const newApp = async (name: string) => {
      const created = await apps.createApp({ name, origins: [ORIGIN], returnUrls: [RETURN_URL], redirectUris: [OIDC_REDIRECT_URI] });
      return { id: created.appId, secretKey: created.secretKey, clientSecret: created.clientSecret! };
    };
    const app = await newApp('Fuzz App');
    await apps.updateLogout(app.id, { postLogoutRedirectUris: [OIDC_SIGNED_OUT], backchannelLogoutUri: null });
    const clientBasic = `Basic ${Buffer.from(`${app.id}:${app.clientSecret}`).toString('base64')}`;
    const privateApp = await newApp('Fuzz Private App');
    await apps.setPrivate(privateApp.id, true);
    // Its list is managed only from a listed address; the fuzzer's calls come from loopback,
    // so that signed list calls reach the list and its store.
    await apps.updateProtections(privateApp.id, {
      protections: { domain: true, returnUrl: true, serverOnly: false, ip: true }, origins: [ORIGIN], returnUrls: [RETURN_URL], ipEntries: ['127.0.0.1'],
    });
    const serverOnlyApp = await newApp('Fuzz Server-only App');
    await apps.updateProtections(serverOnlyApp.id, {
      protections: { domain: true, returnUrl: true, serverOnly: true, ip: false }, origins: [ORIGIN], returnUrls: [RETURN_URL], ipEntries: [],
    });
    const ipApp = await newApp('Fuzz IP App');
    await apps.updateProtections(ipApp.id, {
      protections: { domain: true, returnUrl: true, serverOnly: false, ip: true }, origins: [ORIGIN], returnUrls: [RETURN_URL], ipEntries: ['10.0.0.0/8'],
    });
    const reference = (await extranet.invite((await keygate.services.appDirectory.findApp(privateApp.id))!, 'invitee.fuzz@example.cz', 'en_GB')).referenceId;

    // People are created (with a confirmed email) and signed in through the services: the
    // fuzzer is about what the forms do with bad input, not about the sign-up steps.
    const { sessions } = keygate.services;
    const accountEmail = 'jana.fuzz@example.cz';
    const newPerson = async (email: string) => {
      const created = await people.signUp({ ...SIGN_UP_JANA, email }, { requestId: 'fuzz-setup' }, { emailVerified: true });
      assert.ok(created.ok, `${email} signed up`);
      return created.person;
    };
    const jana = await newPerson(accountEmail);
    const dev = await newPerson('dev.fuzz@example.cz');
    const other = await newPerson('other.fuzz@example.cz');

    // Jana signs in to the app twice: the first code and refresh token are handed to the
    // fuzzer (replays of them are refused), and the second access token too.
    const client = new Ukey1ServerClient(keygate.http, app.id, app.secretKey, ORIGIN);
    const visitor = new GatewayVisitor(keygate.http);
    visitor.cookies.set(SESSION_COOKIE, await sessions.startSession(jana));
    const signInFlow = async (requestId: string) => {
      const connectId = connectIdOf((await client.connect({ request_id: requestId, scope: ['email', 'firstname'], return_url: RETURN_URL })).body.gateway);
      const page = await visitor.get(`/gateway/${connectId}`);
      assert.equal(page.status, 200, page.html);
      const decided = await visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['email', 'firstname'] });
      assert.equal(decided.status, 303, decided.html);
      const code = new URL(decided.location!).searchParams.get('_ukey1[code]')!;
      const tokens = await client.token({ request_id: requestId, connect_id: connectId, auth_code: code });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      return { code, accessToken: tokens.body.access_token as string, refreshToken: tokens.body.refresh_token as string };
    };
    // And once through OpenID Connect, for an ID token to hint with.
    const oidcSignIn = async () => {
      const query = new URLSearchParams({ client_id: app.id, redirect_uri: OIDC_REDIRECT_URI, response_type: 'code', scope: 'openid email' });
      const started = await visitor.get(`/oidc/authorize?${query}`);
      const gateway = new URL(started.headers.location as string, 'http://localhost').pathname;
      await visitor.get(gateway);
      const decided = await visitor.post(`${gateway}/consent`, { decision: 'allow', fields: ['email'] });
      const code = new URL(decided.location!).searchParams.get('code')!;
      const tokens = await keygate.http.inject({
        method: 'POST', url: '/oidc/token', headers: { authorization: clientBasic, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OIDC_REDIRECT_URI }).toString(),
      });
      assert.equal(tokens.statusCode, 200, tokens.body);
      return JSON.parse(tokens.body).id_token as string;
    };
    const idToken = await oidcSignIn();
    const first = await signInFlow('fuzz-first');
    const second = await signInFlow('fuzz-second');
    const closed = connectIdOf((await client.connect({ request_id: 'fuzz-closed', scope: [], return_url: RETURN_URL })).body.gateway);
    assert.equal((await visitor.post(`/gateway/${closed}/cancel`, {})).status, 303);
    const open = connectIdOf((await client.connect({ request_id: 'fuzz-open', scope: ['email'], return_url: RETURN_URL })).body.gateway);
    await visitor.get(`/gateway/${open}`);

    // A developer with an app of their own; another account could co-own it.
    const dashApp = (await apps.createApp({ name: 'Fuzz Dash', origins: [DASH_ORIGIN], returnUrls: [DASH_RETURN_URL], owner: dev, requireOrigins: true })).appId;
    const developer = new GatewayVisitor(keygate.http);
    developer.cookies.set(SESSION_COOKIE, await sessions.startSession(dev));
    const dashboard = await developer.get('/dashboard');
    assert.equal(dashboard.status, 200, dashboard.html);

    const anonymous = new GatewayVisitor(keygate.http);
    await anonymous.get(`/gateway/${open}`);
    const stranger = new GatewayVisitor(keygate.http);
    await stranger.get('/dashboard/sign-in');

    const harness = new FuzzHarness(
      keygate,
      { app, privateApp, serverOnlyApp, ipApp },
      { developer: Jar.of(developer), visitor: Jar.of(visitor), anonymous: Jar.of(anonymous) },
      { jana, developer: dev },
      {
        app: app.id, appUpper: app.id.toUpperCase(), privateApp: privateApp.id, serverOnlyApp: serverOnlyApp.id, ipApp: ipApp.id,
        dashApp, dashAppUpper: dashApp.toUpperCase(), connect: open, connectUpper: open.toUpperCase(), closedConnect: closed,
        usedCode: first.code, usedRefresh: first.refreshToken, accessToken: second.accessToken, reference,
        otherCsrf: stranger.csrf!, person: dev.id, otherPerson: other.id, otherEmail: 'other.fuzz@example.cz',
        appName: 'Fuzz Dash', accountEmail, clientSecret: app.clientSecret, clientBasic, idToken,
      },
    );
    for (const name of ['developer', 'visitor', 'anonymous'] as const) {
      assert.match(harness.#jars[name].csrf, /^[A-Za-z0-9_-]{43}$/, `${name} has a CSRF token`);
      assert.ok(harness.#jars[name].cookies.has(CSRF_COOKIE), `${name} has a CSRF cookie`);
    }
    assert.ok(harness.#jars.developer.cookies.has(SESSION_COOKIE));
    assert.ok(harness.#jars.visitor.cookies.has(SESSION_COOKIE));
    assert.ok(!harness.#jars.anonymous.cookies.has(SESSION_COOKIE));
    for (const name of PLACEHOLDERS) if (name !== 'csrf') assert.ok(harness.#values.get(name), `placeholder ${name} has a value`);
    return harness;
  }

  close(): Promise<void> {
    return this.keygate.close();
  }

  value(name: Placeholder): string {
    return this.#values.get(name)!;
  }

  /** The row counts (and control-plane updates) of every store, as the triggers keep them. */
  async snapshot(): Promise<State> {
    const state: State = {};
    for (const [store, db] of this.#stores()) {
      for (const { name, n } of await readCounters(db)) state[`${store}.${name}`] = n;
    }
    return state;
  }

  /** The triggers' counts are the tables' real row counts. */
  async checkCounters(): Promise<void> {
    for (const [store, db] of this.#stores()) {
      for (const { name, n } of await readCounters(db)) {
        if (name.endsWith(' updates')) continue;
        const real = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(name)}`.execute(db);
        assert.equal(n, real.rows[0]!.n, `${store}.${name}: the counter agrees with count(*)`);
      }
    }
  }

  #stores(): Array<[string, Db]> {
    const { control, zones } = this.keygate.stores;
    return [['control', control.db as Db], ...Object.entries(zones).map(([name, zone]): [string, Db] => [name, zone.db as Db])];
  }

  /** Something other than a fuzzed request wrote: the next request starts from a fresh snapshot. */
  markDirty(): void {
    this.#state = undefined;
  }

  #fill(text: string, browser: FuzzRequest['browser']): string {
    return text.replace(/\{\{([a-zA-Z]+)\}\}/g, (whole, name: string) => {
      if (name === 'csrf') return this.#jars[browser && browser !== 'none' ? browser : 'anonymous'].csrf;
      return this.#values.get(name as Placeholder) ?? whole;
    });
  }

  /** The request as it goes on the wire: placeholders filled in, cookies and signature added. */
  resolve(request: FuzzRequest): { method: string; url: string; headers: Record<string, string>; payload?: Buffer } {
    const browser = request.browser;
    // Where the request lands: `inject` parses the URL as WHATWG URL does (dot segments
    // resolved, some characters escaped), so the server sees its pathname and search.
    const filled = this.#fill(request.url, browser);
    const parsed = new URL(filled.startsWith('//') ? `http://localhost${filled}` : filled, 'http://localhost');
    const url = `${parsed.pathname}${parsed.search}`;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = this.#fill(value, browser);
    const payload = request.body === undefined ? undefined
      : typeof request.body === 'string' ? Buffer.from(this.#fill(request.body, browser), 'utf8') : Buffer.from(request.body);
    if (browser && browser !== 'none') {
      const jar = this.#jars[browser].header();
      headers.cookie = headers.cookie === undefined ? jar : `${jar}; ${headers.cookie}`;
    }
    if (request.sign) {
      const signer = this.signers[request.sign.app];
      const key = request.sign.as === 'otherApp' ? this.signers[request.sign.app === 'app' ? 'privateApp' : 'app'].secretKey : signer.secretKey;
      const path = url.split('?')[0]!;
      const signedPath = request.sign.as === 'otherPath' ? (path === '/auth/v2/token' ? '/auth/v2/connect' : '/auth/v2/token') : path;
      const bearer = headers.authorization === undefined ? undefined : /^Bearer ([A-Za-z0-9_\-.~+/=]{1,8192})$/.exec(headers.authorization.trim())?.[1];
      headers['x-ukey1-app'] ??= signer.id;
      // Fastify reads no body on GET and HEAD, so a server signs those without one.
      const rawBody = request.method === 'GET' || request.method === 'HEAD' ? undefined : payload;
      headers['x-ukey1-signature'] = signRequest(key, { appId: signer.id, method: request.method, path: signedPath, rawBody, accessToken: bearer });
    }
    return { method: request.method, url, headers, ...(payload === undefined ? {} : { payload }) };
  }

  /** Sends one request, checks its answer, and for a refusal checks that nothing was written. */
  async send(request: FuzzRequest): Promise<Answer> {
    const wire = this.resolve(request);
    let clock = performance.now();
    const before = this.#state ?? await this.snapshot();
    this.spent.snapshots += performance.now() - clock;
    clock = performance.now();
    const response = await this.keygate.http.inject({
      method: wire.method as 'GET',
      url: wire.url,
      headers: wire.headers,
      ...(wire.payload === undefined ? {} : { payload: wire.payload }),
    });
    this.requests += 1;
    this.statuses.set(response.statusCode, (this.statuses.get(response.statusCode) ?? 0) + 1);
    this.spent.answering += performance.now() - clock;
    clock = performance.now();
    const after = await this.snapshot();
    this.spent.snapshots += performance.now() - clock;
    this.#state = after;
    const answer: Answer = { status: response.statusCode, headers: response.headers, body: response.body, method: wire.method, url: wire.url };
    if (wire.url.startsWith('/auth/')) {
      const code = checkApiAnswer(answer, wire.headers);
      if (code) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    } else if (OAUTH_ENDPOINTS.test(wire.url)) {
      const code = checkOAuthAnswer(answer, wire.headers);
      if (code) this.codes.set(`oauth:${code}`, (this.codes.get(`oauth:${code}`) ?? 0) + 1);
    } else {
      checkPageAnswer(answer);
    }
    if (answer.status >= 400) {
      const changed = Object.keys(after).filter((k) => after[k] !== before[k]).map((k) => `${k}: ${before[k]} -> ${after[k]}`);
      assert.deepEqual(changed, [], `${describeAnswer(answer)} was refused but wrote: ${changed.join(', ')}`);
    }
    return answer;
  }

  /**
   * After a request that was not refused: put the fixtures back as the next request
   * expects them (the open connect request, the signed-in browsers, the developer's app).
   */
  async restore(answer: Answer): Promise<void> {
    // An API call cannot sign a browser out, settle the open connect request or touch the dashboard app.
    if (answer.status >= 400 || answer.url.startsWith('/auth/')) return;
    const started = performance.now();
    try {
      await this.#restore();
    } finally {
      this.spent.restoring += performance.now() - started;
    }
  }

  async #restore(): Promise<void> {
    const { apps, appDirectory, appOwners, connects, sessions } = this.keygate.services;
    if (!(await connects.findOpenConnect(this.value('connect')))) {
      const app = (await appDirectory.findApp(this.value('app')))!;
      const { connectId } = await connects.openConnect(app, { requestId: 'fuzz-open', scope: { fields: ['email'], mandatory: [] }, returnUrl: RETURN_URL, keyId: null });
      this.#values.set('connect', connectId);
      this.#values.set('connectUpper', connectId.toUpperCase());
      this.markDirty();
    }
    for (const [jar, person] of [['visitor', this.people.jana], ['developer', this.people.developer]] as const) {
      const signedIn = await sessions.resolveSession(this.#jars[jar].cookies.get(SESSION_COOKIE));
      if (signedIn?.id !== person.id) {
        this.#jars[jar].cookies.set(SESSION_COOKIE, await sessions.startSession(person));
        this.markDirty();
      }
    }
    let dash = await appDirectory.findApp(this.value('dashApp'));
    if (!dash) {
      const created = await apps.createApp({ name: 'Fuzz Dash', origins: [DASH_ORIGIN], returnUrls: [DASH_RETURN_URL], owner: this.people.developer, requireOrigins: true });
      this.#values.set('dashApp', created.appId);
      this.#values.set('dashAppUpper', created.appId.toUpperCase());
      dash = (await appDirectory.findApp(created.appId))!;
      this.markDirty();
    } else if (!(await appOwners.isOwner(dash.id, this.people.developer.id))) {
      await appOwners.addOwner(dash.id, this.people.developer);
      this.markDirty();
    }
    this.#values.set('appName', dash.name);
  }
}

export function describeAnswer(answer: Answer): string {
  return `${answer.method} ${answer.url.length > 200 ? `${answer.url.slice(0, 200)}...` : answer.url} -> ${answer.status} ${String(answer.headers['content-type'] ?? '(no content-type)')}: ${excerpt(answer.body)}`;
}

function checkNoLeak(answer: Answer): void {
  assert.doesNotMatch(answer.body, STACK_LINE, `${describeAnswer(answer)}: a stack trace`);
  assert.doesNotMatch(answer.body, ERROR_CLASS, `${describeAnswer(answer)}: an error class name`);
}

/** The Ukey1 envelope: JSON whose `result` is the HTTP status; a refusal explains itself in `debug`. */
export function checkApiAnswer(answer: Answer, requestHeaders: Record<string, string>): string | undefined {
  const { status, headers } = answer;
  assert.ok(status < 500, `${describeAnswer(answer)}: a server error`);
  const acao = headers['access-control-allow-origin'];
  if (acao !== undefined) assert.ok(acao === '*' || acao === requestHeaders.origin, `${describeAnswer(answer)}: CORS allows ${String(acao)}, not the caller's Origin`);
  if (answer.method === 'OPTIONS' && status === 204) {
    assert.equal(answer.body, '', `${describeAnswer(answer)}: a preflight answer has no body`);
    return undefined;
  }
  assert.match(String(headers['content-type'] ?? ''), /^application\/json\b/, `${describeAnswer(answer)}: not JSON`);
  if (answer.method === 'HEAD') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    assert.fail(`${describeAnswer(answer)}: the body is not JSON`);
  }
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `${describeAnswer(answer)}: not an object`);
  const envelope = body as { result?: unknown; debug?: { code?: unknown; message?: unknown } };
  assert.equal(envelope.result, status, `${describeAnswer(answer)}: result is not the HTTP status`);
  if (status >= 400) {
    const { debug } = envelope;
    assert.ok(debug !== null && typeof debug === 'object', `${describeAnswer(answer)}: no debug object`);
    assert.ok(typeof debug.code === 'string' && debug.code in UKEY1_ERRORS, `${describeAnswer(answer)}: debug.code is not a known error code`);
    assert.equal(UKEY1_ERRORS[debug.code as keyof typeof UKEY1_ERRORS].status, status, `${describeAnswer(answer)}: debug.code does not go with the status`);
    assert.ok(typeof debug.message === 'string' && debug.message.trim().length > 0, `${describeAnswer(answer)}: no debug.message`);
  }
  checkNoLeak(answer);
  return status >= 400 ? String(envelope.debug!.code) : undefined;
}

/** Where a form may send the browser: our own pages, or the app's registered return URL. */
function isSafeRedirect(location: string): boolean {
  if (location.startsWith('/') && !location.startsWith('//') && !location.startsWith('/\\')) return true;
  try {
    const url = new URL(location);
    const target = `${url.origin}${url.pathname}`;
    // The gateway answers Ukey1 requests at the return URL, OpenID Connect ones at the registered URIs.
    return target.startsWith(RETURN_URL) || target === OIDC_REDIRECT_URI || target === OIDC_SIGNED_OUT;
  } catch {
    return false;
  }
}

/** The OpenID Connect endpoints that answer OAuth JSON (not pages). */
const OAUTH_ENDPOINTS = /^\/(?:oidc\/(?!authorize|logout)|\.well-known\/)/;

/** OAuth answers: JSON, and a refusal says `error` (a code) and `error_description`. */
export function checkOAuthAnswer(answer: Answer, requestHeaders: Record<string, string>): string | undefined {
  const { status, headers } = answer;
  assert.ok(status < 500, `${describeAnswer(answer)}: a server error`);
  const acao = headers['access-control-allow-origin'];
  if (acao !== undefined) assert.ok(acao === '*' || acao === requestHeaders.origin, `${describeAnswer(answer)}: CORS allows ${String(acao)}, not the caller's Origin`);
  if (answer.method === 'HEAD' || status === 204 || (status === 200 && answer.body === '')) return undefined;
  assert.match(String(headers['content-type'] ?? ''), /^application\/(?:json|jwk-set\+json)\b/, `${describeAnswer(answer)}: not JSON`);
  let body: { error?: unknown; error_description?: unknown };
  try {
    body = JSON.parse(answer.body);
  } catch {
    assert.fail(`${describeAnswer(answer)}: the body is not JSON`);
  }
  checkNoLeak(answer);
  if (status < 400) return undefined;
  assert.match(String(body.error), /^[a-z_]+$/, `${describeAnswer(answer)}: a refusal without an OAuth error code`);
  assert.equal(typeof body.error_description, 'string', `${describeAnswer(answer)}: a refusal without error_description`);
  return String(body.error);
}

/** The files and probes that are not pages. */
const NOT_PAGES = /^\/(?:static\/|healthz|readyz)/;

/** A page: HTML with a title and a heading that say what happened; a redirect stays on site. */
export function checkPageAnswer(answer: Answer): void {
  const { status, headers } = answer;
  assert.ok(status < 500, `${describeAnswer(answer)}: a server error`);
  if (status >= 300 && status < 400) {
    const location = headers.location;
    assert.ok(typeof location === 'string' && location.length > 0, `${describeAnswer(answer)}: a redirect without Location`);
    assert.ok(isSafeRedirect(location), `${describeAnswer(answer)}: redirects off site to ${location}`);
    return;
  }
  if (status < 300 && NOT_PAGES.test(answer.url)) return;
  assert.match(String(headers['content-type'] ?? ''), /^text\/html\b/, `${describeAnswer(answer)}: not an HTML page`);
  if (answer.method === 'HEAD') return;
  assert.match(answer.body, /<title>[^<]*\S[^<]*<\/title>/, `${describeAnswer(answer)}: a page without a title`);
  assert.match(answer.body, /<h1[^>]*>\s*[^<\s]/, `${describeAnswer(answer)}: a page without a heading`);
  checkNoLeak(answer);
}

