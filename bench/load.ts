import autocannon from 'autocannon';

/** One measured run: throughput, latency percentiles from every response, and errors. */
export interface Measurement {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly requests: number;
  readonly seconds: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds?: number;
  /** Stop after this many requests instead of after `seconds`. */
  readonly amount?: number;
  readonly requests: autocannon.Request[];
  /** Statuses that count as success besides 2xx (a gateway form answers 303). */
  readonly okStatuses?: readonly number[];
}

const percentile = (sorted: number[], p: number) =>
  (sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10);

/** Drives `url` with autocannon over loopback; the same generator for every server compared. */
export function load(options: LoadOptions): Promise<Measurement> {
  const latencies: number[] = [];
  let failed = 0;
  const ok = new Set(options.okStatuses ?? []);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let lastResponse = started;
    const instance = autocannon({
      url: options.url,
      connections: options.connections,
      ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 10 }),
      requests: options.requests,
      timeout: 10,
    }, (error, result) => {
      if (error) return reject(error);
      // A fixed count is timed to its last response: autocannon ends such a run on a whole second.
      const seconds = Number((options.amount ? lastResponse : process.hrtime.bigint()) - started) / 1e9;
      latencies.sort((a, b) => a - b);
      const completed = latencies.length;
      resolve({
        rps: completed / Math.min(seconds, options.amount ? seconds : (options.seconds ?? 10)),
        p50Ms: percentile(latencies, 50),
        p95Ms: percentile(latencies, 95),
        p99Ms: percentile(latencies, 99),
        errors: failed + result.errors + result.timeouts,
        requests: completed,
        seconds,
      });
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      lastResponse = process.hrtime.bigint();
      if (!(status >= 200 && status < 300) && !ok.has(status)) failed += 1;
    });
  });
}
