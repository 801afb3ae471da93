/**
 * The API contract (contract/) is the one place the lab API's requests and answers are defined:
 * the routes use its schemas and define none, it imports nothing but TypeBox and protocol/ (so the
 * dashboards can import its types), and the pieces it keeps beside grading's and the registry's
 * own lists say the same as they do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as contract from '../../contract/index.ts';
import { CRITERION_TYPES, CriterionTitle, MAX_CRITERIA } from '../../grading/index.ts';
import { KIT_KINDS } from '../../labdb/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const sources = (folder: string) =>
  readdirSync(join(ROOT, folder))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => ({ name: `${folder}/${name}`, text: readFileSync(join(ROOT, folder, name), 'utf8') }));
const importsOf = (text: string) =>
  [...text.matchAll(/^(?:import|export)[^;]*? from '([^']+)';/gms)].map((m) => m[1]);

describe('the API contract', () => {
  it('imports nothing but TypeBox, protocol/ and itself', () => {
    const foreign = sources('contract').flatMap(({ name, text }) =>
      importsOf(text)
        .filter(
          (from) =>
            !from?.startsWith('@sinclair/typebox') &&
            from !== '../protocol/index.ts' &&
            !/^\.\/[\w-]+\.ts$/.test(from ?? ''),
        )
        .map((from) => `${name}: ${from}`),
    );
    expect(foreign).toEqual([]);
  });

  it('is where the routes take their schemas from: no route file builds one', () => {
    const building = sources('lab-api/routes')
      .filter(({ text }) => /\bType\.\w+\(/.test(text) || text.includes("from '@sinclair/typebox'"))
      .map(({ name }) => name);
    expect(building).toEqual([]);
  });

  it("says what grading's rubric says of titles, criterion types and their number", () => {
    expect(JSON.parse(JSON.stringify(contract.CriterionTitle))).toEqual(
      JSON.parse(JSON.stringify(CriterionTitle)),
    );
    expect(contract.MAX_CRITERIA).toBe(MAX_CRITERIA);
    expect([...contract.CRITERION_TYPES].sort()).toEqual([...CRITERION_TYPES].sort());
  });

  it("lists the kit registry's kinds", () => {
    expect([...contract.KIT_KINDS]).toEqual([...KIT_KINDS]);
  });
});
