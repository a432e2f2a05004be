// `npm run bench`: Keygate in production mode on fresh PostgreSQL databases and Redis,
// prepared through the real flow, loaded scenario by scenario over loopback with
// autocannon; each scenario is compared in the same run, with the same generator, with
// a floor server doing only the same private-key work, and with oidc-provider as a peer.
// `npm run bench:memory` (`run.ts memory`): the same Keygate, filled with 100,000 sessions
// and tokens over HTTP, its workers' memory read before and after (bench/memory.ts).
import type autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPostgresStores } from '../test/support/postgres-stores.js';
import { freePort } from '../test/support/ports.js';
import { CodeInbox } from './inbox.js';
import { costPerRequest, CostCounter, type CostPerRequest } from './counters.js';
import { load, type Measurement } from './load.js';
import { measureMemory } from './memory.js';
import { cpuSeconds, residentMiB } from './proc.js';
import {
  api, clientBasic, FIELDS, form, freshCode, freshOidcCode, inParallel, isCookie, OIDC_REDIRECT_URI, oidcTokenBody, openPage, ORIGIN, PASSWORD, RETURN_URL,
  signedHeaders, type Target,
} from './protocol.js';
import { renderReport, type BenchReport, type ScenarioResult } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// Each scenario first runs unmeasured this long, so that the JIT has settled when the
// measured window opens (a cold window overstates CPU by 100-150 µs a request).
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
// The memory run needs people only to sign in as, one browser each at a time.
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? (process.argv[2] === 'memory' ? 256 : 2000));
const MEMORY_TARGET = Number(process.env.BENCH_MEMORY_TARGET ?? 100_000);
const WORKERS = Number(process.env.KEYGATE_WORKERS ?? os.availableParallelism());
const CONNECTIONS = 32;
const CODE_MAKING_SECONDS = 25;
/** `BENCH_STORE=embedded`: Keygate as `npm start` runs it, on PGlite in its one process, without Redis. */
const EMBEDDED = process.env.BENCH_STORE === 'embedded';
const SERVER_URL = process.env.KEYGATE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.KEYGATE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let inbox: CodeInbox;
/** Counts what Keygate's requests cost in PostgreSQL and Redis (set once the stores exist). */
let costs: CostCounter | undefined;

// ------------------------------------------------------------------ processes

interface Server { url: string; child: ChildProcess; output: string }

