/**
 * Scenario files: the kits of a simulated class and what goes wrong with them.
 *
 * ```json
 * {
 *   "name": "greenhouse-class",
 *   "description": "40 kits in the greenhouse lab",
 *   "kits": [
 *     { "idPrefix": "gh-", "count": 28, "kind": "esp32", "profile": "greenhouse", "intervalMs": 2000, "seed": 100 },
 *     { "idPrefix": "gh-", "count": 8, "kind": "arduino", "profile": "greenhouse" },
 *     { "id": "boiler-01", "kind": "esp32", "profile": "air-quality",
 *       "faults": [{ "type": "no-alarm", "at": 0 }] }
 *   ],
 *   "faults": {
 *     "gh-07": [{ "type": "unplugged", "at": 60, "duration": 120, "sensor": "temperature" }]
 *   }
 * }
 * ```
 *
 * Kit entries (`kits`):
 * - either `"id"` (one kit) or `"idPrefix"` + `"count"` (many): `gh-` × 28 gives `gh-01` … `gh-28`.
 *   Numbers have at least two digits. Entries with the same prefix continue the numbering
 *   (the next `gh-` entry starts at `gh-29`); `"from"` sets the first number explicitly.
 *   Every id must pass the protocol's `isValidKitId` and be unique in the scenario.
 * - `"kind"`: `esp32`, `arduino` or `firmata`; `"profile"`: one of `PROFILE_NAMES` (physics/profiles.ts).
 * - `"intervalMs"` (default 2000, at least 100): time between messages.
 * - `"seed"` (optional, whole number): kit n of the entry gets seed + n (0-based); without it
 *   the seed is derived from the scenario name and the kit id, so runs are repeatable either way.
 * - `"faults"` (optional): faults given to **every** kit of the entry (for an `"id"` entry: that kit).
 *
 * Faults aimed at particular kits of an `idPrefix` entry go in the top-level `"faults"` map,
 * keyed by kit id. A kit's faults are its entry's faults followed by the map's. Each fault is a
 * `FaultSpec` (model.ts): `type`, `at` (s after the kit starts), optional `duration` (s), and the
 * fields of its type — unknown fields are refused, so a typo is never silently ignored.
 *
 * Validation errors name the field: `kits[2].profile: unknown profile "greenhous" (known: …)`,
 * `faults.gh-07[0].sensor: kit gh-07 (profile greenhouse) has no sensor "gas" …`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isValidKitId } from '../protocol/index.ts';
import { faultProblems } from './kit-model.ts';
import type { FaultSpec, SimKitKind, SimKitSpec } from './model.ts';
import { getProfile, hashString, mixSeed, PROFILE_NAMES } from './physics/index.ts';

export interface Scenario {
  name: string;
  description: string;
  kits: SimKitSpec[];
  /** The file it was read from, or the label given to `parseScenario`. */
  source: string;
}

export interface ScenarioProblem {
  /** Where: `kits[2].profile`, `faults.gh-07[0].of`, `name`. */
  field: string;
  message: string;
}

export class ScenarioError extends Error {
  readonly source: string;
  readonly problems: readonly ScenarioProblem[];

  constructor(source: string, problems: readonly ScenarioProblem[]) {
    super(
      `${source} is not a valid scenario:\n${problems.map((p) => `  ${p.field ? `${p.field}: ` : ''}${p.message}`).join('\n')}`,
    );
    this.name = 'ScenarioError';
    this.source = source;
    this.problems = problems;
  }
}

/** The directory of the bundled scenarios. */
export const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

export const KIT_KINDS: readonly SimKitKind[] = ['esp32', 'arduino', 'firmata'];
export const DEFAULT_INTERVAL_MS = 2_000;
export const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;
const MAX_KITS_PER_ENTRY = 1_000;

