import { escapeHtml } from '../kit/html.js';

export interface UsageDay {
  /** `YYYY-MM-DD` */
  day: string;
  signIns: number;
  tokens: number;
}

export interface UsageChartLabels {
  title: string;
  signIns: string;
  tokens: string;
  /** Shown over an empty chart; defaults to "No activity". */
  noActivity?: string;
}

const WIDTH = 720;
const HEIGHT = 300;
const PLOT = { left: 56, right: WIDTH - 16, top: 48, bottom: HEIGHT - 36 };
const PLOT_WIDTH = PLOT.right - PLOT.left;
const PLOT_HEIGHT = PLOT.bottom - PLOT.top;
const MAX_TICK_INTERVALS = 5;
const X_LABELS = 6;
/** Keeps the smallest non-zero value visible next to a large maximum. */
const MIN_BAR_HEIGHT = 1;

const SERIES = [
  { key: 'signIns', className: 'bar bar-sign-ins', colour: '#2563eb' },
  { key: 'tokens', className: 'bar bar-tokens', colour: '#d97706' },
] as const;

const GRID_COLOUR = '#d1d5db';
const FONT = 'font-family="system-ui, sans-serif" fill="currentColor"';

/** Rounds coordinates so the markup stays short and stable. */
const n = (value: number): string => String(Math.round(value * 100) / 100);
const count = (value: number): number => (Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

/**
 * The y-axis scale for values from 0 to `maxValue`: the smallest step of 1, 2 or 5 times a
 * power of ten (never below 1, as the values are counts) that reaches the max in at most
 * five intervals, and the first multiple of it at or above the max as the top tick.
 */
export function niceScale(maxValue: number): { top: number; step: number } {
  const max = count(maxValue);
  if (max === 0) return { top: 0, step: 1 };
  const magnitude = Math.max(1, 10 ** Math.floor(Math.log10(max / MAX_TICK_INTERVALS)));
  const step =
    [1, 2, 5].map((m) => m * magnitude).find((candidate) => Math.ceil(max / candidate) <= MAX_TICK_INTERVALS) ??
    10 * magnitude;
  return { top: Math.ceil(max / step) * step, step };
}

function formatTick(value: number): string {
  if (value >= 1_000_000) return `${value / 1_000_000}M`;
  if (value >= 10_000) return `${value / 1_000}k`;
  return String(value);
}

/** `MM-DD` from `YYYY-MM-DD`; anything else is shown as given. */
const shortDay = (day: string): string => (/^\d{4}-\d{2}-\d{2}$/.test(day) ? day.slice(5) : day);

function yAxis(top: number, step: number): string {
  const ticks = top === 0 ? [0] : Array.from({ length: top / step + 1 }, (_, i) => i * step);
  return ticks
    .map((tick) => {
      const y = n(PLOT.bottom - (top === 0 ? 0 : (tick / top) * PLOT_HEIGHT));
      return (
        `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${y}" y2="${y}" stroke="${GRID_COLOUR}" stroke-width="1"/>` +
        `<text class="y-tick" x="${PLOT.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="12" ${FONT}>${formatTick(tick)}</text>`
      );
    })
    .join('');
}

function xLabels(days: ReadonlyArray<UsageDay>, groupWidth: number): string {
  const every = Math.max(1, Math.ceil(days.length / X_LABELS));
  // Counted from the end so the latest day, the one people look for, always has a label.
  return days
    .map((entry, i) => {
      if ((days.length - 1 - i) % every !== 0) return '';
      const x = n(PLOT.left + (i + 0.5) * groupWidth);
      return `<text class="x-tick" x="${x}" y="${PLOT.bottom + 20}" text-anchor="middle" font-size="12" ${FONT}>${escapeHtml(shortDay(entry.day))}</text>`;
    })
    .join('');
}

function bars(days: ReadonlyArray<UsageDay>, labels: UsageChartLabels, top: number, groupWidth: number): string {
  const padding = groupWidth * 0.15;
  const barWidth = (groupWidth - 2 * padding) / SERIES.length;
  return days
    .map((entry, i) =>
      SERIES.map((series, s) => {
        const value = count(entry[series.key]);
        const height = value === 0 ? 0 : Math.max(MIN_BAR_HEIGHT, (value / top) * PLOT_HEIGHT);
        const x = PLOT.left + i * groupWidth + padding + s * barWidth;
        const tooltip = `${entry.day}: ${labels[series.key]} ${value}`;
        return (
          `<rect class="${series.className}" x="${n(x)}" y="${n(PLOT.bottom - height)}" width="${n(barWidth)}" height="${n(height)}" fill="${series.colour}">` +
          `<title>${escapeHtml(tooltip)}</title></rect>`
        );
      }).join(''),
    )
    .join('');
}

/** A generous guess at the width of 13px text, so long translated labels do not overlap. */
const LEGEND_CHAR_WIDTH = 8;

function legend(labels: UsageChartLabels): string {
  let x = PLOT.left;
  return SERIES.map((series) => {
    const label = labels[series.key];
    const entry =
      `<rect class="legend-swatch" x="${x}" y="14" width="12" height="12" fill="${series.colour}"/>` +
      `<text x="${x + 18}" y="20" dominant-baseline="middle" font-size="13" ${FONT}>${escapeHtml(label)}</text>`;
    x += 18 + label.length * LEGEND_CHAR_WIDTH + 32;
    return entry;
  }).join('');
}

function summary(days: ReadonlyArray<UsageDay>, labels: UsageChartLabels): string {
  const total = (key: 'signIns' | 'tokens'): number => days.reduce((sum, entry) => sum + count(entry[key]), 0);
  const totals = `${labels.signIns}: ${total('signIns')}, ${labels.tokens}: ${total('tokens')}`;
  const first = days[0];
  const last = days[days.length - 1];
  return first && last ? `${totals} (${first.day} – ${last.day})` : totals;
}

/**
 * A server-rendered bar chart of daily sign-ins and tokens: two bars per day (sign-ins, then
 * tokens), each with its own tooltip. Colours and fonts are SVG presentation attributes
 * because the page CSP forbids inline styles; every piece of text is escaped.
 */
export function renderUsageChart(days: ReadonlyArray<UsageDay>, labels: UsageChartLabels): string {
  const max = Math.max(0, ...days.flatMap((entry) => [count(entry.signIns), count(entry.tokens)]));
  const { top, step } = niceScale(max);
  const groupWidth = PLOT_WIDTH / Math.max(1, days.length);
  const empty =
    max === 0
      ? `<text class="no-activity" x="${n(PLOT.left + PLOT_WIDTH / 2)}" y="${n(PLOT.top + PLOT_HEIGHT / 2)}" text-anchor="middle" dominant-baseline="middle" font-size="14" ${FONT}>${escapeHtml(labels.noActivity ?? 'No activity')}</text>`
      : bars(days, labels, top, groupWidth);

  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="usage-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img">` +
    `<title>${escapeHtml(labels.title)}</title>` +
    `<desc>${escapeHtml(summary(days, labels))}</desc>` +
    legend(labels) +
    yAxis(top, step) +
    empty +
    `<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="currentColor" stroke-width="1"/>` +
    xLabels(days, groupWidth) +
    `</svg>`
  );
}
