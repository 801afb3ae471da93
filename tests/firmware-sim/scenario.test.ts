/**
 * Scenario files (firmware-sim/scenario.ts, firmware-sim/scenarios/*.json): the bundled ones
 * load and do what their descriptions say; id expansion; every validation error names its field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKitModel, FAULT_TYPES } from '../../firmware-sim/kit-model.ts';
import type { KitModel } from '../../firmware-sim/model.ts';
import {
  DEFAULT_INTERVAL_MS,
  loadScenario,
  parseScenario,
  type Scenario,
  ScenarioError,
  type ScenarioProblem,
  scenarioNames,
} from '../../firmware-sim/scenario.ts';
import { isValidKitId } from '../../protocol/index.ts';

const T0 = Date.UTC(2025, 2, 10, 2, 0, 0);

const count = <T>(items: T[], key: (item: T) => string) => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

/** The problems `parseScenario` reports for this scenario. */
function problemsOf(raw: unknown): ScenarioProblem[] {
  try {
    parseScenario(raw, 'test.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return [...(error as ScenarioError).problems];
  }
  throw new Error('scenario was accepted');
}

const base = (kits: unknown[], extra: Record<string, unknown> = {}) => ({ name: 't', kits, ...extra });
const greenhouse = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'esp32',
  profile: 'greenhouse',
  ...extra,
});

/** Models of every kit of a scenario, wired to each other for clone faults. */
function models(scenario: Scenario): Map<string, KitModel> {
  const all = new Map<string, KitModel>();
  for (const spec of scenario.kits)
    all.set(
      spec.id,
      createKitModel(spec, (id) => all.get(id)),
    );
  return all;
}

describe('bundled scenarios', () => {
  it('lists demo, faults and greenhouse-class', () => {
    expect(scenarioNames()).toEqual(expect.arrayContaining(['demo', 'faults', 'greenhouse-class']));
  });

  it('demo: 2 esp32 + 1 arduino + 1 firmata, no faults', () => {
    const demo = loadScenario('demo');
    expect(demo.name).toBe('demo');
    expect(count(demo.kits, (k) => k.kind)).toEqual({ esp32: 2, arduino: 1, firmata: 1 });
    for (const spec of demo.kits) expect(spec.faults).toEqual([]);
  });

  it('greenhouse-class: 40 kits (28 esp32, 8 arduino, 4 firmata) gh-01…gh-40, every fault type somewhere', () => {
    const scenario = loadScenario('greenhouse-class');
    expect(scenario.kits).toHaveLength(40);
    expect(scenario.kits.map((k) => k.id)).toEqual(
      Array.from({ length: 40 }, (_, i) => `gh-${String(i + 1).padStart(2, '0')}`),
    );
    expect(count(scenario.kits, (k) => k.kind)).toEqual({ esp32: 28, arduino: 8, firmata: 4 });
    const types = new Set(scenario.kits.flatMap((k) => k.faults.map((f) => f.type)));
    expect([...types].sort()).toEqual([...FAULT_TYPES].sort());
    expect(new Set(scenario.kits.map((k) => k.seed)).size).toBe(40);
    for (const spec of scenario.kits) expect(isValidKitId(spec.id)).toBe(true);
    // every kit can be built and sampled
    const all = models(scenario);
    for (const model of all.values()) expect(Object.keys(model.sample(T0))).toEqual([...model.sensors]);
  });

  it('faults: one kit per fault type plus one correct kit, faults in [2 s, 7 s), 200–500 ms', () => {
    const scenario = loadScenario('faults');
    expect(scenario.kits.map((k) => k.id)).toEqual(['f-ok', ...FAULT_TYPES.map((type) => `f-${type}`)]);
    expect(scenario.kits[0]?.faults).toEqual([]);
    for (const spec of scenario.kits.slice(1)) {
      expect(spec.faults).toHaveLength(1);
      expect(spec.faults[0]).toMatchObject({ type: spec.id.slice(2), at: 2, duration: 5 });
    }
    for (const spec of scenario.kits) {
      expect(spec.intervalMs).toBeGreaterThanOrEqual(200);
      expect(spec.intervalMs).toBeLessThanOrEqual(500);
    }
  });

  it('faults: the kits show their faults in the window (clone copies f-ok, no-alarm sees gas above 400)', () => {
    const all = models(loadScenario('faults'));
    const get = (id: string) => all.get(id) as KitModel;
    const alarms: { t: number; value?: number }[] = [];
    let highGasInWindow = 0;
    for (let t = 0; t <= 10_000; t += 500) {
      const now = T0 + t;
      const samples = new Map([...all].map(([id, model]) => [id, model.sample(now)]));
      const inside = t >= 2_000 && t < 7_000;
      const noAlarm = samples.get('f-no-alarm') as Record<string, number | null>;
      for (const event of get('f-no-alarm').events(now))
        if (event.event === 'alarm') alarms.push({ t, ...event });
      if (inside) {
        expect(samples.get('f-clone')).toEqual(samples.get('f-ok'));
        expect(samples.get('f-unplugged')?.temperature).toBeNull();
        expect(get('f-wifi-drop').transport(now).connected).toBe(false);
        expect(get('f-serial-garbage').transport(now).garbage).toBe(true);
        expect(get('f-clock-skew').transport(now).clockSkewMs).toBe(600_000);
        expect(get('f-slow-sampling').transport(now).intervalMs).toBe(2_000);
        if ((noAlarm.gas as number) > 400) highGasInWindow++;
        expect(get('f-no-alarm').actuators().buzzer).toBe(0);
      } else {
        expect(samples.get('f-clone')).not.toEqual(samples.get('f-ok'));
        expect(get('f-wifi-drop').transport(now).connected).toBe(true);
      }
    }
    expect(highGasInWindow).toBeGreaterThanOrEqual(5);
    // no alarm while the fault lasts; the sketch raises it as soon as the window is over
    expect(alarms).toEqual([{ t: 7_000, event: 'alarm', value: 1 }]);
  });

  it('loads a scenario by path too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-scenario-'));
    const file = join(dir, 'mine.json');
    writeFileSync(file, JSON.stringify(base([greenhouse('my-kit')])));
    const scenario = loadScenario(file);
    expect(scenario.source).toBe(file);
    expect(scenario.kits).toEqual([
      {
        id: 'my-kit',
        kind: 'esp32',
        profile: 'greenhouse',
        intervalMs: DEFAULT_INTERVAL_MS,
        faults: [],
        seed: expect.any(Number),
      },
    ]);
  });
});

