import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { niceScale, renderUsageChart, type UsageDay } from '../../src/http/dashboard/usage-chart.js';

const LABELS = { title: 'Usage, last 30 days', signIns: 'Sign-ins', tokens: 'Tokens' };

function month(values: (i: number) => [number, number]): UsageDay[] {
  return Array.from({ length: 30 }, (_, i) => {
    const [signIns, tokens] = values(i);
    const day = new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10);
    return { day, signIns, tokens };
  });
}

const matches = (svg: string, pattern: RegExp): string[] => [...svg.matchAll(pattern)].map((m) => m[1] ?? m[0]);
const bars = (svg: string): string[] => matches(svg, /<rect class="bar [^"]*"[^>]*>/g);
const yTicks = (svg: string): string[] => matches(svg, /<text class="y-tick"[^>]*>([^<]*)</g);

describe('niceScale', () => {
  const cases: Array<[number, number, number]> = [
    // [max, top tick, step]
    [0, 0, 1],
    [1, 1, 1],
    [3, 3, 1],
    [5, 5, 1],
    [6, 6, 2],
    [7, 8, 2],
    [10, 10, 2],
    [11, 15, 5],
    [95, 100, 20],
    [100, 100, 20],
    [101, 150, 50],
    [1234, 1500, 500],
    [45_000, 50_000, 10_000],
    [99_999, 100_000, 20_000],
    [-5, 0, 1],
    [Number.NaN, 0, 1],
    [Number.POSITIVE_INFINITY, 0, 1],
  ];
  for (const [max, top, step] of cases) {
    it(`scales ${max} to 0..${top} in steps of ${step}`, () => {
      assert.deepEqual(niceScale(max), { top, step });
    });
  }
  it('always reaches the max with at most a handful of round ticks', () => {
    for (let max = 1; max <= 5000; max += 7) {
      const { top, step } = niceScale(max);
      assert.ok(top >= max && top - step < max, `max ${max}: top ${top}, step ${step}`);
      assert.ok(top / step <= 5, `max ${max}: ${top / step} steps`);
      assert.match(String(step), /^[125]0*$/);
    }
  });
});

