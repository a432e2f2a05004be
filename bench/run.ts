// `npm run bench`: Keygate in production mode on fresh PostgreSQL databases and Redis,
// prepared through the real flow, loaded scenario by scenario over loopback with
// autocannon; each scenario is compared in the same run, with the same generator, with
// a floor server doing only the same private-key work, and with oidc-provider as a peer.
import type autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { constants, publicEncrypt, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPostgresStores } from '../test/support/postgres-stores.js';
import { freePort } from '../test/support/ports.js';
import { Outbox } from '../test/support/mailbox.js';
import { load, type Measurement } from './load.js';
import { renderReport, type BenchReport, type ScenarioResult } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 2000);
const WORKERS = Number(process.env.KEYGATE_WORKERS ?? os.availableParallelism());
const CONNECTIONS = 32;
const SERVER_URL = process.env.KEYGATE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.KEYGATE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ORIGIN = 'https://bench.example.org';
const RETURN_URL = `${ORIGIN}/back/`;
const PASSWORD = 'bench password 1234';
const FIELDS = ['firstname', 'surname', 'email', 'country'];

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let outbox: Outbox;

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

/** CPU seconds used so far by a process and its children (the cluster workers). */
function cpuSeconds(pid: number, withChildren = true): number {
  const children = withChildren ? spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number) : [];
  const pids = [pid, ...children];
  const ticks = 100; // CLK_TCK on Linux
  return pids.reduce((sum, p) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      return sum;
    }
  }, 0);
}

/** Resident memory of each worker (or of the process itself when it has none), in MiB. */
function residentMiB(pid: number): number[] {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return (children.length > 0 ? children : [pid]).map((p) => {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  });
}

// ------------------------------------------------------------------ protocol helpers

interface Target {
  readonly name: string;
  readonly url: string;
  readonly appId: string;
  readonly secretKey: string;
  /** A pending connect whose gateway page takes sign-in posts. */
  connectId: string;
  /** People signed up through the gateway, with their browser's cookies and the forms' CSRF token. */
  people: Array<{ email: string; cookie: string; csrf: string; device: string }>;
  /** A CSRF cookie and token for sign-in posts. */
  signInCsrf: { cookie: string; csrf: string };
  accessTokens: string[];
  refreshTokens: string[];
}

const pemOf = (secretKey: string) => `-----BEGIN PUBLIC KEY-----\n${secretKey.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;

function signature(target: Target, method: string, path: string, body = '', token = ''): string {
  const digest = createHash('sha512').update(target.appId + method + path + body + token).digest('hex');
  return encodeURIComponent(publicEncrypt({ key: pemOf(target.secretKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(digest)).toString('base64'));
}

function signedHeaders(target: Target, method: string, path: string, body?: string, token?: string): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ukey1-app': target.appId,
    'x-origin': ORIGIN,
    'x-ukey1-signature': signature(target, method, path, body, token),
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

async function api(target: Target, method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<any> {
  const raw = body === undefined ? undefined : JSON.stringify(body);
  const response = await fetch(`${target.url}${path}`, { method, headers: signedHeaders(target, method, path, raw, token), body: raw });
  return response.json();
}

/** Opens a gateway page as a new browser: its CSRF cookie and the token of its forms. */
async function openPage(target: Target, path: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${target.url}${path}`);
  const html = await response.text();
  return { cookie: response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
}

async function form(target: Target, path: string, fields: Record<string, string | string[]>, cookie?: string) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  const response = await fetch(`${target.url}${path}`, {
    method: 'POST', redirect: 'manual', body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') ?? '', cookies: response.headers.getSetCookie().map((c) => c.split(';')[0]!) };
}

async function inParallel<T>(count: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await work(i);
    }
  }));
  return results;
}

/** A fresh one-time code for a signed-in person: connect, then consent. */
async function freshCode(target: Target, person: { cookie: string; csrf: string }, n: number) {
  const requestId = `code-${n}`;
  const connect = await api(target, 'POST', '/auth/v2/connect', { request_id: requestId, scope: FIELDS, return_url: RETURN_URL });
  const consent = await form(target, `/gateway/${connect.connect_id}/consent`, { decision: 'allow', fields: FIELDS, _csrf: person.csrf }, person.cookie);
  const code = new URL(consent.location).searchParams.get('_ukey1[code]') ?? '';
  return { requestId, connectId: connect.connect_id as string, code };
}

