// The memory figure of the issue: resident memory of each Keygate worker after 100,000
// sessions and 100,000 issued tokens, against the same workers idle. Sessions and tokens
// live in the stores, so it should stay flat.
//
// Both are made over HTTP through the real server, by the fastest real paths: sessions by
// passwordless sign-in with an emailed code (a password sign-in costs an argon2id
// verification, about 70 a second on this machine at best, so 100,000 would take half an
// hour), tokens by refresh exchanges, each of which issues a new access and refresh token.
import { Redis } from 'ioredis';
import type { CodeInbox } from './inbox.js';
import { cpuSeconds, vmRssMiB, workersOf } from './proc.js';
import { api, form, freshCode, inParallel, isCookie, openPage, RETURN_URL, signedHeaders, type Target } from './protocol.js';

/** What `npm run bench:memory` records as the results' `memory` object. */
export interface MemoryFigures {
  /** Resident memory of each worker (MiB), warmed up, then left idle `settleSeconds`. */
  idleMiB: number[];
  /** The same workers after the fill, left idle `settleSeconds`. */
  afterMiB: number[];
  /** The highest reading of each worker during the fill. */
  peakMiB: number[];
  /** after / idle − 1, of the worker that grew most; the target is at most 0.2. */
  growth: number;
  settleSeconds: number;
  /** Rows in the stores when `afterMiB` was read. */
  sessions: number;
  tokens: number;
  /** What the fill made over HTTP, on how many connections, in how long; each rate over its own stream's time. */
  fill: {
    sessions: number;
    tokens: number;
    seconds: number;
    sessionsPerSecond: number;
    tokensPerSecond: number;
    sessionConnections: number;
    tokenConnections: number;
    /** Sign-ins repeated after a refused request or a code mail that never came, refreshes repeated after a 503. */
    retries: number;
    /** CPU used meanwhile by Keygate (all workers) and by this load generator, in cores. */
    serverCores: number;
    generatorCores: number;
  };
}

export interface MemoryRunOptions {
  readonly target: Target;
  /** The Keygate primary: its workers are measured. */
  readonly pid: number;
  /** The mail Keygate sends, read like the people's inboxes. */
  readonly inbox: CodeInbox;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** Rows in the stores now. */
  readonly count: () => Promise<{ sessions: number; tokens: number }>;
  readonly sessions: number;
  readonly tokens: number;
  readonly log: (message: string) => void;
}

// Idle long enough for V8's memory reducer, which starts collecting a few seconds after
// allocation slows down, so that "after" is what the process holds, not what it just used.
const SETTLE_SECONDS = 10;
const WARM_UP = 500;
// Past a few connections per worker, more only queue (and get shed); sign-ins also wait for their mail.
const SESSION_CONNECTIONS = 32;
const TOKEN_CONNECTIONS = 16;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Warms the sign-in and refresh paths up, reads each worker's memory after it settles,
 * makes sessions and tokens over HTTP until the stores hold `sessions` and `tokens` of
 * them, and reads the memory again after the same settling.
 */