/** Starts a server process; it is ready when `ready` appears in its output, or when `readyPath` answers 200. */
function startProcess(args: string[], env: Record<string, string>, ready: RegExp | string, port: number): Promise<Server> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const server: Server = { url: `http://127.0.0.1:${port}`, child, output: '' };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${server.output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      server.output += chunk.toString();
      if (typeof ready !== 'string' && ready.test(server.output)) {
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    if (typeof ready === 'string') {
      const poll = async () => {
        const answered = await fetch(`${server.url}${ready}`).then((r) => r.ok, () => false);
        if (answered) {
          clearTimeout(timer);
          resolve(server);
        } else if (child.exitCode === null) setTimeout(poll, 200);
      };
      void poll();
    }
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${server.output}`)));
  });
}

// ------------------------------------------------------------------ preparation

async function prepareKeygate(target: Target): Promise<void> {
  target.connectId = (await api(target, 'POST', '/auth/v2/connect', { request_id: 'signin', scope: [], return_url: RETURN_URL })).connect_id;
  target.signInCsrf = await openPage(target, `/gateway/${target.connectId}`);
  const started = Date.now();
  target.people = await inParallel(PEOPLE, 16, async (i) => {
    const email = `person-${i}@bench.example.${i % 3 === 0 ? 'com' : 'de'}`;
    const country = i % 3 === 0 ? 'US' : 'DE';
    const page = await openPage(target, `/gateway/${target.connectId}?signup=1`);
    const signUp = await form(target, `/gateway/${target.connectId}/sign-up`, {
      email, password: PASSWORD, firstname: `First${i}`, surname: `Surname${i}`, country, language: 'en', _csrf: page.csrf,
    }, page.cookie);
    if (signUp.status !== 200) throw new Error(`sign-up ${i} answered ${signUp.status}`);
    const code = await inbox.code(email);
    if (!code) throw new Error(`no confirmation code came for sign-up ${i}`);
    const confirmed = await form(target, `/gateway/${target.connectId}/confirm`, { code, _csrf: page.csrf }, [page.cookie, ...signUp.cookies].join('; '));
    if (confirmed.status !== 303) throw new Error(`confirming sign-up ${i} answered ${confirmed.status}`);
    const kept = confirmed.cookies.filter((c) => !c.endsWith('='));
    // The session came with a new form secret: any page of the session gives the token of its forms.
    const keptNames = new Set(kept.map((c) => c.split('=')[0]));
    const cookie = [...page.cookie.split('; ').filter((c) => c !== '' && !keptNames.has(c.split('=')[0])), ...kept].join('; ');
    const sessionPage = await openPage(target, '/account/security', cookie);
    return { email, country, cookie, csrf: sessionPage.csrf, device: kept.find((c) => isCookie(c, 'keygate-device'))! };
  });
  log(`signed up ${PEOPLE} people in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const pairs = await inParallel(256, 16, async (i) => {
    const ticket = await freshCode(target, target.people[i % target.people.length]!, i);
    const token = await api(target, 'POST', '/auth/v2/token', { request_id: ticket.requestId, connect_id: ticket.connectId, auth_code: ticket.code });
    if (token.result !== 200) throw new Error(`token answered ${JSON.stringify(token)}`);
    return token;
  });
  target.accessTokens = pairs.map((p) => p.access_token);
  target.refreshTokens = pairs.map((p) => p.refresh_token);
  // And as an OpenID Connect client: access tokens for userinfo, from the code flow with PKCE.
  target.oidcAccessTokens = await inParallel(256, 16, async (i) => {
    const ticket = await freshOidcCode(target, target.people[i % target.people.length]!);
    const answer = await oidcToken(target, ticket);
    if (!answer.access_token) throw new Error(`the OpenID Connect token endpoint answered ${JSON.stringify(answer)}`);
    return answer.access_token as string;
  });
}

async function oidcToken(target: Target, ticket: { code: string; verifier: string }): Promise<Record<string, unknown>> {
  const response = await fetch(`${target.url}/oidc/token`, {
    method: 'POST', headers: { authorization: clientBasic(target), 'content-type': 'application/x-www-form-urlencoded' }, body: oidcTokenBody(ticket),
  });
  return response.json() as Promise<Record<string, unknown>>;
}

/** The scenarios that use up single-use codes, made just before their run. */
const CODE_SCENARIOS: ReadonlySet<string> = new Set(['token', 'oidc-token']);

// ------------------------------------------------------------------ scenarios

type RequestsFor = (target: Target) => { requests: autocannon.Request[]; okStatuses?: number[] };

let counter = 0;
// autocannon keeps one context object per connection; scenarios keep their chain in it.
const ctx = (context: object) => context as Record<string, any>;
const scenarios: Record<string, RequestsFor> = {
  connect: (t) => ({
    requests: [{
      method: 'POST', path: '/auth/v2/connect',
      setupRequest: (req) => {
        const body = JSON.stringify({ request_id: `c-${++counter}`, scope: FIELDS, return_url: RETURN_URL });
        return { ...req, body, headers: signedHeaders(t, 'POST', '/auth/v2/connect', body) };
      },
    }],
  }),
  me: (t) => ({
    requests: [{
      method: 'GET', path: '/auth/v2/me',
      setupRequest: (req) => {
        const token = t.accessTokens[++counter % t.accessTokens.length]!;
        return { ...req, headers: signedHeaders(t, 'GET', '/auth/v2/me', undefined, token) };
      },
    }],
  }),
  'me-browser': (t) => ({
    requests: [{
      method: 'GET', path: '/auth/v2/me',
      setupRequest: (req) => ({ ...req, headers: { 'x-ukey1-app': t.appId, origin: ORIGIN, authorization: `Bearer ${t.accessTokens[++counter % t.accessTokens.length]}` } }),
    }],
  }),
  signin: (t) => ({
    okStatuses: [303],
    requests: [{
      method: 'POST', path: `/gateway/${t.connectId}/sign-in`,
      setupRequest: (req) => {
        const person = t.people[++counter % t.people.length]!;
        return {
          ...req,
          // The person's own browser: a known device, so no new-device email per sign-in.
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${t.signInCsrf.cookie}; ${person.device}` },
          body: new URLSearchParams({ email: person.email, password: PASSWORD, _csrf: t.signInCsrf.csrf }).toString(),
        };
      },
    }],
  }),
  // autocannon resets a connection's context at each loop of its requests, so live refresh
  // tokens circulate through a shared queue: each request takes one, each answer returns its successor.
  refresh: (t) => ({
    requests: [{
      method: 'POST', path: '/auth/v2/token/refresh',
      setupRequest: (req) => {
        const body = JSON.stringify({ refresh_token: t.refreshTokens.shift() ?? 'exhausted' });
        return { ...req, body, headers: signedHeaders(t, 'POST', '/auth/v2/token/refresh', body) };
      },
      onResponse: (status, body) => {
        if (status === 200) t.refreshTokens.push(JSON.parse(body).refresh_token);
      },
    }],
  }),
  // OpenID Connect userinfo: four granted claims, each an audited read, behind an opaque token.
  'oidc-userinfo': (t) => ({
    requests: [{
      method: 'GET', path: '/oidc/userinfo',
      setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${t.oidcAccessTokens[++counter % t.oidcAccessTokens.length]}` } }),
    }],
  }),
  // A signed-in person's whole flow: connect → consent → token → /me (four requests).
  flow: (t) => ({
    okStatuses: [303],
    requests: [
      {
        method: 'POST', path: '/auth/v2/connect',
        setupRequest: (req, context) => {
          ctx(context).person ??= t.people[++counter % t.people.length];
          ctx(context).requestId = `f-${++counter}`;
          const body = JSON.stringify({ request_id: ctx(context).requestId, scope: FIELDS, return_url: RETURN_URL });
          return { ...req, body, headers: signedHeaders(t, 'POST', '/auth/v2/connect', body) };
        },
        onResponse: (_s, body, context) => { ctx(context).connectId = JSON.parse(body).connect_id; },
      },
      {
        method: 'POST', path: '/gateway/x/consent',
        setupRequest: (req, context) => ({
          ...req,
          path: `/gateway/${ctx(context).connectId}/consent`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: ctx(context).person.cookie },
          body: `decision=allow&${FIELDS.map((f) => `fields=${f}`).join('&')}&_csrf=${ctx(context).person.csrf}`,
        }),
        onResponse: (_s, _b, context, headers) => {
          const location = (headers as unknown as Record<string, string>)?.location ?? '';
          ctx(context).code = location ? new URL(location).searchParams.get('_ukey1[code]') : '';
        },
      },
      {
        method: 'POST', path: '/auth/v2/token',
        setupRequest: (req, context) => {
          const body = JSON.stringify({ request_id: ctx(context).requestId, connect_id: ctx(context).connectId, auth_code: ctx(context).code });
          return { ...req, body, headers: signedHeaders(t, 'POST', '/auth/v2/token', body) };
        },
        onResponse: (_s, body, context) => { ctx(context).token = JSON.parse(body).access_token; },
      },
      {
        method: 'GET', path: '/auth/v2/me',
        setupRequest: (req, context) => ({ ...req, headers: signedHeaders(t, 'GET', '/auth/v2/me', undefined, ctx(context).token) }),
      },
    ],
  }),
};

