/**
 * Every route's numbers in the query string and path, given absurd values (too large for a
 * database integer, 1e308, negative, unsafe integers, far-future dates): the answer is a clear
 * 4xx or a normal answer, never a 500. Walked from the OpenAPI document, so new routes are covered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
  // A kit with readings, so its telemetry routes get as far as the store.
  await lab.registry.addKit({ id: 'fuzz-kit' });
  await lab.store.write([{ kitId: 'fuzz-kit', ts: Date.now() - 1000, readings: { temperature: 21 } }]);
}, 60_000);
afterAll(async () => {
  await lab.close();
});

interface Parameter {
  in: 'query' | 'path';
  name: string;
  required?: boolean;
  schema: { type?: string; format?: string; enum?: unknown[]; anyOf?: { type?: string; format?: string }[] };
}
type Spec = { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };

const ABSURD_NUMBERS = [
  '99999999999999999999999',
  '1e308',
  '-1',
  '9007199254740993',
  '-99999999999999999999',
];
const ABSURD_DATES = ['275760-09-13T00:00:00.001Z', '0000-01-01T00:00:00Z'];

function kinds(schema: Parameter['schema']): { number: boolean; date: boolean } {
  const options = schema.anyOf ?? [schema];
  return {
    number: options.some((s) => s.type === 'integer' || s.type === 'number'),
    date: options.some((s) => s.format === 'date-time'),
  };
}

/** A valid-looking value for a parameter we are not probing. */
function plain(parameter: Parameter): string {
  if (parameter.schema.enum) return String(parameter.schema.enum[0]);
  if (parameter.name === 'kitId') return 'fuzz-kit';
  if (parameter.in === 'path') return '00000000-0000-4000-8000-000000000000';
  if (kinds(parameter.schema).number) return '1';
  return 'temperature';
}

describe('absurd numbers in queries', () => {
  it('never answer 500', async () => {
    const spec = (lab.app as unknown as { swagger(): Spec }).swagger();
    const failures: string[] = [];
    let probes = 0;
    for (const [path, operations] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (method !== 'get') continue; // reads: probing changes must not change things
        const parameters = operation.parameters ?? [];
        for (const probed of parameters) {
          const { number, date } = kinds(probed.schema);
          if (!number && !date) continue;
          for (const value of [...(number ? ABSURD_NUMBERS : []), ...(date ? ABSURD_DATES : [])]) {
            let url = path;
            const query = new URLSearchParams();
            for (const parameter of parameters) {
              const text = parameter === probed ? value : plain(parameter);
              if (parameter.in === 'path') url = url.replace(`{${parameter.name}}`, encodeURIComponent(text));
              else if (parameter === probed || parameter.required) query.set(parameter.name, text);
            }
            const target = `${url}${query.size ? `?${query}` : ''}`;
            const response = await lab.call({ method: 'GET', url: target, as: lab.users.admin });
            probes++;
            if (response.statusCode >= 500) failures.push(`GET ${target} → ${response.statusCode}`);
          }
        }
      }
    }
    expect(probes).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  }, 60_000);
});