const SCENARIO_FIELDS = new Set(['name', 'description', 'kits', 'faults']);
const KIT_FIELDS = new Set([
  'id',
  'idPrefix',
  'count',
  'from',
  'kind',
  'profile',
  'intervalMs',
  'faults',
  'seed',
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isWhole = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/** A kit before its faults are checked, with where each fault came from. */
interface Draft {
  spec: SimKitSpec;
  field: string;
  faultFields: string[];
}

/** Checks a parsed scenario file and expands its kits; throws a `ScenarioError` listing every problem. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const problems: ScenarioProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!isObject(raw)) {
    throw new ScenarioError(source, [
      { field: '', message: 'a scenario is a JSON object {"name", "kits": [...]}' },
    ]);
  }
  for (const key of Object.keys(raw)) {
    if (!SCENARIO_FIELDS.has(key))
      problem(key, `unknown field (allowed: ${[...SCENARIO_FIELDS].join(', ')})`);
  }
  const name = raw.name;
  if (typeof name !== 'string' || name.trim() === '') problem('name', 'name must be a non-empty string');
  const description = raw.description ?? '';
  if (typeof description !== 'string') problem('description', 'description must be a string');
  if (!Array.isArray(raw.kits) || raw.kits.length === 0) {
    problem('kits', 'kits must be a non-empty array of kit entries');
    throw new ScenarioError(source, problems);
  }
  const scenarioName = typeof name === 'string' ? name : '';

  const drafts: Draft[] = [];
  const firstSeen = new Map<string, string>();
  const nextNumber = new Map<string, number>();
  raw.kits.forEach((entry: unknown, index: number) => {
    const at = `kits[${index}]`;
    if (!isObject(entry)) {
      problem(at, 'a kit entry is an object {"id" or "idPrefix"+"count", "kind", "profile", …}');
      return;
    }
    let entryOk = true;
    const bad = (field: string, message: string) => {
      entryOk = false;
      problem(`${at}.${field}`, message);
    };
    for (const key of Object.keys(entry)) {
      if (!KIT_FIELDS.has(key)) bad(key, `unknown field (allowed: ${[...KIT_FIELDS].join(', ')})`);
    }
    const kind = entry.kind;
    if (typeof kind !== 'string' || !(KIT_KINDS as readonly string[]).includes(kind)) {
      bad('kind', `unknown kind ${JSON.stringify(kind)} (known: ${KIT_KINDS.join(', ')})`);
    }
    const profile = entry.profile;
    if (typeof profile !== 'string' || !getProfile(profile)) {
      bad('profile', `unknown profile ${JSON.stringify(profile)} (known: ${PROFILE_NAMES.join(', ')})`);
    }
    const intervalMs = entry.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (!isWhole(intervalMs) || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
      bad(
        'intervalMs',
        `intervalMs must be a whole number of ms from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}`,
      );
    }
    if (entry.seed !== undefined && (!isWhole(entry.seed) || entry.seed < 0)) {
      bad('seed', 'seed must be a whole number ≥ 0');
    }
    const faults = entry.faults ?? [];
    if (!Array.isArray(faults)) bad('faults', 'faults must be an array of faults');

    let ids: string[] = [];
    if (entry.id !== undefined) {
      if (entry.idPrefix !== undefined || entry.count !== undefined || entry.from !== undefined) {
        bad('id', 'give either "id" or "idPrefix" + "count", not both');
      } else if (typeof entry.id !== 'string' || !isValidKitId(entry.id)) {
        bad(
          'id',
          `${JSON.stringify(entry.id)} is not a valid kit id (lower-case letters, digits, - and _, 2–48 characters)`,
        );
      } else ids = [entry.id];
    } else if (entry.idPrefix !== undefined || entry.count !== undefined) {
      const prefix = entry.idPrefix;
      const count = entry.count;
      if (typeof prefix !== 'string') bad('idPrefix', 'idPrefix must be a string, e.g. "gh-"');
      else if (!isWhole(count) || count < 1 || count > MAX_KITS_PER_ENTRY) {
        bad('count', `count must be a whole number from 1 to ${MAX_KITS_PER_ENTRY}`);
      } else if (entry.from !== undefined && (!isWhole(entry.from) || entry.from < 0)) {
        bad('from', 'from must be a whole number ≥ 0');
      } else {
        const from = (entry.from as number | undefined) ?? nextNumber.get(prefix) ?? 1;
        const width = Math.max(2, String(from + count - 1).length);
        ids = Array.from({ length: count }, (_, n) => `${prefix}${String(from + n).padStart(width, '0')}`);
        nextNumber.set(prefix, from + count);
        const wrong = ids.find((id) => !isValidKitId(id));
        if (wrong)
          bad(
            'idPrefix',
            `gives "${wrong}", which is not a valid kit id (lower-case letters, digits, - and _, 2–48 characters)`,
          );
      }
    } else {
      bad('id', 'a kit entry needs "id", or "idPrefix" and "count"');
    }
    if (!entryOk) return;

    ids.forEach((id, n) => {
      const previous = firstSeen.get(id);
      if (previous !== undefined) {
        problem(at, `duplicate kit id "${id}" (already given by ${previous})`);
        return;
      }
      firstSeen.set(id, at);
      const seed =
        entry.seed !== undefined
          ? ((entry.seed as number) + n) >>> 0
          : mixSeed(hashString(scenarioName), hashString(id));
      drafts.push({
        spec: {
          id,
          kind: kind as SimKitKind,
          profile: profile as string,
          intervalMs: intervalMs as number,
          faults: [...(faults as FaultSpec[])],
          seed,
        },
        field: at,
        faultFields: (faults as unknown[]).map((_, f) => `${at}.faults[${f}]`),
      });
    });
  });

  const byId = new Map(drafts.map((draft) => [draft.spec.id, draft]));
  if (raw.faults !== undefined) {
    if (!isObject(raw.faults)) {
      problem('faults', 'faults must be an object mapping kit ids to arrays of faults: {"gh-07": [...]}');
    } else {
      for (const [id, list] of Object.entries(raw.faults)) {
        const draft = byId.get(id);
        if (!draft) {
          problem(`faults.${id}`, `no kit with id "${id}" in this scenario`);
          continue;
        }
        if (!Array.isArray(list)) {
          problem(`faults.${id}`, 'must be an array of faults');
          continue;
        }
        list.forEach((fault: unknown, f: number) => {
          draft.spec.faults.push(fault as FaultSpec);
          draft.faultFields.push(`faults.${id}[${f}]`);
        });
      }
    }
  }

  const specs = new Map(drafts.map((draft) => [draft.spec.id, draft.spec]));
  // A fault of an idPrefix entry is shared by all its kits: report its problems once, for the first.
  const reportedBy = new Map<string, string>();
  for (const draft of drafts) {
    draft.spec.faults.forEach((fault, f) => {
      for (const found of faultProblems(fault, draft.spec, specs)) {
        const base = draft.faultFields[f] as string;
        const field = found.field ? `${base}.${found.field}` : base;
        const by = reportedBy.get(field);
        if (by !== undefined && by !== draft.spec.id) continue;
        reportedBy.set(field, draft.spec.id);
        problem(field, found.message);
      }
    });
  }

  if (problems.length > 0) throw new ScenarioError(source, problems);
  return {
    name: scenarioName,
    description: description as string,
    kits: drafts.map((draft) => draft.spec),
    source,
  };
}

/** Names of the bundled scenarios (files in `SCENARIO_DIR`). */
export function scenarioNames(): string[] {
  try {
    return readdirSync(SCENARIO_DIR)
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Reads and checks a scenario: a path (anything with `/` or ending in `.json`) or the name of a
 * bundled scenario (`demo`, `faults`, `greenhouse-class`).
 */
export function loadScenario(pathOrName: string): Scenario {
  const isPath = pathOrName.includes('/') || pathOrName.includes('\\') || pathOrName.endsWith('.json');
  const file = isPath ? pathOrName : join(SCENARIO_DIR, `${pathOrName}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message;
    const message = isPath
      ? `cannot read the scenario file: ${reason}`
      : `no scenario named "${pathOrName}" (bundled: ${scenarioNames().join(', ') || 'none'})`;
    throw new ScenarioError(file, [{ field: '', message }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(file, [{ field: '', message: `not JSON: ${(error as Error).message}` }]);
  }
  return parseScenario(raw, file);
}