describe('expansion', () => {
  it('idPrefix + count gives two-digit ids; the same prefix continues the numbering; from sets it', () => {
    const scenario = parseScenario(
      base([
        { idPrefix: 'gh-', count: 3, kind: 'esp32', profile: 'greenhouse', seed: 10 },
        { idPrefix: 'gh-', count: 2, kind: 'arduino', profile: 'greenhouse' },
        { idPrefix: 'lab2-', count: 2, from: 9, kind: 'firmata', profile: 'security', intervalMs: 1000 },
      ]),
    );
    expect(scenario.kits.map((k) => k.id)).toEqual([
      'gh-01',
      'gh-02',
      'gh-03',
      'gh-04',
      'gh-05',
      'lab2-09',
      'lab2-10',
    ]);
    expect(scenario.kits.slice(0, 3).map((k) => k.seed)).toEqual([10, 11, 12]);
    expect(new Set(scenario.kits.map((k) => k.seed)).size).toBe(7);
    expect(scenario.kits.map((k) => k.intervalMs)).toEqual([2000, 2000, 2000, 2000, 2000, 1000, 1000]);
  });

  it('uses more digits when needed', () => {
    const scenario = parseScenario(
      base([{ idPrefix: 'k', count: 120, kind: 'esp32', profile: 'greenhouse' }]),
    );
    expect(scenario.kits[0]?.id).toBe('k001');
    expect(scenario.kits.at(-1)?.id).toBe('k120');
  });

  it('derives seeds from the scenario name and kit id, repeatably', () => {
    const a = parseScenario(base([greenhouse('a-01'), greenhouse('a-02')]));
    const b = parseScenario(base([greenhouse('a-01'), greenhouse('a-02')]));
    expect(a.kits.map((k) => k.seed)).toEqual(b.kits.map((k) => k.seed));
    expect(a.kits[0]?.seed).not.toBe(a.kits[1]?.seed);
  });

  it('entry faults go to every kit of the entry, the faults map to one kit, entry ones first', () => {
    const scenario = parseScenario(
      base(
        [
          {
            idPrefix: 'gh-',
            count: 3,
            kind: 'esp32',
            profile: 'greenhouse',
            faults: [{ type: 'wifi-drop', at: 5 }],
          },
        ],
        {
          faults: { 'gh-02': [{ type: 'frozen', at: 1, sensor: 'light' }] },
        },
      ),
    );
    expect(scenario.kits.map((k) => k.faults.map((f) => f.type))).toEqual([
      ['wifi-drop'],
      ['wifi-drop', 'frozen'],
      ['wifi-drop'],
    ]);
  });
});