/**
 * The token scenarios need fresh single-use codes: made just before the run. They live
 * 60 s, and the run uses them in the order they were made, so making them stops after
 * CODE_MAKING_SECONDS whatever the count: a slow machine runs fewer codes, not expired ones.
 * Answers the run, to start once the codes are ready.
 */
async function prepareTokenRun(name: string, target: Target, connections: number, codes: number, isKeygate: boolean): Promise<() => Promise<Measurement>> {
  const until = Date.now() + CODE_MAKING_SECONDS * 1000;
  const made = async <T>(make: (person: Target['people'][number]) => Promise<T>, stand: (i: number) => T): Promise<T[]> => (isKeygate
    ? (await inParallel(codes, 32, async (i) => (Date.now() < until ? make(target.people[i % target.people.length]!) : null))).filter((t): t is Awaited<T> => t !== null)
    : Array.from({ length: codes }, (_, i) => stand(i)));
  if (name === 'oidc-token') {
    // authorization_code with PKCE for a confidential client (HTTP Basic).
    const tickets = await made((person) => freshOidcCode(target, person),
      () => ({ code: `${randomBytes(16).toString('hex')}.${randomBytes(32).toString('base64url')}`, verifier: randomBytes(32).toString('base64url') }));
    return ticketRun(target, connections, tickets, '/oidc/token', (ticket) => ({
      body: oidcTokenBody(ticket), headers: { authorization: clientBasic(target), 'content-type': 'application/x-www-form-urlencoded' },
    }));
  }
  const tickets = await made((person) => freshCode(target, person, ++counter),
    (i) => ({ requestId: `t-${i}`, connectId: randomBytes(16).toString('hex'), code: randomBytes(32).toString('base64url') }));
  return ticketRun(target, connections, tickets, '/auth/v2/token', (ticket) => {
    const body = JSON.stringify({ request_id: ticket.requestId, connect_id: ticket.connectId, auth_code: ticket.code });
    return { body, headers: signedHeaders(target, 'POST', '/auth/v2/token', body) };
  });
}

