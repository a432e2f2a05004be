import type { MemoryFigures } from './memory.js';

/** One scenario's figures, as `bench/results/*.json` holds them. */
export interface ScenarioResult {
  name: string;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errors: number;
  cpuCores: number;
  floorRps: number;
  /** Our throughput over the floor server's, in the same run. */
  efficiency: number;
  /** Our throughput over oidc-provider's client_credentials, in the same run. */
  peerRatio: number;
  /** The same over oidc-provider keeping its (opaque) tokens in Redis. */
  peerDurableRatio?: number;
  /** CPU time one request (one flow) costs in Keygate's processes, PostgreSQL's and Redis's, in µs. */
  cpuUsPerRequest?: { keygate: number; postgres: number; redis: number };
  /** The same for the floor server, which does the private-key work only. */
  floorCpuUsPerRequest?: number;
  transactionsPerRequest?: number;
  walSyncsPerRequest?: number;
  redisCommandsPerRequest?: number;
}

/** One run's figures; `npm run bench` fills all but `memory`, `npm run bench:memory` only `memory`. */
export interface BenchReport {
  machine: { cpus: number; model: string; memoryGiB: number; node: string; workers: number; store?: 'postgresql' | 'pglite' };
  peer?: { name: string; rps: number; p99Ms: number; errors: number };
  durablePeer?: { name: string; rps: number; p99Ms: number; errors: number };
  scenarios?: ScenarioResult[];
  /** The floor's RSA work on worker processes (`cluster`), on a worker-thread pool (`threads`) or through Web Crypto (`async`). */
  floorModes?: Array<{ scenario: string; mode: string; rps: number; p50Ms: number; p99Ms: number; errors: number; cpuCores: number }>;
  scaling?: Array<{ scenario: string; connections: number; rps: number; p99Ms: number; errors: number }>;
  /** Resident memory per worker just after start and after the scenarios, with what the stores then held. */
  resident?: { startMiB: number[]; afterRunMiB: number[]; sessions: number; tokens: number };
  memory?: MemoryFigures;
}

// Keycloak's published sizing, per vCPU: 120 client-credential grants/s, 15 password sign-ins/s.
const KEYCLOAK_PER_CORE: Record<string, number> = { token: 120, signin: 15 };

export function renderReport(report: BenchReport): { table: string; svg: string } {
  const cores = report.machine.cpus;
  const ms = (value: number) => (Math.round(value * 10) / 10).toString();
  const parts: string[] = [];
  if (report.scenarios) {
    parts.push([
      '| scenario | requests/s | per core | p50 ms | p95 ms | p99 ms | errors | server CPU (cores) | floor/s | efficiency | peer ratio | Keycloak per core |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...report.scenarios.map((s) => `| ${s.name}${s.name === 'flow' ? ' (flows)' : ''} | ${s.rps} | ${Math.round(s.rps / cores)} | ${ms(s.p50Ms)} | ${ms(s.p95Ms)} | ${ms(s.p99Ms)} | ${s.errors} | ${s.cpuCores} | ${s.floorRps} | ${s.efficiency} | ${s.peerRatio} | ${KEYCLOAK_PER_CORE[s.name] ?? '–'} |`),
    ].join('\n'));
  }
  if (report.scenarios?.some((s) => s.cpuUsPerRequest)) {
    parts.push([
      '| scenario | CPU µs per request: Keygate | PostgreSQL | Redis | total | floor | total / floor | transactions | WAL syncs | Redis commands |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...report.scenarios.filter((s) => s.cpuUsPerRequest).map((s) => {
        const cpu = s.cpuUsPerRequest!;
        const total = cpu.keygate + cpu.postgres + cpu.redis;
        const ratio = s.floorCpuUsPerRequest ? Math.round((total / s.floorCpuUsPerRequest) * 100) / 100 : '–';
        return `| ${s.name}${s.name === 'flow' ? ' (per flow)' : ''} | ${cpu.keygate} | ${cpu.postgres} | ${cpu.redis} | ${total} | ${s.floorCpuUsPerRequest ?? '–'} | ${ratio} | ${s.transactionsPerRequest} | ${s.walSyncsPerRequest} | ${s.redisCommandsPerRequest} |`;
      }),
    ].join('\n'));
  }
  if (report.peer) parts.push(`Peer (${report.peer.name}): ${report.peer.rps} requests/s, p99 ${ms(report.peer.p99Ms)} ms, ${report.peer.errors} errors.`);
  if (report.durablePeer) {
    const ratios = (report.scenarios ?? []).filter((s) => s.peerDurableRatio !== undefined).map((s) => `${s.name} ${s.peerDurableRatio}`).join(', ');
    parts.push(`Durable peer (${report.durablePeer.name}): ${report.durablePeer.rps} requests/s, p99 ${ms(report.durablePeer.p99Ms)} ms, ${report.durablePeer.errors} errors; Keygate over it: ${ratios}.`);
  }
  if (report.resident) {
    parts.push(`Resident memory per worker: at start ${report.resident.startMiB.join(' / ')} MiB, after the run ${report.resident.afterRunMiB.join(' / ')} MiB `
      + (report.resident.sessions < 0 ? '(PGlite: the stores are not counted).' : `(${report.resident.sessions} sessions and ${report.resident.tokens} access tokens in the stores).`));
  }
  if (report.floorModes?.length) {
    const cluster = (scenario: string) => report.floorModes!.find((f) => f.scenario === scenario && f.mode === 'cluster')?.rps ?? 0;
    parts.push([
      '| floor work | mode | requests/s | × cluster | p50 ms | p99 ms | errors | server CPU (cores) |',
      '|---|---|---:|---:|---:|---:|---:|---:|',
      ...report.floorModes.map((f) => `| ${f.scenario} | ${f.mode} | ${f.rps} | ${Math.round((f.rps / cluster(f.scenario)) * 100) / 100} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${f.errors} | ${f.cpuCores} |`),
    ].join('\n'));
  }
  if (report.scaling) {
    parts.push(['| scenario | connections | requests/s | p99 ms | errors |', '|---|---:|---:|---:|---:|',
      ...report.scaling.map((s) => `| ${s.scenario} | ${s.connections} | ${s.rps} | ${ms(s.p99Ms)} | ${s.errors} |`)].join('\n'));
  }
  if (report.memory) {
    const m = report.memory;
    parts.push(['| worker | idle MiB | after MiB | peak MiB | growth |', '|---|---:|---:|---:|---:|',
      ...m.idleMiB.map((idle, i) => `| ${i + 1} | ${idle} | ${m.afterMiB[i]} | ${m.peakMiB[i]} | ${Math.round((m.afterMiB[i]! / idle - 1) * 1000) / 10} % |`)].join('\n'));
    parts.push(`${m.sessions} sessions and ${m.tokens} access tokens in the stores; the fill made ${m.fill.sessions} sessions (${m.fill.sessionsPerSecond}/s) `
      + `and ${m.fill.tokens} tokens (${m.fill.tokensPerSecond}/s) over HTTP in ${m.fill.seconds} s, Keygate using ${m.fill.serverCores} cores; `
      + `readings after ${m.settleSeconds} s idle.`);
  }
  return { table: parts.join('\n\n'), svg: report.scaling ? scalingChart(report) : '' };
}

