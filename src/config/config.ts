import { z } from 'zod';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { parseTrustedProxies } from '../domain/protection/ip.js';
import { ZONE_NAMES, type ZoneName } from '../domain/zones/zones.js';

/** Where one key comes from: its base64 value, or a file holding it. */
export interface KeySource {
  readonly variable: string;
  readonly value?: string;
  readonly file?: string;
}

export interface StoreKeys {
  /** Wraps the per-person data keys (zones) or the app private keys (control plane). */
  readonly master: KeySource;
  /** Master keys being retired: they still open what they sealed until a rotation completes. */
  readonly previous: KeySource;
}

export interface ZoneKeys extends StoreKeys {
  /** Keys the HMAC blind indexes (people by email in a zone; private-app lists in the control plane). */
  readonly index: KeySource;
}

/** The certificate and private key the main listener serves HTTPS with (PEM, read at start). */
export interface TlsMaterial {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface KeygateConfig {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  /** Absolute base URL people and apps reach the gateway at, without a trailing slash. */
  readonly publicUrl: string;
  /** Built-in TLS: when set, the main listener serves HTTPS (HTTP/1.1) instead of plain HTTP. */
  readonly tls?: TlsMaterial;
  /** A plain-HTTP listener that answers every request with a 308 to the same path on the public https URL. */
  readonly httpRedirectPort?: number;
  /** The operator says TLS ends at a proxy in front of Keygate (whose https:// address is the public URL). */
  readonly behindTlsProxy: boolean;
  /**
   * The listener of `/metrics` (Prometheus), apart from the public one; off when unset. It
   * binds loopback unless told otherwise: what it shows is for the operator, not the Internet.
   */
  readonly metrics?: Readonly<{ host: string; port: number }>;
  readonly dataDir: string;
  readonly logLevel: string;
  readonly databaseUrls: Readonly<{ control?: string } & Partial<Record<ZoneName, string>>>;
  readonly database: Readonly<{ poolSize: number; statementTimeoutMs: number; connectTimeoutMs: number }>;
  /** Shared ephemeral state (rate limits) across nodes; without it each node keeps its own. */
  readonly redis: Readonly<{ url?: string; prefix: string }>;
  readonly keys: Readonly<{ control: ZoneKeys } & Record<ZoneName, ZoneKeys>>;
  readonly rsaBits: number;
  /** Worker processes of `keygate serve` on PostgreSQL (the embedded default always runs one). */
  readonly workers: number;
  /** Password sign-in attempts one client address may make per minute. */
  readonly signInAttemptsPerAddress: number;
  readonly authCodeTtlSeconds: number;
  readonly accessTokenTtlMinutes: number;
  readonly refreshTokenTtlDays: number;
  readonly connectTtlMinutes: number;
  readonly sessionIdleMinutes: number;
  readonly sessionAbsoluteHours: number;
  /** Proxies whose `X-Forwarded-For` is believed (addresses or CIDR subnets); none by default. */
  readonly trustedProxies: readonly string[];
  /** Outgoing mail: SMTP when set, otherwise the outbox folder in the data directory. */
  readonly mail: Readonly<{ smtpUrl?: string; from: string }>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const intFrom = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** An unset variable and an empty one mean the same. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema.optional());

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: intFrom(0, 65535, 8080),
  KEYGATE_HOST: z.string().min(1).default('0.0.0.0'),
  KEYGATE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  KEYGATE_TLS_CERT: unsetIfEmpty(z.string().trim()),
  KEYGATE_TLS_KEY: unsetIfEmpty(z.string().trim()),
  KEYGATE_HTTP_REDIRECT_PORT: unsetIfEmpty(z.coerce.number().int().min(1).max(65535)),
  KEYGATE_BEHIND_TLS_PROXY: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  KEYGATE_METRICS_PORT: unsetIfEmpty(z.coerce.number({ error: 'must be a port number (1-65535)' }).int('must be a port number (1-65535)')
    .min(1, 'must be a port number (1-65535)').max(65535, 'must be a port number (1-65535)')),
  KEYGATE_METRICS_HOST: unsetIfEmpty(z.string().trim()),
  KEYGATE_DATA_DIR: z.string().min(1).default('./data'),
  KEYGATE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KEYGATE_RSA_BITS: z.coerce.number().int().refine((n) => [2048, 3072, 4096].includes(n), 'must be 2048, 3072 or 4096').default(2048),
  // The spec caps the one-time code at 60 s: a longer life only widens the window of a leaked code.
  KEYGATE_AUTH_CODE_TTL_SECONDS: intFrom(5, 60, 60),
  KEYGATE_ACCESS_TOKEN_TTL_MINUTES: intFrom(1, 60, 15),
  KEYGATE_REFRESH_TOKEN_TTL_DAYS: intFrom(1, 365, 30),
  KEYGATE_CONNECT_TTL_MINUTES: intFrom(1, 24 * 60, 30),
  KEYGATE_SESSION_IDLE_MINUTES: intFrom(1, 24 * 60, 30),
  KEYGATE_SESSION_ABSOLUTE_HOURS: intFrom(1, 24 * 30, 12),
  KEYGATE_DB_POOL_SIZE: intFrom(1, 500, 10),
  // A stuck query must not hold a request for ever; connecting to a server that is down
  // must fail well within the 2 s a client waits for a clear 503.
  KEYGATE_DB_STATEMENT_TIMEOUT_MS: intFrom(100, 600_000, 5000),
  KEYGATE_DB_CONNECT_TIMEOUT_MS: intFrom(100, 60_000, 1500),
  KEYGATE_REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  KEYGATE_WORKERS: intFrom(1, 64, availableParallelism()),
  KEYGATE_SIGNIN_ATTEMPTS_PER_ADDRESS: intFrom(1, 1_000_000, 100),
  KEYGATE_TRUSTED_PROXIES: z.string().optional(),
  KEYGATE_SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  KEYGATE_MAIL_FROM: z.string().regex(/^[^\r\n]{3,200}$/, 'must be one line').default('Keygate <no-reply@localhost>'),
  KEYGATE_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('keygate'),
});

