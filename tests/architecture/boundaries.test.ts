/**
 * Folder boundaries (architecture issue 15, item 6), checked on every import and export-from
 * specifier — static, type-only and dynamic `import()` — of every source file in the repository.
 *
 * The rules:
 * 1. Every top-level source folder has one public entry, `<folder>/index.ts` (`tests/`, which
 *    nobody imports, and `bin/`, scripts, have none).
 * 2. A file imports another folder only through that folder's entry. Exceptions, and only these:
 *    - tests/<folder>/… may reach inside <folder> (a test sees what it tests);
 *    - dashboards/src is browser code: from other folders it imports only the entries in
 *      {@link BROWSER_ENTRIES} (and never the dashboards' own server files outside src/);
 *    - bin/*.js may import the build output (build/…) and the programs in {@link PROGRAMS};
 *    - bench/ may import the leaves in {@link BENCH_LEAVES} (measuring without loading the rest).
 * 3. No import cycle between folders (type-only imports count: a cycle is a cycle). Break one by
 *    moving the shared piece to the lower folder or by a port the higher folder implements and the
 *    composition root (cli/platform.ts) injects — never by an exception here.
 *
 * `npm run lint` runs this file after Biome.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Not sources: dependencies, build output, runtime data (and hidden folders: .git, dashboards/.dist-*). */
const SKIPPED_DIRS = new Set(['node_modules', 'build', 'dist', 'var', 'coverage', 'test-artifacts', '.git']);
const SOURCE_FILE = /\.(ts|tsx|js|cjs|mjs)$/;

/**
 * The entries browser code (dashboards/src) may import outside dashboards/src, each with its reason.
 * Each must import nothing Node-only, transitively (`tsc -p dashboards`, with no Node types, and the
 * Vite build check that).
 */
const BROWSER_ENTRIES: Record<string, string> = {
  'protocol/index.ts': 'the wire contract (topics, sensors and units): pure data and functions',
  'contract/index.ts': "the API's TypeBox schemas; the dashboards import its types (`import type`)",
  'grading/criteria/index.ts':
    "grading's browser entry (see grading/index.ts): the criterion registry, for the rubric editor's types and templates",
};

/** Programs bin/ starts by importing them (importing runs them); they are no library entry. */
const PROGRAMS: Record<string, string> = {
  'cli/main.ts': 'the iotlab command (bin/iotlab-dev.js runs it from the sources)',
};

/**
 * Leaves bench/ may import beside an entry, each with its reason: a benchmark must measure the code
 * in the process the platform runs it in, without loading what it does not measure.
 */
const BENCH_LEAVES: Record<string, string> = {
  'cli/heap.ts':
    "the platform process's garbage-collection settings (imports only node:v8); the CLI entry would load the whole platform into the live-grading bench's heap",
};

/** Test code: tests/<folder>/ may reach inside <folder>; nothing imports it. */
const TEST_FOLDER = 'tests';
const BROWSER_DIR = 'dashboards/src/';

interface Edge {
  /** Importing file, relative to the repository, with `/`. */
  from: string;
  specifier: string;
  /** The imported file, relative, with `/` (extension as written). */
  to: string;
}

function sourceFiles(dir = ROOT): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIPPED_DIRS.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (SOURCE_FILE.test(name) && !name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

const posix = (path: string) => path.split(sep).join('/');
const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

/** Every relative specifier of a file: imports, `export … from`, `import()` and `require()`. */
function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const from = posix(relative(ROOT, file));
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({ from, specifier, to: posix(relative(ROOT, resolve(dirname(file), specifier))) }));
}

const files = sourceFiles();
const edges = files.flatMap(edgesOf);
const inBrowser = (file: string) => file.startsWith(BROWSER_DIR);
/** Imports that cross folders, and browser code's imports out of dashboards/src. */
const crossing = edges.filter(
  (edge) => folderOf(edge.from) !== folderOf(edge.to) || (inBrowser(edge.from) && !inBrowser(edge.to)),
);
const folders = [...new Set(files.map((file) => folderOf(posix(relative(ROOT, file)))))]
  .filter((folder) => folder !== '')
  .sort();

