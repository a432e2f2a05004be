import http from 'node:http';
import type { MetricsExposition } from './prometheus.js';

export class MetricsListenError extends Error {
  override name = 'MetricsListenError';
}

/**
 * The listener of `KEYGATE_METRICS_PORT`: `GET /metrics` and nothing else, apart from the
 * public listener (which has no such route), so that what it shows stays with whoever
 * may reach that address (loopback by default). A failed collection says so and no more.
 */
export async function startMetricsListener(exposition: MetricsExposition, where: { host: string; port: number }): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const headers = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
    if (path !== '/metrics') {
      response.writeHead(404, headers).end('Only /metrics is served here.\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end('Use GET.\n');
      return;
    }
    exposition.text().then(
      (text) => response.writeHead(200, { ...headers, 'Content-Type': exposition.contentType }).end(request.method === 'HEAD' ? undefined : text),
      () => response.writeHead(503, headers).end('The metrics could not be collected; try again.\n'),
    );
  });
  // A scraper that holds a connection open must not hold up a shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(new MetricsListenError(`KEYGATE_METRICS_PORT: cannot listen on ${where.host}:${where.port} (${error.code ?? error.message})`));
    server.once('error', failed);
    server.listen({ host: where.host, port: where.port }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return server;
}

/** Stops the listener and drops its connections (a scraper's keep-alive ones too). */
export function stopMetricsListener(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