async function prepareKeygate(target: Target): Promise<void> {
  target.connectId = (await api(target, 'POST', '/auth/v2/connect', { request_id: 'signin', scope: [], return_url: RETURN_URL })).connect_id;
  target.signInCsrf = await openPage(target, `/gateway/${target.connectId}`);
  const started = Date.now();
  target.people = await inParallel(PEOPLE, 16, async (i) => {
    const email = `person-${i}@bench.example.${i % 3 === 0 ? 'com' : 'de'}`;
    const page = await openPage(target, `/gateway/${target.connectId}?signup=1`);
    const signUp = await form(target, `/gateway/${target.connectId}/sign-up`, {
      email, password: PASSWORD, firstname: `First${i}`, surname: `Surname${i}`, country: i % 3 === 0 ? 'US' : 'DE', language: 'en', _csrf: page.csrf,
    }, page.cookie);
    if (signUp.status !== 200) throw new Error(`sign-up ${i} answered ${signUp.status}`);
    const code = await outbox.code(email);
    const confirmed = await form(target, `/gateway/${target.connectId}/confirm`, { code, _csrf: page.csrf }, [page.cookie, ...signUp.cookies].join('; '));
    if (confirmed.status !== 303) throw new Error(`confirming sign-up ${i} answered ${confirmed.status}`);
    const kept = confirmed.cookies.filter((c) => !c.endsWith('='));
    return { email, cookie: [page.cookie, ...kept].join('; '), csrf: page.csrf, device: kept.find((c) => c.startsWith('keygate-device='))! };
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
}

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

/** The token scenario needs fresh single-use codes: made just before the run (they live 60 s). */
async function tokenRun(target: Target, connections: number, codes: number, isKeygate: boolean): Promise<Measurement> {
  const tickets = isKeygate
    ? await inParallel(codes, 32, (i) => freshCode(target, target.people[i % target.people.length]!, ++counter))
    : Array.from({ length: codes }, (_, i) => ({ requestId: `t-${i}`, connectId: randomBytes(16).toString('hex'), code: randomBytes(32).toString('base64url') }));
  let next = 0;
  return load({
    url: target.url,
    connections,
    amount: tickets.length,
    requests: [{
      method: 'POST', path: '/auth/v2/token',
      setupRequest: (req) => {
        const ticket = tickets[next++ % tickets.length]!;
        const body = JSON.stringify({ request_id: ticket.requestId, connect_id: ticket.connectId, auth_code: ticket.code });
        return { ...req, body, headers: signedHeaders(target, 'POST', '/auth/v2/token', body) };
      },
    }],
  });
}

const lastTokenRps = new Map<string, number>();

async function measure(name: string, target: Target, server: Server, connections = CONNECTIONS, seconds = SECONDS): Promise<Measurement & { cpuCores: number }> {
  const before = cpuSeconds(server.child.pid!);
  const generatorBefore = process.cpuUsage();
  const started = Date.now();
  // Enough fresh codes for about `seconds` at the last rate seen, so the run stays short.
  const expectedRps = lastTokenRps.get(target.name) ?? 600;
  const result = name === 'token'
    ? await tokenRun(target, connections, Math.max(300, Math.round(seconds * expectedRps * 1.2)), target.name === 'keygate')
    : await load({ url: target.url, connections, seconds, ...scenarios[name]!(target) });
  const elapsed = (Date.now() - started) / 1000;
  const cpuCores = (cpuSeconds(server.child.pid!) - before) / elapsed;
  const generator = process.cpuUsage(generatorBefore);
  log(`    ${target.name} ${name}: server ${cpuCores.toFixed(2)} cores, load generator ${((generator.user + generator.system) / 1e6 / elapsed).toFixed(2)}`);
  if (name === 'token') lastTokenRps.set(target.name, result.rps);
  const perFlow = name === 'flow' ? 4 : 1;
  return { ...result, rps: result.rps / perFlow, cpuCores };
}

// ------------------------------------------------------------------ main

async function main() {
  log(`building; ${WORKERS} workers; ${SECONDS} s per scenario`);
  if (spawnSync('npm', ['run', 'build'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');

  const { locations, drop } = await createPostgresStores(SERVER_URL);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-'));
  outbox = new Outbox(dataDir);
  const url = (l: (typeof locations)['eu']) => (l.kind === 'postgres' ? l.url : '');
  const key = () => randomBytes(32).toString('base64');
  const keygatePort = await freePort();
  const env = {
    NODE_ENV: 'production', KEYGATE_LOG_LEVEL: 'warn', KEYGATE_WORKERS: String(WORKERS),
    KEYGATE_PUBLIC_URL: `http://127.0.0.1:${keygatePort}`, KEYGATE_HOST: '127.0.0.1', KEYGATE_BEHIND_TLS_PROXY: 'true',
    KEYGATE_DATABASE_URL_CONTROL: url(locations.control), KEYGATE_DATABASE_URL_EU: url(locations.eu), KEYGATE_DATABASE_URL_US: url(locations.us),
    KEYGATE_REDIS_URL: REDIS_URL, KEYGATE_REDIS_PREFIX: `kgbench:${randomBytes(4).toString('hex')}`,
    KEYGATE_MASTER_KEY_CONTROL: key(), KEYGATE_MASTER_KEY_EU: key(), KEYGATE_MASTER_KEY_US: key(),
    KEYGATE_INDEX_KEY_EU: key(), KEYGATE_INDEX_KEY_US: key(), KEYGATE_INDEX_KEY_CONTROL: key(),
    // Mail (sign-up codes) goes to this run's own outbox, read back like an inbox.
    KEYGATE_DATA_DIR: dataDir,
    // A load generator is one address sending thousands of sign-ins: not ordinary use.
    KEYGATE_SIGNIN_ATTEMPTS_PER_ADDRESS: '1000000',
    KEYGATE_DB_POOL_SIZE: '16',
  };
  const servers: Server[] = [];
  try {
    const created = spawnSync(process.execPath, ['bin/keygate.js', 'app', 'create', '--name', 'Bench', '--origin', ORIGIN, '--return-url', RETURN_URL, '--json'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (created.status !== 0) throw new Error(created.stderr);
    const app = JSON.parse(created.stdout);
    // BENCH_NODE_ARGS (e.g. --cpu-prof) goes to the Keygate processes: how the report's "what limits it" was found.
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const keygate = await startProcess([...nodeArgs, 'bin/keygate.js', 'serve'], env, '/readyz', keygatePort);
    servers.push(keygate);
    await sleep(500);
    const idleMiB = residentMiB(keygate.child.pid!);

    const floorPort = await freePort();
    const floor = await startProcess(['--import', 'tsx', 'bench/floor-server.ts'], { WORKERS: String(WORKERS) }, /"ready":true/, floorPort);
    servers.push(floor);
    const floorInfo = JSON.parse(/\{"ready":true.*\}/.exec(floor.output)![0]);
    const peerPort = await freePort();
    const peer = await startProcess(['--import', 'tsx', 'bench/peer-oidc-provider.ts'], { WORKERS: String(WORKERS) }, /peer listening/, peerPort);
    servers.push(peer);

    const ours: Target = {
      name: 'keygate', url: keygate.url, appId: app.appId, secretKey: app.secretKey, connectId: '', people: [], accessTokens: [], refreshTokens: [],
      signInCsrf: { cookie: '', csrf: '' },
    };
    log('preparing state through the real flow');
    await prepareKeygate(ours);
    const floorTokens = await inParallel(256, 16, async () => (await (await fetch(`${floor.url}/bench/token`)).json()).access_token as string);
    const floorTarget: Target = {
      name: 'floor', url: floor.url, appId: floorInfo.appId, secretKey: floorInfo.secretKey, connectId: 'x',
      people: ours.people.map((p) => ({ ...p, cookie: 'x=y' })), accessTokens: floorTokens, signInCsrf: { cookie: 'x=y', csrf: 'x' },
      refreshTokens: Array.from({ length: 1024 }, () => `eu.${randomBytes(32).toString('base64url')}`),
    };

    log('peer: oidc-provider client_credentials');
    const basic = `Basic ${Buffer.from('bench:bench-secret-bench-secret-bench-secret').toString('base64')}`;
    const peerResult = await load({
      url: peer.url, connections: CONNECTIONS, seconds: SECONDS,
      requests: [{ method: 'POST', path: '/token', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=api' }],
    });
    log(`peer ${peerResult.rps.toFixed(0)} requests/s`);

    const results: ScenarioResult[] = [];
    const only = process.env.BENCH_ONLY?.split(',');
    for (const name of ['connect', 'token', 'me', 'me-browser', 'signin', 'flow', 'refresh'].filter((n) => !only || only.includes(n))) {
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
      const base = await measure(name, floorTarget, floor);
      results.push({
        name,
        rps: round(mine.rps), p50Ms: mine.p50Ms, p95Ms: mine.p95Ms, p99Ms: mine.p99Ms, errors: mine.errors,
        cpuCores: round(mine.cpuCores, 2),
        floorRps: round(base.rps),
        efficiency: round(mine.rps / base.rps, 2),
        peerRatio: round(mine.rps / peerResult.rps, 2),
      });
      log(`  ${name}: ${mine.rps.toFixed(0)}/s (floor ${base.rps.toFixed(0)}/s), p99 ${mine.p99Ms} ms, errors ${mine.errors}`);
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

    if (keygate.output.length > 0) log(`Keygate wrote ${keygate.output.length} bytes of log; the last: ${keygate.output.slice(-300)}`);
    const counts = await countIssued(env);
    const report: BenchReport = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, workers: WORKERS },
      peer: { name: 'oidc-provider 8.8.1, client_credentials, RS256 JWT', rps: round(peerResult.rps), p99Ms: peerResult.p99Ms, errors: peerResult.errors },
      scenarios: results,
      scaling,
      memory: { idleMiB, afterMiB: residentMiB(keygate.child.pid!), ...counts },
    };
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    const { table, svg } = renderReport(report);
    mkdirSync('docs', { recursive: true });
    writeFileSync('docs/benchmarks-scaling.svg', svg);
    process.stdout.write(`${table}\n\nwritten ${file} and docs/benchmarks-scaling.svg\n`);
  } finally {
    for (const server of servers.reverse()) {
      server.child.kill('SIGTERM');
      await new Promise((resolve) => server.child.once('exit', resolve)).catch(() => {});
    }
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

async function countIssued(env: Record<string, string>) {
  let sessions = 0;
  let tokens = 0;
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