/** Throughput (solid) and p99 latency (dashed) against connections, log scale on x. */
function scalingChart(report: BenchReport): string {
  const width = 640;
  const height = 320;
  const pad = { left: 60, right: 60, top: 30, bottom: 40 };
  const points = report.scaling ?? [];
  const levels = [...new Set(points.map((s) => s.connections))].sort((a, b) => a - b);
  const maxRps = Math.max(1, ...points.map((s) => s.rps));
  const maxP99 = Math.round(Math.max(1, ...points.map((s) => s.p99Ms)));
  const x = (c: number) => pad.left + (levels.indexOf(c) / Math.max(1, levels.length - 1)) * (width - pad.left - pad.right);
  const yRps = (v: number) => height - pad.bottom - (v / maxRps) * (height - pad.top - pad.bottom);
  const yP99 = (v: number) => height - pad.bottom - (v / maxP99) * (height - pad.top - pad.bottom);
  const colours: Record<string, string> = { me: '#2454c5', token: '#c5242f' };
  const lines = Object.keys(colours).map((name) => {
    const ofScenario = points.filter((s) => s.scenario === name);
    const rps = ofScenario.map((p) => `${x(p.connections).toFixed(1)},${yRps(p.rps).toFixed(1)}`).join(' ');
    const p99 = ofScenario.map((p) => `${x(p.connections).toFixed(1)},${yP99(p.p99Ms).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${colours[name]}" stroke-width="2" points="${rps}"/>`
      + `<polyline fill="none" stroke="${colours[name]}" stroke-width="1.5" stroke-dasharray="5 4" points="${p99}"/>`;
  }).join('');
  const ticks = levels.map((c) => `<text x="${x(c)}" y="${height - pad.bottom + 16}" text-anchor="middle">${c}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">
<rect width="${width}" height="${height}" fill="#fff"/>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#888"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#888"/>
<line x1="${width - pad.right}" y1="${pad.top}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#888"/>
${ticks}
<text x="${width / 2}" y="${height - 6}" text-anchor="middle">concurrent connections</text>
<text x="${pad.left - 8}" y="${pad.top - 10}" text-anchor="middle">${maxRps}/s</text>
<text x="${width - pad.right + 8}" y="${pad.top - 10}" text-anchor="middle">${maxP99} ms</text>
<text x="${pad.left + 10}" y="${pad.top + 12}" fill="#2454c5">/me</text>
<text x="${pad.left + 50}" y="${pad.top + 12}" fill="#c5242f">token</text>
<text x="${pad.left + 110}" y="${pad.top + 12}" fill="#444">solid: requests/s (left) · dashed: p99 latency (right)</text>
${lines}
</svg>
`;
}