describe('validation errors name the problem', () => {
  const cases: [string, unknown, string, RegExp][] = [
    [
      'unknown profile',
      base([greenhouse('a-01', { profile: 'greenhous' })]),
      'kits[0].profile',
      /unknown profile "greenhous" \(known: greenhouse, cold-chain, security, air-quality\)/,
    ],
    [
      'unknown kind',
      base([greenhouse('a-01', { kind: 'esp8266' })]),
      'kits[0].kind',
      /unknown kind "esp8266"/,
    ],
    [
      'unknown fault type',
      base([greenhouse('a-01', { faults: [{ type: 'melted', at: 1 }] })]),
      'kits[0].faults[0].type',
      /unknown fault type "melted" \(known: unplugged, /,
    ],
    [
      'fault on a sensor the profile does not have',
      base([greenhouse('a-01')], { faults: { 'a-01': [{ type: 'noise', at: 1, sensor: 'gas' }] } }),
      'faults.a-01[0].sensor',
      /kit a-01 \(profile greenhouse\) has no sensor "gas" \(its sensors: temperature, humidity, light, soil_moisture\)/,
    ],
    [
      'swapped with a sensor the profile does not have',
      base([greenhouse('a-01', { faults: [{ type: 'swapped', at: 1, sensors: ['light', 'distance'] }] })]),
      'kits[0].faults[0].sensors',
      /has no sensor "distance"/,
    ],
    [
      'clone of an unknown kit',
      base([greenhouse('a-01')], { faults: { 'a-01': [{ type: 'clone', at: 1, of: 'a-99' }] } }),
      'faults.a-01[0].of',
      /clone of unknown kit "a-99"/,
    ],
    [
      'clone of a kit with another profile',
      base([
        greenhouse('a-01', { faults: [{ type: 'clone', at: 1, of: 'b-01' }] }),
        greenhouse('b-01', { profile: 'security' }),
      ]),
      'kits[0].faults[0].of',
      /cannot clone b-01 \(profile security\)/,
    ],
    [
      'clone of a clone',
      base([
        greenhouse('a-01', { faults: [{ type: 'clone', at: 1, of: 'b-01' }] }),
        greenhouse('b-01', { faults: [{ type: 'clone', at: 1, of: 'a-01' }] }),
      ]),
      'kits[0].faults[0].of',
      /kit b-01 is itself a clone/,
    ],
    [
      'duplicate ids',
      base([greenhouse('gh-02'), { idPrefix: 'gh-', count: 3, kind: 'arduino', profile: 'greenhouse' }]),
      'kits[1]',
      /duplicate kit id "gh-02" \(already given by kits\[0\]\)/,
    ],
    ['invalid id', base([greenhouse('GH-01')]), 'kits[0].id', /"GH-01" is not a valid kit id/],
    [
      'invalid expanded id',
      base([{ idPrefix: 'Lab ', count: 2, kind: 'esp32', profile: 'greenhouse' }]),
      'kits[0].idPrefix',
      /gives "Lab 01", which is not a valid kit id/,
    ],
    [
      'id and idPrefix',
      base([greenhouse('a-01', { idPrefix: 'a-', count: 2 })]),
      'kits[0].id',
      /either "id" or "idPrefix"/,
    ],
    [
      'no id',
      base([{ kind: 'esp32', profile: 'greenhouse' }]),
      'kits[0].id',
      /needs "id", or "idPrefix" and "count"/,
    ],
    [
      'bad count',
      base([{ idPrefix: 'a-', count: 0, kind: 'esp32', profile: 'greenhouse' }]),
      'kits[0].count',
      /count must be/,
    ],
    ['unknown kit field', base([greenhouse('a-01', { profil: 'x' })]), 'kits[0].profil', /unknown field/],
    ['bad interval', base([greenhouse('a-01', { intervalMs: 10 })]), 'kits[0].intervalMs', /from 100 to/],
    [
      'faults map for an unknown kit',
      base([greenhouse('a-01')], { faults: { 'a-02': [{ type: 'wifi-drop', at: 1 }] } }),
      'faults.a-02',
      /no kit with id "a-02"/,
    ],
    [
      'a field the fault type does not use',
      base([greenhouse('a-01', { faults: [{ type: 'wifi-drop', at: 1, sensor: 'light' }] })]),
      'kits[0].faults[0].sensor',
      /"sensor" is not used by a wifi-drop fault/,
    ],
    [
      'missing at',
      base([greenhouse('a-01', { faults: [{ type: 'constant' }] })]),
      'kits[0].faults[0].at',
      /at must be/,
    ],
    [
      'replay from after the fault starts',
      base([greenhouse('a-01', { faults: [{ type: 'replay', at: 5, replayFromSeconds: 5 }] })]),
      'kits[0].faults[0].replayFromSeconds',
      /must be before the fault starts/,
    ],
    [
      'slow-sampling not slower',
      base([
        greenhouse('a-01', { intervalMs: 1000, faults: [{ type: 'slow-sampling', at: 1, intervalMs: 500 }] }),
      ]),
      'kits[0].faults[0].intervalMs',
      /must be longer than the kit's intervalMs \(1000\)/,
    ],
    [
      'wifi-drop on a USB kit',
      base([greenhouse('a-01', { kind: 'arduino', faults: [{ type: 'wifi-drop', at: 1 }] })]),
      'kits[0].faults[0].type',
      /wifi-drop cannot happen on arduino kit a-01: only ESP32 kits use Wi-Fi/,
    ],
    [
      'serial-garbage on an ESP32',
      base([greenhouse('a-01', { faults: [{ type: 'serial-garbage', at: 1 }] })]),
      'kits[0].faults[0].type',
      /only USB serial kits/,
    ],
    [
      'no-alarm on a profile without alarm',
      base([greenhouse('a-01', { faults: [{ type: 'no-alarm', at: 1 }] })]),
      'kits[0].faults[0].type',
      /no-alarm needs a profile with an alarm; greenhouse has none/,
    ],
    ['missing name', { kits: [greenhouse('a-01')] }, 'name', /non-empty string/],
    ['no kits', { name: 't', kits: [] }, 'kits', /non-empty array/],
    ['unknown top-level field', base([greenhouse('a-01')], { kit: [] }), 'kit', /unknown field/],
  ];

  it.each(cases)('%s', (_, raw, field, message) => {
    const problems = problemsOf(raw);
    expect(problems).toContainEqual({ field, message: expect.stringMatching(message) });
  });

  it('lists every problem in the error message, with the file', () => {
    const raw = base([greenhouse('a-01', { profile: 'nope' }), greenhouse('a-01', { kind: 'pi' })]);
    expect(() => parseScenario(raw, 'class.json')).toThrow(
      /class\.json is not a valid scenario:\n {2}kits\[0\]\.profile: unknown profile "nope".*\n {2}kits\[1\]\.kind: unknown kind "pi"/s,
    );
  });

  it('reports a bad fault shared by an entry once, not once per kit', () => {
    const problems = problemsOf(
      base([
        {
          idPrefix: 'gh-',
          count: 5,
          kind: 'esp32',
          profile: 'greenhouse',
          faults: [{ type: 'frozen', at: 1, sensor: 'gas' }],
        },
      ]),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.field).toBe('kits[0].faults[0].sensor');
  });

  it('names a missing bundled scenario and a file that is not JSON', () => {
    expect(() => loadScenario('no-such-scenario')).toThrow(
      /no scenario named "no-such-scenario" \(bundled: .*demo/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-scenario-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"name": "x", kits: []}');
    expect(() => loadScenario(file)).toThrow(/broken\.json is not a valid scenario:\n {2}not JSON/);
    expect(() => loadScenario(join(dir, 'missing.json'))).toThrow(/cannot read the scenario file: not found/);
  });
});
