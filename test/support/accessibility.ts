import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: ReadonlyArray<{ readonly target: unknown[]; readonly failureSummary?: string }>;
}

/** The violations axe-core finds on the page as it is now, in the colour scheme it is shown in. */
async function violationsOn(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const { violations } = await axe.run(document, { resultTypes: ['violations'] });
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
}

/**
 * Asserts that axe-core finds no serious or critical violation on the page, in the light
 * and in the dark colour scheme (the stylesheet declares both, so a person whose system is
 * dark sees the dark one). A failure names each rule, its impact and the elements.
 */
export async function assertNoSeriousViolations(page: Page, what: string): Promise<void> {
  const found: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const v of await violationsOn(page)) {
      if (v.impact !== 'serious' && v.impact !== 'critical') continue;
      const nodes = v.nodes.map((n) => `    ${JSON.stringify(n.target)}${n.failureSummary ? `: ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`).join('\n');
      found.push(`  ${v.id} (${v.impact}, ${colorScheme}): ${v.help}\n${nodes}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(found.length, 0, `${what} (${page.url()}) has serious or critical accessibility violations:\n${found.join('\n')}`);
}
