// Re-renders the tables and the scaling chart of saved runs; a scenario run and a memory
// run given together are merged, as docs/benchmark-results.json holds them:
// `node --import tsx bench/render.ts bench/results/<run>.json [bench/results/memory-<run>.json]`
import { readFileSync, writeFileSync } from 'node:fs';
import { renderReport, type BenchReport } from './report.js';

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: bench/render.ts <results.json> [<memory results.json>]');
const report = Object.assign({}, ...files.map((file) => JSON.parse(readFileSync(file, 'utf8')))) as BenchReport;
const { table, svg } = renderReport(report);
if (report.scaling) writeFileSync('docs/benchmarks-scaling.svg', svg);
process.stdout.write(`${table}\n`);
