// Re-renders the table and the scaling chart of a saved run:
// `node --import tsx bench/render.ts bench/results/<run>.json`
import { readFileSync, writeFileSync } from 'node:fs';
import { renderReport, type BenchReport } from './report.js';

const file = process.argv[2];
if (!file) throw new Error('usage: bench/render.ts <results.json>');
const { table, svg } = renderReport(JSON.parse(readFileSync(file, 'utf8')) as BenchReport);
writeFileSync('docs/benchmarks-scaling.svg', svg);
process.stdout.write(`${table}\n`);