/** A fixed number of token requests, one per ticket, in the order the tickets were made. */
function ticketRun<T>(target: Target, connections: number, tickets: T[], path: string, request: (ticket: T) => { body: string; headers: Record<string, string> }): () => Promise<Measurement> {
  let next = 0;
  return () => load({
    url: target.url,
    // autocannon needs at least one request per connection.
    connections: Math.min(connections, tickets.length),
    amount: tickets.length,
    requests: [{ method: 'POST', path, setupRequest: (req) => ({ ...req, ...request(tickets[next++ % tickets.length]!) }) }],
  });
}

const lastTokenRps = new Map<string, number>();

type Measured = Measurement & { cpuCores: number; cpuUsPerRequest: number; cost?: CostPerRequest };

async function measure(name: string, target: Target, server: Server, connections = CONNECTIONS, seconds = SECONDS): Promise<Measured> {
  // Enough fresh codes for about `seconds` at the last rate seen (at least one per connection), so the run stays short.
  // Token exchanges use up single-use codes: the scenarios before it warm its paths instead.
  if (!CODE_SCENARIOS.has(name) && WARMUP_SECONDS > 0) await load({ url: target.url, connections, seconds: WARMUP_SECONDS, ...scenarios[name]!(target) });
  const expectedRps = lastTokenRps.get(`${target.name}:${name}`) ?? 300;
  const run = CODE_SCENARIOS.has(name)
    ? await prepareTokenRun(name, target, connections, Math.max(300, connections, Math.round(seconds * expectedRps * 1.2)), target.name === 'keygate')
    : () => load({ url: target.url, connections, seconds, ...scenarios[name]!(target) });
  // Keygate's cost is counted in every process that works for it; a floor's is its own CPU.
  const counted = target.name === 'keygate' ? costs : undefined;
  const readingBefore = await counted?.read(server.child.pid!);
  const before = cpuSeconds(server.child.pid!);
  const generatorBefore = process.cpuUsage();
  const started = Date.now();
  const result = await run();
  const elapsed = (Date.now() - started) / 1000;
  const cpuUsed = cpuSeconds(server.child.pid!) - before;
  const cpuCores = cpuUsed / elapsed;
  const generator = process.cpuUsage(generatorBefore);
  const perFlow = name === 'flow' ? 4 : 1;
  const units = Math.max(1, result.requests / perFlow);
  const cost = counted && readingBefore ? costPerRequest(readingBefore, await counted.read(server.child.pid!), units) : undefined;
  log(`    ${target.name} ${name}: server ${cpuCores.toFixed(2)} cores, load generator ${((generator.user + generator.system) / 1e6 / elapsed).toFixed(2)}`);
  if (cost) log(`    ${target.name} ${name}: CPU µs per ${perFlow > 1 ? 'flow' : 'request'}: Keygate ${cost.cpuUsPerRequest.keygate}, PostgreSQL ${cost.cpuUsPerRequest.postgres}, Redis ${cost.cpuUsPerRequest.redis}; ${cost.transactionsPerRequest} transactions, ${cost.redisCommandsPerRequest} Redis commands`);
  if (CODE_SCENARIOS.has(name)) lastTokenRps.set(`${target.name}:${name}`, result.rps);
  return { ...result, rps: result.rps / perFlow, cpuCores, cpuUsPerRequest: Math.round((cpuUsed * 1e6) / units), ...(cost ? { cost } : {}) };
}

// ------------------------------------------------------------------ main

interface Started {
  keygate: Server;
  ours: Target;
  env: Record<string, string>;
  /** Adds a server to stop at the end. */
  keep(server: Server): Server;
}

