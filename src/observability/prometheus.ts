import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { SignInMethodName } from '../domain/authn/methods.js';
import type { AuditTrail } from '../storage/audit/audit-trail.js';
import type { ErrorCode } from '../domain/errors.js';
import type {
  HttpRequestObservation, MailTransport, Metrics, Protocol, RateLimitName, RevocationReason, SignInOutcome, TokenGrant, ZoneMoveOutcome,
} from '../domain/metrics.js';
import type { ZoneName } from '../domain/zones/zones.js';
import type { StoreErrorKind } from '../storage/availability.js';
import type { StoreName, Stores } from '../storage/stores.js';

/** What a metrics listener serves: the exposition text and its content type. */
export interface MetricsExposition {
  readonly contentType: string;
  text(): Promise<string>;
}

/** How long a scrape waits for a store's audit chain head before leaving it out. */
const PROBE_TIMEOUT_MS = 1000;

// Most answers take milliseconds; a sign-in hashes a password (about a tenth of a second);
// a store that does not answer is cut off by its statement timeout (five seconds).
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

function withinTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A counter in `registry` (never prom-client's global one), labelled only by `labelNames`. */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/**
 * The metrics port on prom-client, with a registry of its own (never the library's global
 * one, so that several Keygates in one process do not collide). Label values come only
 * from the closed sets the port's events take, the store names and the route templates.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();

  readonly #requests = counter(this.registry, 'keygate_http_requests_total',
    'HTTP answers of the public listener, by route template (never the URL asked for), method and status class.',
    ['route', 'method', 'status_class']);

  readonly #latency = new Histogram({
    name: 'keygate_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by route template and method.',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly #signIns = counter(this.registry, 'keygate_sign_in_attempts_total',
    'Attempts to prove who one is during a sign-in, by method (password, email_code, totp) and outcome (proved, failed, throttled).',
    ['method', 'outcome']);

  readonly #codesIssued = counter(this.registry, 'keygate_codes_issued_total',
    'One-time codes handed to apps.',
    ['protocol']);

  readonly #codesRefused = counter(this.registry, 'keygate_codes_refused_total',
    'One-time codes apps presented and got no tokens for, by refusal code.',
    ['protocol', 'reason']);

  readonly #tokensIssued = counter(this.registry, 'keygate_tokens_issued_total',
    'Access and refresh token pairs issued, by grant (authorization_code, refresh_token).',
    ['protocol', 'grant']);

  readonly #tokensRefused = counter(this.registry, 'keygate_tokens_refused_total',
    'Refresh and access tokens apps presented that were refused, by refusal code.',
    ['protocol', 'reason']);

  readonly #revocations = counter(this.registry, 'keygate_token_revocations_total',
    'Times every token descending from one code was revoked because the code or a refresh token was presented twice.',
    ['protocol', 'reason']);

  readonly #rateLimited = counter(this.registry, 'keygate_rate_limit_refusals_total',
    'Requests a rate limit refused, by limit.',
    ['limit']);

  readonly #mail = counter(this.registry, 'keygate_mail_messages_total',
    'Outgoing mail handed to its transport (smtp, outbox), by outcome (sent, failed).',
    ['transport', 'outcome']);

  readonly #zoneMoves = counter(this.registry, 'keygate_zone_moves_total',
    'Moves of a person between legal zones, by outcome (moved, finished_later, abandoned).',
    ['from', 'to', 'outcome']);

  readonly #storeErrors = counter(this.registry, 'keygate_store_errors_total',
    'Failures of a store: unavailable, constraint (often expected), statement, connect, connection_lost.',
    ['store', 'kind']);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  httpRequest({ route, method, status, seconds }: HttpRequestObservation): void {
    // A request no route matched has no template: its path is whatever the client typed.
    const template = route ?? 'unmatched';
    this.#requests.inc({ route: template, method, status_class: statusClass(status) });
    this.#latency.observe({ route: template, method }, seconds);
  }

  signIn(method: SignInMethodName, outcome: SignInOutcome): void {
    this.#signIns.inc({ method, outcome });
  }

  codeIssued(protocol: Protocol): void {
    this.#codesIssued.inc({ protocol });
  }

  codeRefused(protocol: Protocol, reason: ErrorCode): void {
    this.#codesRefused.inc({ protocol, reason });
  }

  tokensIssued(protocol: Protocol, grant: TokenGrant): void {
    this.#tokensIssued.inc({ protocol, grant });
  }

  tokenRefused(protocol: Protocol, reason: ErrorCode): void {
    this.#tokensRefused.inc({ protocol, reason });
  }

  tokensRevoked(protocol: Protocol, reason: RevocationReason): void {
    this.#revocations.inc({ protocol, reason });
  }

  rateLimited(limit: RateLimitName): void {
    this.#rateLimited.inc({ limit });
  }

  mail(transport: MailTransport, outcome: 'sent' | 'failed'): void {
    this.#mail.inc({ transport, outcome });
  }

  zoneMove(from: ZoneName, to: ZoneName, outcome: ZoneMoveOutcome): void {
    this.#zoneMoves.inc({ from, to, outcome });
  }

  /** A store failed (see `openStores`' error listener). */
  storeFailed(store: StoreName, kind: StoreErrorKind): void {
    this.#storeErrors.inc({ store, kind });
  }

  /**
   * Reads, at each scrape, how busy every store's connections are and where each audit
   * chain stands. Values every worker reads alike (a chain's head) keep the largest when
   * the workers' registries are aggregated; per-process ones (connections) add up.
   */
  observeStores(stores: Stores, audit: AuditTrail): void {
    const all = stores.all();
    new Gauge({
      name: 'keygate_store_connections',
      help: 'Connections of each store by state (in_use, idle), and callers waiting for one (waiting).',
      labelNames: ['store', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const store of all) {
          const usage = store.usage();
          this.set({ store: store.name, state: 'in_use' }, usage.inUse);
          this.set({ store: store.name, state: 'idle' }, usage.idle);
          this.set({ store: store.name, state: 'waiting' }, usage.waiting);
        }
      },
    });
    new Gauge({
      name: 'keygate_store_pool_size',
      help: 'Connections each store may open (the embedded store has one).',
      labelNames: ['store'] as const,
      registers: [this.registry],
      collect() {
        for (const store of all) this.set({ store: store.name }, store.usage().size);
      },
    });
    // Both gauges are filled by one probe per store and scrape.
    let probe: Promise<Array<{ store: StoreName; lastId: number; lockWaiters: number } | null>> | undefined;
    const heads = () => {
      probe ??= Promise.all(all.map((store) => withinTimeout(audit.head(store.name)).then(
        (head) => ({ store: store.name, ...head }),
        // A store that does not answer is left out of this scrape (its errors are counted apart).
        () => null,
      ))).finally(() => { setImmediate(() => { probe = undefined; }); });
      return probe;
    };
    const chainGauge = (name: string, help: string, value: (head: { lastId: number; lockWaiters: number }) => number) => new Gauge({
      name, help, labelNames: ['store'] as const, aggregator: 'max', registers: [this.registry],
      async collect() {
        this.reset();
        for (const head of await heads()) if (head) this.set({ store: head.store }, value(head));
      },
    });
    chainGauge('keygate_audit_records',
      "The id of the newest record of each store's audit chain: it grows by one per record appended (increase() gives records appended).",
      (head) => head.lastId);
    chainGauge('keygate_audit_chain_lock_waiters',
      "Transactions waiting, at the scrape, for the lock that serialises appends to each store's audit chain.",
      (head) => head.lockWaiters);
  }

  /** Reads at each scrape whether Redis answers this process (1) or not (0); aggregated, the lowest wins. */
  observeRedis(redis: Redis): void {
    new Gauge({
      name: 'keygate_redis_up',
      help: 'Whether this process is connected to Redis (1) or its rate limits fall back to in-memory counts (0).',
      aggregator: 'min',
      registers: [this.registry],
      collect() {
        this.set(redis.status === 'ready' ? 1 : 0);
      },
    });
  }

  /** The text of this process's registry. */
  readonly exposition: MetricsExposition = {
    contentType: this.registry.contentType,
    text: () => this.registry.metrics(),
  };

  /**
   * In a worker of `keygate serve`: answers the primary's requests for this registry, so
   * that the primary's listener serves the sum of every worker's.
   */
  shareWithPrimary(): void {
    AggregatorRegistry.setRegistries([this.registry]);
    // Constructing one installs the listener that answers the primary.
    new AggregatorRegistry();
  }
}

/** In the primary of `keygate serve`: every worker's registry, aggregated at each scrape. */
export function workersExposition(): MetricsExposition {
  const aggregator = new AggregatorRegistry();
  return { contentType: aggregator.contentType, text: () => aggregator.clusterMetrics() };
}
