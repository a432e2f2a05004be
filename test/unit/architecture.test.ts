import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findCycles, importsOf, readImportGraph, type ImportEdge } from '../support/import-graph.js';

/*
 * The layers of Keygate, read from the imports of src/ (see ../shared/ARCHITECTURE.md in
 * the project notes, "The target layout"). Type-only imports count everywhere:
 * - for the layers, because a domain function that takes a `FastifyRequest` is tied to
 *   Fastify whether or not the import survives compilation;
 * - for cycles, because two modules that name each other's types cannot be read, moved
 *   or tested apart either. None exists today; should one ever be unavoidable, the
 *   exception belongs here, named, not in a switch that turns type imports off.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A pattern ending in `/` is a folder and everything under it; `@scope/*` is every
 * package of the scope; anything else is one module (`src/http/pages.ts`) or one package.
 * Rules name folders, not files, so that they hold for modules not written yet
 * (`src/core/`, `src/protocols/` and `src/store/` may not exist).
 */
function matches(target: string, pattern: string): boolean {
  if (pattern.endsWith('/')) return target.startsWith(pattern);
  if (pattern.endsWith('/*')) return target.startsWith(pattern.slice(0, -1));
  return target === pattern;
}

const describeEdge = (edge: ImportEdge) => `${edge.from}:${edge.line} imports ${edge.to}${edge.typeOnly ? ' (type-only)' : ''}`;

interface LayerRule {
  readonly name: string;
  readonly from: readonly string[];
  /** Modules under `from` the rule does not apply to. */
  readonly except?: readonly string[];
  readonly forbidden: readonly string[];
}

const FRAMEWORK = ['fastify', '@fastify/*'];
const SQL = ['kysely', 'pg', '@electric-sql/pglite', 'src/storage/', 'src/store/'];

/** Each page surface is an encapsulated Fastify plugin; its folder is private to it but for this one module. */
const SURFACE_PLUGINS: Readonly<Record<string, string>> = {
  'src/http/gateway/': 'src/http/gateway/gateway.ts',
  'src/http/dashboard/': 'src/http/dashboard/dashboard.ts',
  'src/http/account/': 'src/http/account/account.ts',
};
const SURFACES = Object.keys(SURFACE_PLUGINS);
/** The only module that registers the surfaces. */
const PAGES = 'src/http/pages.ts';

/**
 * The domain reaches its data only through the ports it declares (`*-store.ts`),
 * implemented in src/storage/control/ and src/storage/zone/. One named exception: the
 * person-data registry is typed over the zone schema, so that a new table cannot compile
 * without a decision about it.
 */
const DOMAIN_SQL_EXCEPTIONS = [
  'src/domain/residency/person-data.ts',
];

const LAYER_RULES: readonly LayerRule[] = [
  { name: 'the domain knows no SQL or storage (but for its named exceptions)', from: ['src/domain/'], except: DOMAIN_SQL_EXCEPTIONS, forbidden: SQL },
  { name: 'the domain and the core know no HTTP framework, front-end or CLI', from: ['src/domain/', 'src/core/'], forbidden: [...FRAMEWORK, 'src/http/', 'src/protocols/', 'src/cli/'] },
  { name: 'the core knows no SQL, storage or mail', from: ['src/core/'], forbidden: [...SQL, 'src/mail/'] },
  { name: 'protocol modules know no HTTP framework and no HTTP layer', from: ['src/protocols/'], forbidden: [...FRAMEWORK, 'src/http/'] },
  {
    name: 'the page kit imports no surface (nor the sign-in pages, the API or the modules that assemble them)',
    from: ['src/http/kit/'],
    forbidden: [...SURFACES, 'src/http/interaction/', 'src/http/api/', PAGES, 'src/http/server.ts'],
  },
  {
    // The surfaces start a sign-in, so they may import the sign-in pages; never the reverse.
    name: 'the sign-in pages import no surface',
    from: ['src/http/interaction/'],
    forbidden: [...SURFACES, 'src/http/api/', PAGES, 'src/http/server.ts'],
  },
  { name: 'mail knows no HTTP', from: ['src/mail/'], forbidden: ['src/http/'] },
  {
    // Everything else reports through the port in src/domain/metrics.ts; the composition
    // root and `serve` wire the adapter, so no other module depends on the library.
    name: 'only the metrics adapter knows prom-client',
    from: ['src/domain/', 'src/core/', 'src/protocols/', 'src/http/', 'src/storage/', 'src/store/', 'src/mail/', 'src/crypto/', 'src/config/', 'src/shared-state/', 'src/cli/'],
    forbidden: ['prom-client'],
  },
  { name: 'the domain and the core know no metrics adapter', from: ['src/domain/', 'src/core/'], forbidden: ['src/observability/'] },
];

function layerViolations(edges: readonly ImportEdge[], rule: LayerRule): ImportEdge[] {
  return edges.filter((edge) => rule.from.some((folder) => matches(edge.from, folder)) && !rule.except?.some((pattern) => matches(edge.from, pattern))
    && rule.forbidden.some((pattern) => matches(edge.to, pattern)));
}

