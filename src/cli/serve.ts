import cluster from 'node:cluster';
import type http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeygateConfig } from '../config/config.js';
import { buildHttpsRedirectServer } from '../http/server.js';
import { createKeygate } from '../keygate.js';
import { createLogger, logsForAPerson } from '../logger.js';
import { startMetricsListener, stopMetricsListener } from '../observability/metrics-listener.js';
import { workersExposition } from '../observability/prometheus.js';
import { startOperatorSocket } from './operator-socket.js';

const PURGE_EVERY_MS = 10 * 60 * 1000;
/**
 * After a stop signal, how long requests a client already sent on an open keep-alive
 * connection still get read and answered. Without it a request that is on the wire when
 * the signal comes would find its connection closed as "idle" and fail.
 */
const DRAIN_OPEN_CONNECTIONS_MS = 500;

const usesEmbeddedStores = (config: KeygateConfig) =>
  !(config.databaseUrls.control && config.databaseUrls.eu && config.databaseUrls.us);

/**
 * `keygate serve`. One event loop uses one core, so on PostgreSQL the server runs
 * `KEYGATE_WORKERS` worker processes sharing the port (node:cluster); an embedded store
 * belongs to a single process, so on the embedded default it runs one.
 */
export async function serve(config: KeygateConfig): Promise<void> {
  const workers = usesEmbeddedStores(config) ? 1 : config.workers;
  if (workers > 1 && cluster.isPrimary) return superviseWorkers(config, workers);
  return serveInThisProcess(config, cluster.isWorker);
}

/** Listeners each serving process opens: the main one, and the HTTPS redirect when configured. */
const listenersOf = (config: KeygateConfig) => (config.httpRedirectPort === undefined ? 1 : 2);

function listenOn(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const metricsUrl = ({ host, port }: { host: string; port: number }) => `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;

async function serveInThisProcess(config: KeygateConfig, isWorker: boolean): Promise<void> {
  const keygate = await createKeygate({ config });
  let operatorSocket: Awaited<ReturnType<typeof startOperatorSocket>> | undefined;
  let metricsListener: http.Server | undefined;
  const redirect = config.httpRedirectPort === undefined ? undefined : buildHttpsRedirectServer(config.publicUrl);
  try {
    if (usesEmbeddedStores(config)) operatorSocket = await startOperatorSocket(keygate);
    // A worker's counts are served by the primary's listener, summed with the other workers'.
    if (isWorker) keygate.prometheus?.shareWithPrimary();
    else if (config.metrics && keygate.prometheus) metricsListener = await startMetricsListener(keygate.prometheus.exposition, config.metrics);
    await keygate.http.listen({ host: config.host, port: config.port });
    if (redirect) await listenOn(redirect, config.host, config.httpRedirectPort!);
  } catch (error) {
    if (redirect?.listening) redirect.close();
    if (metricsListener) await stopMetricsListener(metricsListener);
    await operatorSocket?.close();
    await keygate.close();
    throw error;
  }
  if (config.metrics && !isWorker) keygate.logger.info({ metrics: metricsUrl(config.metrics) }, `metrics are served at ${metricsUrl(config.metrics)}`);
  if (redirect && !isWorker) {
    keygate.logger.info({ port: config.httpRedirectPort }, `plain HTTP on port ${config.httpRedirectPort} redirects to ${config.publicUrl}`);
  }
  if (!isWorker) keygate.logger.info({ url: config.publicUrl }, `Keygate is serving ${config.publicUrl}`);

  // Data minimisation: what has expired is deleted, on every node (the deletes are idempotent).
  const purge = setInterval(() => {
    keygate.purgeExpired().then(
      (purged) => keygate.logger.info({ purged }, 'deleted expired records'),
      (error: Error) => keygate.logger.warn({ err: error.message }, 'could not delete expired records; will retry'),
    );
  }, PURGE_EVERY_MS);
  purge.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    keygate.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    // In-flight requests are bounded by the statement timeout; if something still hangs,
    // leave before an orchestrator's kill does, and say so.
    setTimeout(() => {
      keygate.logger.error('shutdown did not finish within 9 s; exiting');
      process.exit(1);
    }, 9000).unref();
    clearInterval(purge);
    // Stop accepting connections at once (the listening socket only; http.Server#close
    // would also drop open connections whose next request is still on the wire). Every
    // answer from now on says `Connection: close`, so clients open no new request here.
    const server = keygate.http.server;
    server.prependListener('request', (_request, response) => { response.shouldKeepAlive = false; });
    net.Server.prototype.close.call(server);
    // The redirect answers at once and closes each connection after its answer.
    redirect?.close();
    await sleep(DRAIN_OPEN_CONNECTIONS_MS);
    // Connections busy now become idle once their answer is sent; close each as it does,
    // so that keep-alive clients do not hold the shutdown open.
    const sweep = setInterval(() => keygate.http.server.closeIdleConnections(), 100);
    redirect?.closeAllConnections();
    if (metricsListener) await stopMetricsListener(metricsListener);
    await operatorSocket?.close();
    await keygate.close();
    clearInterval(sweep);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A worker whose supervisor died must not linger holding the port.
  if (isWorker) process.on('disconnect', () => void stop('supervisor gone'));
}

async function superviseWorkers(config: KeygateConfig, count: number): Promise<void> {
  const logger = createLogger(config.logLevel, undefined, { pretty: logsForAPerson(config.production) });
  // The primary serves no request; it answers scrapes with every worker's counts summed.
  const metricsListener = config.metrics ? await startMetricsListener(workersExposition(), config.metrics) : undefined;
  if (config.metrics) logger.info({ metrics: metricsUrl(config.metrics) }, `metrics are served at ${metricsUrl(config.metrics)}`);
  let stopping = false;
  // A worker serves once each of its listeners (main, and the HTTPS redirect) listens.
  const listeners = new Map<number, number>();
  const serving = new Set<number>();
  const fork = () => cluster.fork();
  cluster.on('listening', (worker) => {
    const opened = (listeners.get(worker.id) ?? 0) + 1;
    listeners.set(worker.id, opened);
    if (opened !== listenersOf(config)) return;
    const first = serving.size < count;
    serving.add(worker.id);
    if (first && serving.size === count) {
      logger.info({ url: config.publicUrl, workers: count, httpRedirectPort: config.httpRedirectPort }, `Keygate is serving ${config.publicUrl} with ${count} workers`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'a worker died; starting another');
    fork();
  });
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down the workers');
    if (metricsListener) void stopMetricsListener(metricsListener);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), 9500).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < count; i++) fork();
}