function keySource(env: NodeJS.ProcessEnv, variable: string): KeySource {
  const value = env[variable]?.trim() || undefined;
  const file = env[`${variable}_FILE`]?.trim() || undefined;
  return Object.freeze({ variable, value, file });
}

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new ConfigError(`${variable}: cannot read ${file}: ${why}`);
  }
}

/**
 * Reads the certificate and key of built-in TLS: both or neither, readable, and a pair
 * OpenSSL accepts. Checked here so that a wrong file stops the start with one clear line.
 */
function tlsMaterial(certFile: string | undefined, keyFile: string | undefined): TlsMaterial | undefined {
  if (!certFile && !keyFile) return undefined;
  if (!certFile) throw new ConfigError('KEYGATE_TLS_CERT is missing: KEYGATE_TLS_KEY is set, and built-in TLS needs both KEYGATE_TLS_CERT and KEYGATE_TLS_KEY');
  if (!keyFile) throw new ConfigError('KEYGATE_TLS_KEY is missing: KEYGATE_TLS_CERT is set, and built-in TLS needs both KEYGATE_TLS_CERT and KEYGATE_TLS_KEY');
  const cert = readPem('KEYGATE_TLS_CERT', certFile);
  const key = readPem('KEYGATE_TLS_KEY', keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(`KEYGATE_TLS_CERT and KEYGATE_TLS_KEY (${certFile}, ${keyFile}) are not a usable PEM certificate and matching private key: ${(error as Error).message}`);
  }
  return Object.freeze({ certFile: path.resolve(certFile), keyFile: path.resolve(keyFile), cert, key });
}