describe('renderUsageChart', () => {
  const data = month((i) => [i, i === 12 ? 1234 : 2 * i]);
  const svg = renderUsageChart(data, LABELS);

  it('is an accessible SVG image with a title and a summary of the totals', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* role="img"/);
    assert.match(svg, /<\/svg>$/);
    assert.match(svg, /<title>Usage, last 30 days<\/title>/);
    const signIns = data.reduce((sum, d) => sum + d.signIns, 0);
    const tokens = data.reduce((sum, d) => sum + d.tokens, 0);
    assert.match(svg, new RegExp(`<desc>Sign-ins: ${signIns}, Tokens: ${tokens} \\(2025-01-01 – 2025-01-30\\)</desc>`));
  });

  it('draws two bars per day, sign-ins then tokens, each with a tooltip', () => {
    const all = bars(svg);
    assert.equal(all.length, data.length * 2);
    assert.equal(all.filter((bar) => bar.includes('bar-sign-ins')).length, data.length);
    assert.match(svg, /<rect class="bar bar-sign-ins"[^>]*><title>2025-01-13: Sign-ins 12<\/title><\/rect><rect class="bar bar-tokens"[^>]*><title>2025-01-13: Tokens 1234<\/title>/);
  });

  it('sets the top tick from the max value, rounded up to a round number', () => {
    assert.deepEqual(yTicks(svg), ['0', '500', '1000', '1500']);
    assert.deepEqual(yTicks(renderUsageChart(month((i) => [i === 3 ? 7 : 0, 0]), LABELS)), ['0', '2', '4', '6', '8']);
    assert.deepEqual(yTicks(renderUsageChart(month(() => [0, 45_000]), LABELS)), ['0', '10k', '20k', '30k', '40k', '50k']);
  });

  it('draws bars in proportion to the top tick, the tallest reaching it', () => {
    const heights = bars(renderUsageChart(month((i) => [i === 0 ? 8 : 0, i === 0 ? 4 : 0]), LABELS)).map((bar) =>
      Number(/height="([\d.]+)"/.exec(bar)?.[1]),
    );
    const [signIns = 0, tokens = 0] = heights;
    assert.ok(signIns > 0);
    assert.equal(tokens, signIns / 2);
    assert.ok(heights.slice(2).every((h) => h === 0));
  });

  it('keeps a tiny non-zero value visible', () => {
    const tiny = bars(renderUsageChart(month((i) => [i === 0 ? 1 : 0, 100_000]), LABELS))[0] ?? '';
    assert.ok(Number(/height="([\d.]+)"/.exec(tiny)?.[1]) >= 1);
  });

  it('labels every few days and always the last day', () => {
    const labels = matches(svg, /<text class="x-tick"[^>]*>([^<]*)</g);
    assert.ok(labels.length >= 4 && labels.length <= 8, `${labels.length} labels`);
    assert.equal(labels.at(-1), '01-30');
  });

  it('shows a legend naming both series', () => {
    assert.equal(matches(svg, /<rect class="legend-swatch"/g).length, 2);
    assert.match(svg, />Sign-ins<\/text>/);
    assert.match(svg, />Tokens<\/text>/);
  });

  it('escapes every label', () => {
    const hostile = {
      title: '</title><script>alert(1)</script>',
      signIns: 'Sign-ins & "logins"',
      tokens: "<tokens onload='x'>",
      noActivity: '<b>none</b>',
    };
    const days = [{ day: '2025-01-01"><script>', signIns: 1, tokens: 0 }];
    for (const out of [renderUsageChart(days, hostile), renderUsageChart([], hostile)]) {
      assert.doesNotMatch(out, /<script|<tokens|<b>|"logins"|onload='/);
      assert.match(out, /&lt;\/title&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.match(out, /Sign-ins &amp; &quot;logins&quot;/);
      assert.match(out, /&lt;tokens onload=&#39;x&#39;&gt;/);
    }
    assert.match(renderUsageChart([], hostile), /&lt;b&gt;none&lt;\/b&gt;/);
  });

  it('renders an empty chart with a note when there is no activity', () => {
    const empty = renderUsageChart(month(() => [0, 0]), LABELS);
    assert.equal(bars(empty).length, 0);
    assert.match(empty, /<text class="no-activity"[^>]*>No activity<\/text>/);
    assert.deepEqual(yTicks(empty), ['0']);
    assert.doesNotMatch(empty, /NaN|Infinity/);
    assert.match(empty, /<desc>Sign-ins: 0, Tokens: 0 \(2025-01-01 – 2025-01-30\)<\/desc>/);
    assert.match(renderUsageChart(month(() => [0, 0]), { ...LABELS, noActivity: 'Keine Aktivität' }), />Keine Aktivität</);
  });

  it('survives no days and invalid counts', () => {
    const none = renderUsageChart([], LABELS);
    assert.match(none, /No activity/);
    assert.match(none, /<desc>Sign-ins: 0, Tokens: 0<\/desc>/);
    const odd = renderUsageChart(month((i) => [i === 0 ? Number.NaN : -3, i === 1 ? Number.POSITIVE_INFINITY : 2.7]), LABELS);
    assert.doesNotMatch(odd, /NaN|Infinity|="-|>-\d/);
    assert.deepEqual(yTicks(odd), ['0', '1', '2']);
  });

  it('never uses inline styles or scripts', () => {
    for (const out of [svg, renderUsageChart([], LABELS), renderUsageChart(month(() => [0, 0]), LABELS)]) {
      assert.doesNotMatch(out, /style\s*=/i);
      assert.doesNotMatch(out, /<style|<script|\son[a-z]+\s*=|javascript:/i);
    }
  });
});