async function main() {
  const memoryRun = process.argv[2] === 'memory';
  log(`building; ${WORKERS} workers; ${memoryRun ? `${MEMORY_TARGET} sessions and tokens` : `${SECONDS} s per scenario`}`);
  if (spawnSync('npm', ['run', 'build'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');

  const { locations, drop } = EMBEDDED ? { locations: null, drop: async () => {} } : await createPostgresStores(SERVER_URL);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-'));
  inbox = await CodeInbox.start();
  const url = (l: NonNullable<typeof locations>['eu']) => (l.kind === 'postgres' ? l.url : '');
  // On PGlite the stores' work is done in Keygate's own process, and counted there.
  costs = await CostCounter.open(locations ? [url(locations.control), url(locations.eu), url(locations.us)] : [], EMBEDDED ? null : REDIS_URL);
  const key = () => randomBytes(32).toString('base64');
  const keygatePort = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'production', KEYGATE_LOG_LEVEL: 'warn', KEYGATE_WORKERS: String(WORKERS),
    KEYGATE_PUBLIC_URL: `https://127.0.0.1:${keygatePort}`, KEYGATE_HOST: '127.0.0.1', KEYGATE_BEHIND_TLS_PROXY: 'true',
    ...(locations ? {
      KEYGATE_DATABASE_URL_CONTROL: url(locations.control), KEYGATE_DATABASE_URL_EU: url(locations.eu), KEYGATE_DATABASE_URL_US: url(locations.us),
      KEYGATE_REDIS_URL: REDIS_URL,
    } : {}),
    KEYGATE_REDIS_PREFIX: `kgbench:${randomBytes(4).toString('hex')}`,
    KEYGATE_MASTER_KEY_CONTROL: key(), KEYGATE_MASTER_KEY_EU: key(), KEYGATE_MASTER_KEY_US: key(),
    KEYGATE_INDEX_KEY_EU: key(), KEYGATE_INDEX_KEY_US: key(), KEYGATE_INDEX_KEY_CONTROL: key(),
    // Mail (sign-up and sign-in codes) goes to this run's own SMTP server, read back like an inbox.
    KEYGATE_SMTP_URL: inbox.url,
    KEYGATE_DATA_DIR: dataDir,
    // A load generator is one address sending thousands of sign-ins: not ordinary use.
    KEYGATE_SIGNIN_ATTEMPTS_PER_ADDRESS: '1000000',
    KEYGATE_DB_POOL_SIZE: '16',
    // The memory fill takes longer than the default 15 minutes: no token it made may expire
    // and be purged before the stores are counted.
    ...(memoryRun ? { KEYGATE_ACCESS_TOKEN_TTL_MINUTES: '60' } : {}),
  };
  const servers: Server[] = [];
  try {
    const created = spawnSync(process.execPath, [
      'bin/keygate.js', 'app', 'create', '--name', 'Bench', '--origin', ORIGIN, '--return-url', RETURN_URL, '--redirect-uri', OIDC_REDIRECT_URI, '--json',
    ], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (created.status !== 0) throw new Error(created.stderr);
    const app = JSON.parse(created.stdout);
    // BENCH_NODE_ARGS (e.g. --cpu-prof) goes to the Keygate processes: how the report's "what limits it" was found.
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const keygate = await startProcess([...nodeArgs, 'bin/keygate.js', 'serve'], env, '/readyz', keygatePort);
    servers.push(keygate);
    const ours: Target = {
      name: 'keygate', url: keygate.url, appId: app.appId, secretKey: app.secretKey, connectId: '', people: [], accessTokens: [], refreshTokens: [],
      signInCsrf: { cookie: '', csrf: '' }, clientSecret: app.clientSecret, oidcAccessTokens: [],
    };
    const started: Started = { keygate, ours, env, keep: (server) => (servers.push(server), server) };
    const report = memoryRun ? await runMemory(started) : await runScenarios(started);
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${memoryRun ? 'memory-' : ''}${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    const { table, svg } = renderReport(report);
    if (!memoryRun) writeFileSync('docs/benchmarks-scaling.svg', svg);
    process.stdout.write(`${table}\n\nwritten ${file}${memoryRun ? '' : ' and docs/benchmarks-scaling.svg'}\n`);
  } finally {
    const keygate = servers[0];
    if (keygate && keygate.output.length > 0) log(`Keygate wrote ${keygate.output.length} bytes of log; the last: ${keygate.output.slice(-2000)}`);
    for (const server of servers.reverse()) {
      server.child.kill('SIGTERM');
      await new Promise((resolve) => server.child.once('exit', resolve)).catch(() => {});
    }
    await inbox.close();
    await costs?.close();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const machine = (): BenchReport['machine'] =>
  ({ cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, workers: EMBEDDED ? 1 : WORKERS, store: EMBEDDED ? 'pglite' : 'postgresql' });

/** `npm run bench:memory`: the workers' memory after the stores hold MEMORY_TARGET sessions and tokens. */
async function runMemory({ keygate, ours, env }: Started): Promise<BenchReport> {
  log('preparing state through the real flow');
  await prepareKeygate(ours);
  const memory = await measureMemory({
    target: ours, pid: keygate.child.pid!, inbox, redisUrl: REDIS_URL, redisPrefix: env.KEYGATE_REDIS_PREFIX!,
    count: () => countIssued(env), sessions: MEMORY_TARGET, tokens: MEMORY_TARGET, log,
  });
  return { machine: machine(), memory };
}

/** `npm run bench`: every scenario against Keygate and the floor, the floor's modes, the peer, and the scaling runs. */
async function runScenarios({ keygate, ours, env, keep }: Started): Promise<BenchReport> {
  await sleep(500);
  const startMiB = residentMiB(keygate.child.pid!);
  const startFloor = async (mode: string) => {
    const floor = keep(await startProcess(['--import', 'tsx', 'bench/floor-server.ts'], { WORKERS: String(WORKERS), FLOOR_MODE: mode }, /"ready":true/, await freePort()));
    return { server: floor, info: JSON.parse(/\{"ready":true.*\}/.exec(floor.output)![0]) as { appId: string; secretKey: string } };
  };
  const floors = { cluster: await startFloor('cluster'), threads: await startFloor('threads'), async: await startFloor('async') };
  const peer = keep(await startProcess(['--import', 'tsx', 'bench/peer-oidc-provider.ts'], { WORKERS: String(WORKERS) }, /peer listening/, await freePort()));
  const durablePeer = keep(await startProcess(['--import', 'tsx', 'bench/peer-oidc-provider.ts'],
    { WORKERS: String(WORKERS), PEER_REDIS_URL: REDIS_URL, PEER_REDIS_PREFIX: `${env.KEYGATE_REDIS_PREFIX}:peer` }, /peer listening/, await freePort()));

  log('preparing state through the real flow');
  await prepareKeygate(ours);
  const floorTargets = Object.fromEntries(await Promise.all(Object.entries(floors).map(async ([mode, { server, info }]): Promise<[string, Target]> => {
    const tokens = await inParallel(256, 16, async () => (await (await fetch(`${server.url}/bench/token`)).json()).access_token as string);
    return [mode, {
      name: mode === 'cluster' ? 'floor' : `floor-${mode}`, url: server.url, appId: info.appId, secretKey: info.secretKey, connectId: 'x',
      people: ours.people.map((p) => ({ ...p, cookie: 'x=y' })), accessTokens: tokens, signInCsrf: { cookie: 'x=y', csrf: 'x' },
      refreshTokens: Array.from({ length: 1024 }, () => `eu.${randomBytes(32).toString('base64url')}`),
      clientSecret: 'floor', oidcAccessTokens: ['floor'],
    }];
  })));

  log('peer: oidc-provider client_credentials');
  const basic = `Basic ${Buffer.from('bench:bench-secret-bench-secret-bench-secret').toString('base64')}`;
  const peerLoad = (url: string) => load({
    url, connections: CONNECTIONS, seconds: SECONDS,
    requests: [{ method: 'POST', path: '/token', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=api' }],
  });
  const peerResult = await peerLoad(peer.url);
  log(`peer ${peerResult.rps.toFixed(0)} requests/s`);
  const durablePeerResult = await peerLoad(durablePeer.url);
  log(`peer keeping its tokens in Redis ${durablePeerResult.rps.toFixed(0)} requests/s`);

  const results: ScenarioResult[] = [];
  const floorModes: NonNullable<BenchReport['floorModes']> = [];
  const only = process.env.BENCH_ONLY?.split(',');
  for (const name of ['connect', 'token', 'me', 'me-browser', 'signin', 'flow', 'refresh', 'oidc-token', 'oidc-userinfo'].filter((n) => !only || only.includes(n))) {
    // A fresh pool of refresh tokens: each run consumes its chains.
    if (name === 'refresh') {
      const pairs = await inParallel(CONNECTIONS * 2, 16, async (i) => {
        const ticket = await freshCode(ours, ours.people[i % ours.people.length]!, ++counter);
        return api(ours, 'POST', '/auth/v2/token', { request_id: ticket.requestId, connect_id: ticket.connectId, auth_code: ticket.code });
      });
      ours.refreshTokens = pairs.map((p) => p.refresh_token);
    }
    log(`scenario ${name}`);
    const mine = await measure(name, ours, keygate);
    const base = await measure(name, floorTargets.cluster!, floors.cluster.server);
    results.push({
      name,
      rps: round(mine.rps), p50Ms: mine.p50Ms, p95Ms: mine.p95Ms, p99Ms: mine.p99Ms, errors: mine.errors,
      cpuCores: round(mine.cpuCores, 2),
      floorRps: round(base.rps),
      efficiency: round(mine.rps / base.rps, 2),
      peerRatio: round(mine.rps / peerResult.rps, 2),
      peerDurableRatio: round(mine.rps / durablePeerResult.rps, 2),
      ...(mine.cost ?? {}),
      floorCpuUsPerRequest: base.cpuUsPerRequest,
    });
    log(`  ${name}: ${mine.rps.toFixed(0)}/s (floor ${base.rps.toFixed(0)}/s), p99 ${mine.p99Ms} ms, errors ${mine.errors}`);
    // Cluster or worker-thread pool for the private-key work: the other two floors, right
    // after the cluster floor, on the two scenarios whose floor is RSA work only.
    if (name === 'me' || name === 'token') {
      const row = (mode: string, m: Measured) => ({ scenario: name, mode, rps: round(m.rps), p50Ms: m.p50Ms, p99Ms: m.p99Ms, errors: m.errors, cpuCores: round(m.cpuCores, 2) });
      floorModes.push(row('cluster', base));
      for (const mode of ['threads', 'async'] as const) {
        const other = await measure(name, floorTargets[mode]!, floors[mode].server);
        floorModes.push(row(mode, other));
        log(`  ${name} floor, ${mode}: ${other.rps.toFixed(0)}/s (cluster ${base.rps.toFixed(0)}/s), p99 ${other.p99Ms} ms`);
      }
    }
  }

  log('scaling of /me and token with concurrency');
  const scaling: BenchReport['scaling'] = [];
  for (const name of ['me', 'token'].filter((n) => !only || only.includes(n))) {
    for (const connections of process.env.BENCH_SKIP_SCALING ? [] : [1, 8, 32, 128, 512]) {
      const run = await measure(name, ours, keygate, connections, 5);
      scaling.push({ scenario: name, connections, rps: round(run.rps), p99Ms: run.p99Ms, errors: run.errors });
      log(`  ${name} @${connections}: ${run.rps.toFixed(0)}/s p99 ${run.p99Ms} ms`);
    }
  }

  return {
    machine: machine(),
    peer: { name: 'oidc-provider 8.8.1, client_credentials, RS256 JWT', rps: round(peerResult.rps), p99Ms: peerResult.p99Ms, errors: peerResult.errors },
    durablePeer: { name: 'oidc-provider 8.8.1, client_credentials, opaque tokens kept in Redis', rps: round(durablePeerResult.rps), p99Ms: durablePeerResult.p99Ms, errors: durablePeerResult.errors },
    scenarios: results,
    floorModes,
    scaling,
    resident: { startMiB, afterRunMiB: residentMiB(keygate.child.pid!), ...(await countIssued(env)) },
  };
}

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

async function countIssued(env: Record<string, string>) {
  let sessions = 0;
  let tokens = 0;
  // PGlite's files belong to the running Keygate: not opened from here.
  if (EMBEDDED) return { sessions: -1, tokens: -1 };
  for (const url of [env.KEYGATE_DATABASE_URL_EU!, env.KEYGATE_DATABASE_URL_US!]) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    sessions += (await client.query('select count(*)::int as n from sessions')).rows[0].n;
    tokens += (await client.query('select count(*)::int as n from access_tokens')).rows[0].n;
    await client.end();
  }
  return { sessions, tokens };
}

main().catch((error) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