/** Why an import crossing folders is not allowed, and what to import instead; undefined if it is. */
function violation({ from, to }: Edge): string | undefined {
  const target = folderOf(to);
  const entry = `${target}/index.ts`;
  if (inBrowser(from)) {
    if (to in BROWSER_ENTRIES) return undefined;
    if (target === folderOf(from))
      return `browser code imports none of the dashboards' server files: move what both need into ${BROWSER_DIR} or a browser entry`;
    const browserEntries = Object.keys(BROWSER_ENTRIES).filter((e) => folderOf(e) === target);
    return browserEntries.length > 0
      ? `browser code imports ${target}/ through ${browserEntries.join(' or ')} only`
      : `${target}/ has no browser entry: browser code may import only ${Object.keys(BROWSER_ENTRIES).join(', ')} (add a Node-free entry to BROWSER_ENTRIES in tests/architecture/boundaries.test.ts with its reason)`;
  }
  if (folderOf(from) === TEST_FOLDER && from.startsWith(`${TEST_FOLDER}/${target}/`)) return undefined;
  if (folderOf(from) === 'bin' && (target === 'build' || to in PROGRAMS)) return undefined;
  if (folderOf(from) === 'bench' && to in BENCH_LEAVES) return undefined;
  if (to === entry) return undefined;
  return `import ${entry} instead (export what is needed from it)`;
}

/** Folder cycles: the strongly connected components (Tarjan) of the folder graph with more than one folder. */
function folderCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a === '' || b === '') continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)?.add(b);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components;
}

describe('folder boundaries', () => {
  it('the check itself tells a deep import, an exception and a cycle', () => {
    const edge = (from: string, to: string): Edge => ({ from, specifier: to, to });
    expect(violation(edge('cli/main.ts', 'lab-api/people.ts'))).toMatch(/lab-api\/index\.ts/);
    expect(violation(edge('cli/main.ts', 'lab-api/index.ts'))).toBeUndefined();
    expect(violation(edge('tests/lab-api/x.test.ts', 'lab-api/people.ts'))).toBeUndefined();
    expect(violation(edge('tests/grading/x.test.ts', 'lab-api/people.ts'))).toBeDefined();
    expect(violation(edge('dashboards/src/app.ts', 'protocol/index.ts'))).toBeUndefined();
    expect(violation(edge('dashboards/src/app.ts', 'grading/index.ts'))).toMatch(
      /grading\/criteria\/index\.ts/,
    );
    expect(violation(edge('dashboards/src/app.ts', 'labdb/index.ts'))).toMatch(/no browser entry/);
    expect(violation(edge('dashboards/src/app.ts', 'dashboards/serve.ts'))).toMatch(/server files/);
    expect(violation(edge('bin/x.js', 'build/cli/main.js'))).toBeUndefined();
    const cycle = [edge('a/x.ts', 'b/index.ts'), edge('b/y.ts', 'c/index.ts'), edge('c/z.ts', 'a/index.ts')];
    expect(folderCycles(cycle)).toEqual([['a', 'b', 'c']]);
    expect(folderCycles(cycle.slice(0, 2))).toEqual([]);
  });

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(folders).toEqual(
      expect.arrayContaining(['protocol', 'lab-api', 'grading', 'tests', 'dashboards']),
    );
  });

  it('every source folder has one public entry, <folder>/index.ts', () => {
    const missing = folders
      .filter((folder) => folder !== TEST_FOLDER && folder !== 'bin')
      .filter((folder) => !files.includes(join(ROOT, folder, 'index.ts')))
      .map((folder) => `${folder}/ has no index.ts: add one exporting what other folders use`);
    expect(missing).toEqual([]);
  });

  it('the allow-listed entries exist', () => {
    for (const entry of [...Object.keys(BROWSER_ENTRIES), ...Object.keys(PROGRAMS)])
      expect(files, entry).toContain(join(ROOT, entry));
  });

  it('other folders import a folder only through its entry', () => {
    const problems = crossing.flatMap((edge) => {
      const why = violation(edge);
      return why === undefined ? [] : [`${edge.from}: '${edge.specifier}' reaches into ${edge.to} — ${why}`];
    });
    expect(problems).toEqual([]);
  });

  it('no import cycle between folders', () => {
    const problems = folderCycles(crossing).map((cycle) => {
      const inCycle = new Set(cycle);
      const through = crossing
        .filter((e) => inCycle.has(folderOf(e.from)) && inCycle.has(folderOf(e.to)))
        .map((e) => `  ${e.from} → '${e.specifier}'`);
      return `folders ${cycle.join(' ↔ ')} import each other: move the shared piece into the lower folder, or let the higher one implement a port the composition root (cli/platform.ts) injects\n${through.join('\n')}`;
    });
    expect(problems).toEqual([]);
  });
});