/** An import into a surface's folder from outside it, unless it is `pages.ts` taking the surface's plugin. */
function surfaceViolations(edges: readonly ImportEdge[]): ImportEdge[] {
  return edges.filter((edge) => SURFACES.some((folder) =>
    edge.to.startsWith(folder) && !edge.from.startsWith(folder) && !(edge.from === PAGES && edge.to === SURFACE_PLUGINS[folder])));
}

function failWith(title: string, lines: readonly string[]): void {
  if (lines.length > 0) assert.fail(`${title}:\n  ${lines.join('\n  ')}`);
}

describe('the import graph reader', () => {
  it('sees static, re-exported, dynamic and type-only imports, and nothing in comments or strings', () => {
    const sites = importsOf('fixture.ts', `
import a from 'a';
import type { B } from './b.js';
import { type C, c } from './c.js';
import { type D } from './d.js';
import {
  e1,
  e2,
} from './e.js';
import './f.js';
export * from './g.js';
export type { H } from './h.js';
export { i } from './i.js';
// import nope from './comment.js';
const text = "import nope from './string.js'";
const later = await import('./j.js');
const computed = await import('./k' + '.js');
let k: typeof import('./l.js');
`);
    assert.deepEqual(sites.map((s) => [s.specifier, s.typeOnly]), [
      ['a', false], ['./b.js', true], ['./c.js', false], ['./d.js', true], ['./e.js', false], ['./f.js', false],
      ['./g.js', false], ['./h.js', true], ['./i.js', false], ['./j.js', false], ['./l.js', true],
    ]);
    assert.equal(sites.find((s) => s.specifier === './e.js')?.line, 6);
  });

  describe('on a folder of modules', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'keygate-import-graph-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(path.join(root, 'src/inner'), { recursive: true });
    const write = (file: string, text: string) => writeFileSync(path.join(root, file), text);
    write('src/a.ts', "import { b } from './inner/b.js';\nexport const a = b;\n");
    write('src/inner/b.ts', "import type { C } from '../c.js';\nexport const b: C = 1;\n");
    write('src/c.ts', "import { a } from './a.js';\nexport type C = number;\nexport const c = a;\n");
    write('src/d.ts', "import Fastify from 'fastify';\nimport cookie from '@fastify/cookie/plugin';\nimport { nothing } from './missing.js';\n");
    write('src/e.ts', "export * from './e.js';\n");
    write('src/types.d.ts', "declare const x: number;\n");
    const graph = readImportGraph(root);

    it('lists the .ts modules and resolves .js specifiers to them', () => {
      assert.deepEqual(graph.modules, ['src/a.ts', 'src/c.ts', 'src/d.ts', 'src/e.ts', 'src/inner/b.ts']);
      assert.ok(graph.edges.some((e) => e.from === 'src/a.ts' && e.to === 'src/inner/b.ts' && !e.typeOnly));
      assert.ok(graph.edges.some((e) => e.from === 'src/inner/b.ts' && e.to === 'src/c.ts' && e.typeOnly));
    });

    it('names packages without their subpaths, and reports what it cannot resolve', () => {
      assert.deepEqual(graph.edges.filter((e) => e.from === 'src/d.ts').map((e) => e.to), ['fastify', '@fastify/cookie']);
      assert.deepEqual(graph.unresolved.map((e) => `${e.from}:${e.line} ${e.to}`), ['src/d.ts:3 src/missing.js']);
    });

    it('finds a cycle that runs through a type-only import, and a module importing itself', () => {
      assert.deepEqual(findCycles(graph).map((c) => c.path), [['src/a.ts', 'src/inner/b.ts', 'src/c.ts', 'src/a.ts'], ['src/e.ts', 'src/e.ts']]);
      assert.deepEqual(findCycles(graph, { typeOnly: false }).map((c) => c.path), [['src/e.ts', 'src/e.ts']]);
    });
  });
});

describe('the architecture of src/', () => {
  const graph = readImportGraph(ROOT);

  it('reads the whole source, so that the rules below cannot pass on an empty graph', () => {
    assert.ok(graph.modules.length > 80, `only ${graph.modules.length} modules were read`);
    assert.ok(graph.edges.some((e) => e.from === 'src/http/server.ts' && e.to === PAGES), 'server.ts → pages.ts was not seen');
    assert.ok(graph.edges.some((e) => e.from.startsWith('src/storage/') && e.to === 'kysely'), 'no storage module imports kysely?');
    for (const plugin of Object.values(SURFACE_PLUGINS)) assert.ok(graph.modules.includes(plugin), `${plugin} is missing`);
  });

  it('resolves every relative import', () => {
    failWith('Imports that name no module of src/', graph.unresolved.map(describeEdge));
  });

  it('has no import cycle', () => {
    failWith('Import cycles', findCycles(graph).map((cycle) =>
      `${cycle.path.join(' → ')}${cycle.modules.length > cycle.path.length - 1 ? ` (the cycle's component also holds ${cycle.modules.filter((m) => !cycle.path.includes(m)).join(', ')})` : ''}`));
  });

  for (const rule of LAYER_RULES) {
    it(rule.name, () => failWith(`Forbidden: ${rule.name}`, layerViolations(graph.edges, rule).map(describeEdge)));
  }

  it(`lets only ${PAGES} into a page surface, and only through the surface's plugin`, () => {
    failWith('Imports into a page surface from outside it', surfaceViolations(graph.edges).map(describeEdge));
  });
});
