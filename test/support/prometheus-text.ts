/** One sample of the Prometheus text exposition format: `name{label="value",…} 12.5`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Reads a label value after its opening quote; returns the value and where its closing quote ends. */
function readQuoted(line: string, start: number): [string, number] {
  let value = '';
  for (let i = start; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') return [value, i + 1];
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = line[++i];
    value += next === 'n' ? '\n' : next ?? '';
  }
  throw new Error(`unterminated label value: ${line}`);
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // Prometheus reads it in any case (Go's ParseFloat); prom-client writes `Nan`.
  if (/^nan$/i.test(text)) return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a sample value: ${text}`);
  return value;
}

/**
 * Parses the text exposition format (version 0.0.4), strictly enough that a malformed
 * line fails the test: comments and blank lines are skipped, every other line is a sample.
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (!name) throw new Error(`not a sample line: ${line}`);
    let at = name.length;
    const labels: Record<string, string> = {};
    if (line[at] === '{') {
      at++;
      while (line[at] !== '}') {
        const label = LABEL_NAME.exec(line.slice(at))?.[0];
        if (!label || line.slice(at + label.length, at + label.length + 2) !== '="') throw new Error(`bad label in: ${line}`);
        const [value, end] = readQuoted(line, at + label.length + 2);
        labels[label] = value;
        at = end;
        if (line[at] === ',') at++;
        else if (line[at] !== '}') throw new Error(`bad label list in: ${line}`);
      }
      at++;
    }
    if (line[at] !== ' ') throw new Error(`no value in: ${line}`);
    const [value] = line.slice(at + 1).split(' ');
    samples.push({ name, labels, value: parseValue(value!) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function sampleSum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Whether any sample is named `name` with labels including `labels`. */
export function hasSample(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): boolean {
  return samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
