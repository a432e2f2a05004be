import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import written in a module: where, of what, and whether it vanishes at runtime. */
export interface ImportSite {
  readonly specifier: string;
  /** `import type`, `export type`, every named binding marked `type`, or `import('…')` in a type. */
  readonly typeOnly: boolean;
  readonly line: number;
}

export interface ImportEdge {
  /** The importing module, relative to the root with `/` separators: `src/http/server.ts`. */
  readonly from: string;
  /** A module of the graph (`src/http/pages.ts`), or a package (`fastify`, `@fastify/cookie`, `node:crypto`). */
  readonly to: string;
  readonly typeOnly: boolean;
  readonly line: number;
}

export interface ImportGraph {
  readonly modules: readonly string[];
  readonly edges: readonly ImportEdge[];
  /** Relative imports that name no file of the graph: a typo, or a file outside the folder. */
  readonly unresolved: readonly ImportEdge[];
}

const allTypeOnly = (elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>) =>
  elements.length > 0 && elements.every((element) => element.isTypeOnly);

/**
 * The imports of one TypeScript source, read with the compiler's parser (a regular
 * expression would see imports in comments and strings, and miss multi-line ones).
 * Dynamic `import()` counts only with a string literal: a computed one cannot be followed.
 */
export function importsOf(fileName: string, text: string): ImportSite[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const sites: ImportSite[] = [];
  const add = (node: ts.Node, literal: ts.Node | undefined, typeOnly: boolean) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    sites.push({ specifier: literal.text, typeOnly, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      // `import {} from 'x'` and `import 'x'` run the module: not type-only.
      const typeOnly = clause !== undefined && (clause.isTypeOnly
        || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && allTypeOnly(clause.namedBindings.elements)));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      const typeOnly = node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && allTypeOnly(node.exportClause.elements));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sites;
}

/** `@fastify/cookie/x` → `@fastify/cookie`, `kysely/helpers` → `kysely`, `node:fs/promises` as it is. */
export function packageOf(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function listTypeScript(root: string, folder: string): string[] {
  return readdirSync(path.join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(folder, entry.name);
    if (entry.isDirectory()) return listTypeScript(root, relative);
    return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative] : [];
  });
}

/**
 * The import graph of every `.ts` file under `folder` (relative to `root`). Relative
 * specifiers resolve as NodeNext does for our sources: `./x.js` names `./x.ts`.
 */
export function readImportGraph(root: string, folder = 'src'): ImportGraph {
  const modules = listTypeScript(root, folder).sort();
  const known = new Set(modules);
  const edges: ImportEdge[] = [];
  const unresolved: ImportEdge[] = [];
  for (const from of modules) {
    for (const site of importsOf(from, readFileSync(path.join(root, from), 'utf8'))) {
      if (!site.specifier.startsWith('.')) {
        edges.push({ from, to: packageOf(site.specifier), typeOnly: site.typeOnly, line: site.line });
        continue;
      }
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), site.specifier));
      const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, `${target}/index.ts`];
      const to = candidates.find((candidate) => known.has(candidate));
      (to ? edges : unresolved).push({ from, to: to ?? target, typeOnly: site.typeOnly, line: site.line });
    }
  }
  return { modules, edges, unresolved };
}

export interface ImportCycle {
  /** A shortest way round, from the component's first module back to it: `[a, b, a]`. */
  readonly path: readonly string[];
  /** Every module of the strongly connected component the path lies in. */
  readonly modules: readonly string[];
}

/** Every import cycle, one per strongly connected component (Tarjan). */
export function findCycles(graph: ImportGraph, options: { typeOnly?: boolean } = {}): ImportCycle[] {
  const counted = graph.edges.filter((edge) => (options.typeOnly ?? true) || !edge.typeOnly);
  const next = new Map<string, string[]>(graph.modules.map((m) => [m, []]));
  for (const edge of counted) if (next.has(edge.to)) next.get(edge.from)!.push(edge.to);

  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  // Iterative, so that a long chain of imports cannot overflow the call stack.
  for (const start of graph.modules) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; child: number }> = [{ node: start, child: 0 }];
    index.set(start, counter); low.set(start, counter); counter += 1; stack.push(start); onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const children = next.get(frame.node)!;
      if (frame.child < children.length) {
        const child = children[frame.child++]!;
        if (!index.has(child)) {
          index.set(child, counter); low.set(child, counter); counter += 1; stack.push(child); onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfImport = children.includes(frame.node);
        if (component.length > 1 || selfImport) components.push(component.sort());
      }
    }
  }
  return components.map((modules) => ({ path: shortestLoop(modules[0]!, new Set(modules), next), modules }));
}

function shortestLoop(start: string, within: ReadonlySet<string>, next: ReadonlyMap<string, string[]>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const child of next.get(node) ?? []) {
      if (!within.has(child)) continue;
      if (child === start) {
        const loop = [node];
        while (loop[0] !== start) loop.unshift(cameFrom.get(loop[0]!)!);
        return [...loop, start];
      }
      if (!cameFrom.has(child) && child !== start) {
        cameFrom.set(child, node);
        queue.push(child);
      }
    }
  }
  return [start, start];
}
