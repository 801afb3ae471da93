/**
 * The dashboards and the criterion registry: the rubric editor lists exactly the registry's types
 * with their templates and loads nothing Node-only, and the pages order sensors by the protocol's
 * kind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { messages } from '../../dashboards/src/messages.ts';
import { loadCriterionTypes } from '../../dashboards/src/rubric.ts';
import { bySensorRank } from '../../dashboards/src/sensors.ts';
import { CRITERION_PLUGINS } from '../../grading/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the rubric editor', () => {
  it("lists the registry's types, in its order, with their names, hints and templates", async () => {
    expect(await loadCriterionTypes()).toEqual(
      CRITERION_PLUGINS.map((d) => ({
        type: d.type,
        title: d.title,
        hint: d.hint,
        template: d.template,
      })),
    );
  });

  it('names the types as the review page does, where its messages name them (ctype_…)', () => {
    for (const d of CRITERION_PLUGINS) {
      const key = `ctype_${d.type}` as keyof typeof messages.en;
      // A type without a message is shown by its name on the review page: nothing to disagree with.
      if (!Object.hasOwn(messages.en, key)) continue;
      expect([messages['zh-CN'][key], messages.en[key]], d.type).toEqual([d.title['zh-CN'], d.title.en]);
    }
  });

  it('reaches grading only through its registry, on demand, and loads nothing Node-only', () => {
    const seen = new Set<string>();
    const grading: string[] = [];
    /** Static imports of grading from the app: they would put it in the chunk the sign-in page loads. */
    const eager: string[] = [];
    /** Node's modules imported by a file the app reaches (types included: `tsc -p dashboards` has none). */
    const node: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      const from = relative(ROOT, file);
      for (const match of source.matchAll(/(?:from\s+|import\()'(node:[^']+)'/g))
        node.push(`${from} → ${match[1]}`);
      for (const match of source.matchAll(
        /(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g,
      )) {
        const target = resolve(dirname(file), (match[1] ?? match[2]) as string);
        if (!existsSync(target)) continue;
        const path = relative(ROOT, target);
        if (path.startsWith('grading/')) {
          grading.push(path);
          if (!from.startsWith('grading/')) {
            expect(path, from).toBe('grading/criteria/index.ts');
            if (match[1] !== undefined) eager.push(`${from} → ${path}`);
          }
        }
        visit(target);
      }
    };
    visit(join(ROOT, 'dashboards/src/main.tsx'));
    expect(grading).toContain('grading/criteria/index.ts');
    expect(eager).toEqual([]);
    expect(node).toEqual([]);
    // Only the Node-free folders: the wire contract, the API's schemas, grading's pure parts.
    const folders = new Set([...seen].map((file) => relative(ROOT, file).split('/')[0]));
    expect([...folders].sort()).toEqual(['contract', 'dashboards', 'grading', 'protocol']);
  });
});

describe('sensors on the pages', () => {
  it('dashboards show the measurements first, then other sensors, actuators last', () => {
    expect(['servo', 'fan', 'sound', 'humidity', 'temperature'].sort(bySensorRank)).toEqual([
      'temperature',
      'humidity',
      'sound',
      'fan',
      'servo',
    ]);
  });
});