export async function measureMemory(options: MemoryRunOptions): Promise<MemoryFigures> {
  const { target, inbox, log } = options;
  const redis = new Redis(options.redisUrl);
  // An account may ask for five mailed codes in fifteen minutes (so that nobody can flood
  // a person's inbox); a few hundred people signing in a hundred times each is not what
  // that limit is for, so its counters are cleared every second. Nothing else is touched.
  let watchPeak: NodeJS.Timeout | undefined;
  let renewPlace: NodeJS.Timeout | undefined;
  const clearMailLimits = setInterval(() => {
    void (async () => {
      const keys = await redis.keys(`${options.redisPrefix}:mail-requests:*`);
      if (keys.length > 0) await redis.del(...keys);
    })().catch(() => {});
  }, 1000);
  try {
    const signInPlace = async () => `/gateway/${(await api(target, 'POST', '/auth/v2/connect', { request_id: 'memory', scope: [], return_url: RETURN_URL })).connect_id}`;
    let place = await signInPlace();
    const page = await openPage(target, place);
    // A connect is pending for 30 minutes, and the fill can take longer: the browsers move to a fresh one every ten.
    renewPlace = setInterval(() => { signInPlace().then((fresh) => { place = fresh; }, () => {}); }, 10 * 60_000);
    let retries = 0;
    const progress = { sessions: 0, tokens: 0 };
    // A minute without a session or a token made: something refuses every attempt, so stop rather than retry forever.
    let stalled = false;
    const unlessStalled = () => {
      if (stalled) throw new Error('the fill made nothing for a minute; see the Keygate log below');
    };

    /** One passwordless sign-in from the person's own browser: ask for a code, read the mail, enter it. */
    const signIn = async (person: Target['people'][number]): Promise<boolean> => {
      const cookie = `${page.cookie}; ${person.device}`;
      const at = place;
      const asked = await form(target, `${at}/email-code`, { email: person.email, _csrf: page.csrf }, cookie);
      const challenge = asked.cookies.find((c) => isCookie(c, 'keygate-challenge'));
      const code = asked.status === 200 && challenge ? await inbox.code(person.email) : null;
      const entered = code ? await form(target, `${at}/email-code/confirm`, { code, _csrf: page.csrf }, `${cookie}; ${challenge}`) : null;
      if (entered?.status === 303 && entered.cookies.some((c) => isCookie(c, 'keygate-session') && !c.endsWith('='))) return true;
      await sleep(500);
      inbox.forget(person.email);
      return false;
    };

    // Half of the work in each zone: a zone's store appends its audit records one
    // transaction at a time (the chain lock), so one zone's queue would set the pace.
    const zones = [target.people.filter((p) => p.country === 'US'), target.people.filter((p) => p.country !== 'US')];
    const inTurn = (n: number) => zones[n % 2]![Math.floor(n / 2) % zones[n % 2]!.length]!;

    /** Sign-ins on `connections` browsers until `count` succeeded; each browser has its own people, since a new code replaces a person's last. */
    const makeSessions = async (count: number, connections: number) => {
      const browsers = Array.from({ length: connections }, (_, lane) => zones[lane % 2]!.filter((_p, i) => i % (connections / 2) === Math.floor(lane / 2)));
      let made = 0;
      await Promise.all(browsers.filter((people) => people.length > 0).map(async (people) => {
        for (let turn = 0; made < count; turn++) {
          unlessStalled();
          if (await signIn(people[turn % people.length]!)) {
            made += 1;
            progress.sessions += 1;
          } else {
            retries += 1;
          }
        }
      }));
      return made;
    };

    // Live refresh tokens, one chain per connection: each answer's refresh token is used next.
    const chains = await inParallel(TOKEN_CONNECTIONS, 16, async (i) => {
      const ticket = await freshCode(target, inTurn(i), 900_000 + i);
      const pair = await api(target, 'POST', '/auth/v2/token', { request_id: ticket.requestId, connect_id: ticket.connectId, auth_code: ticket.code });
      return pair.refresh_token as string;
    });
    const makeTokens = async (count: number) => {
      let made = 0;
      await Promise.all(chains.map(async (_, chain) => {
        while (made < count) {
          unlessStalled();
          const body = JSON.stringify({ refresh_token: chains[chain] });
          const response = await fetch(`${target.url}/auth/v2/token/refresh`, { method: 'POST', headers: signedHeaders(target, 'POST', '/auth/v2/token/refresh', body), body });
          const answer = await response.json() as { refresh_token?: string };
          // Shed under load (503, nothing committed): the same token is still good.
          if (response.status === 503) {
            retries += 1;
            await sleep(200);
            continue;
          }
          if (!answer.refresh_token) throw new Error(`refresh answered ${response.status} ${JSON.stringify(answer)}`);
          chains[chain] = answer.refresh_token;
          made += 1;
          progress.tokens += 1;
        }
      }));
      return made;
    };

    log(`memory: warming up (${WARM_UP} sign-ins and refreshes)`);
    await Promise.all([makeSessions(WARM_UP, SESSION_CONNECTIONS), makeTokens(WARM_UP)]);
    await sleep(SETTLE_SECONDS * 1000);
    // The same processes are read throughout: a worker that died and was replaced would
    // start small again and hide any growth.
    const workers = workersOf(options.pid);
    const resident = () => {
      const mib = vmRssMiB(workers);
      if (mib.includes(0)) throw new Error(`a Keygate worker (one of ${workers.join(', ')}) is gone: the readings would not be comparable`);
      return mib;
    };
    const idleMiB = resident();
    const before = await options.count();
    log(`memory: idle ${idleMiB.join(' / ')} MiB with ${before.sessions} sessions and ${before.tokens} tokens in the stores`);

    const peakMiB = idleMiB.slice();
    const started = Date.now();
    const cpuAtStart = { server: cpuSeconds(options.pid), generator: process.cpuUsage() };
    let ticks = 0;
    let lastMinute = { ...progress, server: cpuAtStart.server, generator: cpuAtStart.generator };
    watchPeak = setInterval(() => {
      vmRssMiB(workers).forEach((mib, i) => { peakMiB[i] = Math.max(peakMiB[i] ?? 0, mib); });
      if (++ticks % 60 !== 0) return;
      const now = { ...progress, server: cpuSeconds(options.pid), generator: process.cpuUsage() };
      const generator = process.cpuUsage(lastMinute.generator);
      log(`memory: ${ticks} s in: ${now.sessions - lastMinute.sessions} sessions and ${now.tokens - lastMinute.tokens} tokens in the last minute; `
        + `Keygate ${((now.server - lastMinute.server) / 60).toFixed(2)} cores, load generator ${((generator.user + generator.system) / 60e6).toFixed(2)}; at most ${peakMiB.join(' / ')} MiB`);
      if (now.sessions === lastMinute.sessions && now.tokens === lastMinute.tokens) stalled = true;
      lastMinute = now;
    }, 1000);
    const timed = async (what: string, made: Promise<number>) => {
      const count = await made;
      const seconds = (Date.now() - started) / 1000;
      log(`memory: ${count} ${what} in ${seconds.toFixed(0)} s`);
      return { count, perSecond: count / seconds };
    };
    const [sessions, tokens] = await Promise.all([
      timed('sessions', makeSessions(Math.max(0, options.sessions - before.sessions), SESSION_CONNECTIONS)),
      timed('tokens', makeTokens(Math.max(0, options.tokens - before.tokens))),
    ]);
    const seconds = (Date.now() - started) / 1000;
    const serverCores = (cpuSeconds(options.pid) - cpuAtStart.server) / seconds;
    const generator = process.cpuUsage(cpuAtStart.generator);
    clearInterval(watchPeak);
    await sleep(SETTLE_SECONDS * 1000);
    const afterMiB = resident();
    const stored = await options.count();
    const growth = Math.max(...afterMiB.map((mib, i) => mib / idleMiB[i]! - 1));
    log(`memory: after ${afterMiB.join(' / ')} MiB with ${stored.sessions} sessions and ${stored.tokens} tokens (growth ${(growth * 100).toFixed(1)} %)`);
    const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
    return {
      idleMiB, afterMiB, peakMiB, growth: round(growth, 3), settleSeconds: SETTLE_SECONDS, ...stored,
      fill: {
        sessions: sessions.count, tokens: tokens.count, seconds: round(seconds),
        sessionsPerSecond: round(sessions.perSecond), tokensPerSecond: round(tokens.perSecond),
        sessionConnections: SESSION_CONNECTIONS, tokenConnections: TOKEN_CONNECTIONS, retries,
        serverCores: round(serverCores, 2), generatorCores: round((generator.user + generator.system) / 1e6 / seconds, 2),
      },
    };
  } finally {
    clearInterval(renewPlace);
    clearInterval(watchPeak);
    clearInterval(clearMailLimits);
    redis.disconnect();
  }
}