/**
 * Where `/metrics` listens: on a port of its own, never the public one, and on loopback
 * unless the operator names another address. An IP address only: a host name could
 * resolve to a public interface without anyone noticing.
 */
function metricsListener(
  e: { PORT: number; KEYGATE_METRICS_PORT?: number; KEYGATE_METRICS_HOST?: string },
  httpRedirectPort: number | undefined,
): KeygateConfig['metrics'] {
  const port = e.KEYGATE_METRICS_PORT;
  const host = e.KEYGATE_METRICS_HOST;
  if (port === undefined) {
    if (host !== undefined) throw new ConfigError('KEYGATE_METRICS_HOST is set but KEYGATE_METRICS_PORT is not: metrics are served only on the port KEYGATE_METRICS_PORT names');
    return undefined;
  }
  if (port === e.PORT) throw new ConfigError('KEYGATE_METRICS_PORT must differ from PORT: metrics are never served on the public listener');
  if (port === httpRedirectPort) throw new ConfigError('KEYGATE_METRICS_PORT must differ from KEYGATE_HTTP_REDIRECT_PORT');
  if (host !== undefined && isIP(host) === 0) {
    throw new ConfigError(`KEYGATE_METRICS_HOST must be an IP address to listen on, such as 127.0.0.1 (the default), ::1 or 0.0.0.0; got "${host}"`);
  }
  return Object.freeze({ host: host ?? '127.0.0.1', port });
}

function databaseUrl(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const url = env[variable]?.trim();
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${variable} is not a valid URL`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(`${variable} must be a postgres:// URL`);
  }
  return url;
}

/**
 * Reads the configuration once from the environment, validates it and freezes it.
 * This is the only module that reads `process.env`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): KeygateConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const tls = tlsMaterial(e.KEYGATE_TLS_CERT, e.KEYGATE_TLS_KEY);
  const publicUrl = (e.KEYGATE_PUBLIC_URL ?? `${tls ? 'https' : 'http'}://localhost:${e.PORT}`).replace(/\/+$/, '');
  const publicHttps = publicUrl.startsWith('https:');
  const behindTlsProxy = e.KEYGATE_BEHIND_TLS_PROXY === 'true';
  if (tls && !publicHttps) {
    throw new ConfigError('KEYGATE_PUBLIC_URL must be an https:// URL when Keygate serves HTTPS itself (KEYGATE_TLS_CERT and KEYGATE_TLS_KEY are set)');
  }
  // Behind a proxy that ends TLS, people reach Keygate at the proxy's https:// address:
  // an http:// public URL there would drop Secure and __Host- from every cookie and HSTS,
  // and mail http:// links.
  if (behindTlsProxy && !publicHttps) {
    throw new ConfigError('KEYGATE_BEHIND_TLS_PROXY=true says a proxy in front of Keygate ends TLS, so people reach Keygate at its https:// address: '
      + 'set KEYGATE_PUBLIC_URL to that https:// URL');
  }
  // People's passwords, codes and tokens must not cross the network in clear text.
  if (production && !publicHttps) {
    throw new ConfigError('KEYGATE_PUBLIC_URL is http:// in production: give the https:// URL people reach Keygate at, and serve HTTPS '
      + '(KEYGATE_TLS_CERT and KEYGATE_TLS_KEY, or a TLS proxy in front with KEYGATE_BEHIND_TLS_PROXY=true)');
  }
  // The outbox folder is a development stand-in: it keeps codes, links and addresses in plain text.
  if (production && !e.KEYGATE_SMTP_URL) {
    throw new ConfigError('KEYGATE_SMTP_URL is required in production: without it mail goes to the outbox folder, '
      + 'a development stand-in that keeps sign-in codes, reset links and addresses in plain text');
  }
  const httpRedirectPort = e.KEYGATE_HTTP_REDIRECT_PORT;
  if (httpRedirectPort !== undefined && !publicHttps) {
    throw new ConfigError('KEYGATE_HTTP_REDIRECT_PORT redirects to HTTPS, so KEYGATE_PUBLIC_URL must be an https:// URL');
  }
  if (httpRedirectPort !== undefined && httpRedirectPort === e.PORT) {
    throw new ConfigError('KEYGATE_HTTP_REDIRECT_PORT must differ from PORT');
  }

  const metrics = metricsListener(e, httpRedirectPort);

  let trustedProxies: string[];
  try {
    trustedProxies = parseTrustedProxies(e.KEYGATE_TRUSTED_PROXIES);
  } catch (error) {
    throw new ConfigError(`KEYGATE_TRUSTED_PROXIES: ${(error as Error).message}`);
  }

  const zoneKeys = Object.fromEntries(
    ZONE_NAMES.map((zone) => {
      const upper = zone.toUpperCase();
      return [zone, Object.freeze({
        master: keySource(env, `KEYGATE_MASTER_KEY_${upper}`),
        previous: keySource(env, `KEYGATE_MASTER_KEY_${upper}_PREVIOUS`),
        index: keySource(env, `KEYGATE_INDEX_KEY_${upper}`),
      })];
    }),
  ) as Record<ZoneName, ZoneKeys>;

  const zoneUrls = Object.fromEntries(
    ZONE_NAMES.map((zone) => [zone, databaseUrl(env, `KEYGATE_DATABASE_URL_${zone.toUpperCase()}`)]),
  ) as Partial<Record<ZoneName, string>>;

  return Object.freeze({
    production,
    host: e.KEYGATE_HOST,
    port: e.PORT,
    publicUrl,
    tls,
    httpRedirectPort,
    behindTlsProxy,
    metrics,
    dataDir: path.resolve(e.KEYGATE_DATA_DIR),
    logLevel: e.KEYGATE_LOG_LEVEL,
    databaseUrls: Object.freeze({ control: databaseUrl(env, 'KEYGATE_DATABASE_URL_CONTROL'), ...zoneUrls }),
    database: Object.freeze({
      poolSize: e.KEYGATE_DB_POOL_SIZE,
      statementTimeoutMs: e.KEYGATE_DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: e.KEYGATE_DB_CONNECT_TIMEOUT_MS,
    }),
    redis: Object.freeze({ url: e.KEYGATE_REDIS_URL, prefix: e.KEYGATE_REDIS_PREFIX }),
    keys: Object.freeze({
      control: Object.freeze({
        master: keySource(env, 'KEYGATE_MASTER_KEY_CONTROL'),
        previous: keySource(env, 'KEYGATE_MASTER_KEY_CONTROL_PREVIOUS'),
        index: keySource(env, 'KEYGATE_INDEX_KEY_CONTROL'),
      }),
      ...zoneKeys,
    }),
    rsaBits: e.KEYGATE_RSA_BITS,
    workers: e.KEYGATE_WORKERS,
    signInAttemptsPerAddress: e.KEYGATE_SIGNIN_ATTEMPTS_PER_ADDRESS,
    authCodeTtlSeconds: e.KEYGATE_AUTH_CODE_TTL_SECONDS,
    accessTokenTtlMinutes: e.KEYGATE_ACCESS_TOKEN_TTL_MINUTES,
    refreshTokenTtlDays: e.KEYGATE_REFRESH_TOKEN_TTL_DAYS,
    connectTtlMinutes: e.KEYGATE_CONNECT_TTL_MINUTES,
    sessionIdleMinutes: e.KEYGATE_SESSION_IDLE_MINUTES,
    sessionAbsoluteHours: e.KEYGATE_SESSION_ABSOLUTE_HOURS,
    trustedProxies: Object.freeze(trustedProxies),
    mail: Object.freeze({ smtpUrl: e.KEYGATE_SMTP_URL, from: e.KEYGATE_MAIL_FROM }),
  });
}

/** Loads `.env` from the working directory into the environment, when there is one. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
