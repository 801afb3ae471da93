/**
 * Criteria are plug-ins listed in one registry: every type is one module with a parameter schema,
 * an editor template that passes it, a name, hint and live rule in both languages, and an
 * evaluation that says what it found in both languages (and, while the attempt runs, what it
 * waits for). The rubric editor lists exactly the registry's types with their templates, and
 * loads nothing Node-only (tests/dashboards/criteria.test.ts); grading tells sensors from
 * actuators by the protocol's `kind`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { scanAll } from '../../grading/criteria/plugin.ts';
import { range } from '../../grading/criteria/range.ts';
import {
  CRITERIA_TABLE_END,
  CRITERIA_TABLE_START,
  CRITERION_PLUGINS,
  CRITERION_TYPES,
  type Criterion,
  CriterionSchema,
  createContext,
  criteriaTable,
  defaultAuthenticitySensors,
  defineCriterion,
  type GradingContext,
  type GradingData,
  gradeAttempt,
  gradeLive,
  type Rubric,
  rubricIssues,
  rubricSensors,
  type SeriesPoint,
} from '../../grading/index.ts';
import { ACTUATOR_NAMES, isActuator, KNOWN_SENSORS } from '../../protocol/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CJK = /[\u4e00-\u9fff]/;
const T0 = Date.UTC(2026, 2, 2, 1, 0, 0);
const S = 1000;

/** A criterion of the type with its editor template as params. */
function fromTemplate(type: string, template: unknown): Criterion {
  return {
    id: `${type}_check`,
    title: { 'zh-CN': '检查', en: 'Check' },
    weight: 100,
    partialCredit: true,
    type,
    params: template,
  } as Criterion;
}

/**
 * 15 minutes at 1 Hz: a noisy temperature near 25 °C that goes above 28 °C at minute 5, the fan
 * turning on 3 s later and the temperature falling back; an `alarm` event at the crossing.
 * Nothing happens in the first minute.
 */
function kitData(): GradingData {
  const temperature: SeriesPoint[] = [];
  const fan: SeriesPoint[] = [];
  for (let i = 0; i < 900; i++) {
    const ts = T0 + i * S;
    const hot = i >= 300 && i < 330 ? 4 + (i - 300) * 0.01 : i >= 330 && i < 400 ? 4 - (i - 330) * 0.08 : 0;
    const noise = (Math.sin(i * 12.9898) * 43758.5453) % 1;
    temperature.push({ ts, value: Math.round((25 + hot + noise * 0.4) * 10) / 10 });
    fan.push({ ts, value: i >= 303 && i < 400 ? 1 : 0 });
  }
  return {
    series: { temperature, fan },
    events: [{ ts: T0 + 301 * S, event: 'alarm', value: 1 }],
    commands: [],
  };
}

describe('the criterion registry', () => {
  it('lists each type once, in its order, each with its evaluation', () => {
    const types = CRITERION_PLUGINS.map((p) => p.type);
    expect(new Set(types).size).toBe(types.length);
    expect([...CRITERION_TYPES]).toEqual(types);
    for (const plugin of CRITERION_PLUGINS) {
      expect(typeof plugin.reads, plugin.type).toBe('function');
      expect(typeof plugin.check, plugin.type).toBe('function');
      // Exactly one way to evaluate it: a scan over one series, or the whole context.
      expect(typeof plugin.scan === 'function', plugin.type).not.toBe(typeof plugin.evaluate === 'function');
    }
    // The rubric's schema has one alternative per type.
    const alternatives = CriterionSchema.anyOf.map((s) => s.properties.type.const);
    expect(alternatives).toEqual(types);
  });

  it('gives every type a snake_case name, a parameter schema its template passes, and texts in both languages', () => {
    for (const d of CRITERION_PLUGINS) {
      expect(d.type).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(d.params.type, d.type).toBe('object');
      expect(d.params.additionalProperties, d.type).toBe(false);
      expect([...Value.Errors(d.params, d.template)], d.type).toEqual([]);
      expect(d.paramsHint, d.type).toMatch(/^\{.*\}$/);
      for (const text of [d.title, d.hint, d.whenJudged]) {
        expect(text.en.trim(), d.type).not.toBe('');
        expect(text['zh-CN'], d.type).toMatch(CJK);
        expect(text.en, d.type).not.toMatch(CJK);
      }
    }
  });

  it('accepts each template as a criterion of a task that requires its sensors and actuators', () => {
    for (const d of CRITERION_PLUGINS) {
      const rubric = { criteria: [fromTemplate(d.type, d.template)] };
      const issues = rubricIssues(rubric, { requiredSensors: ['temperature'], requiredActuators: ['fan'] });
      expect(issues, d.type).toEqual([]);
      // Its sensors and actuators are among those a task must require, and live grading buffers them.
      const reads = d.reads(rubric.criteria[0] as never);
      for (const ref of [...reads.sensors, ...reads.actuators]) {
        expect(['temperature', 'fan'], d.type).toContain(ref.name);
        expect(rubricSensors(rubric), d.type).toContain(ref.name);
      }
      // Without them, the rubric names what is missing.
      if (reads.sensors.length + reads.actuators.length > 0) {
        const missing = rubricIssues(rubric, { requiredSensors: [], requiredActuators: [] });
        expect(missing.length, d.type).toBeGreaterThan(0);
      }
    }
  });

  it('evaluates each type and says what it found in both languages; while running, what it waits for', () => {
    const data = kitData();
    for (const d of CRITERION_PLUGINS) {
      const rubric: Rubric = { criteria: [fromTemplate(d.type, d.template)] };
      const final = gradeAttempt(rubric, { from: T0, to: T0 + 900 * S }, data, {
        requiredSensors: ['temperature'],
      });
      const result = final.criteria[0];
      expect(result?.type, d.type).toBe(d.type);
      expect(result?.pending, d.type).toBeUndefined();
      expect(result?.explanation.en, d.type).toMatch(/\w/);
      expect(result?.explanation['zh-CN'], d.type).toMatch(CJK);
      expect(result?.evidence.summary?.en, d.type).toMatch(/\w/);
      expect(result?.evidence.summary?.['zh-CN'], d.type).toMatch(CJK);

      // Thirty seconds in, nothing can be judged yet.
      const early = gradeLive(
        rubric,
        { from: T0, to: T0 + 30 * S },
        data,
        { requiredSensors: ['temperature'] },
        'explained',
        {
          running: true,
        },
      ).criteria[0];
      expect(early?.pending, d.type).toBe(true);
      expect(early?.score, d.type).toBe(0);
      expect(early?.waitingFor?.en, d.type).toMatch(/\w/);
      expect(early?.waitingFor?.['zh-CN'], d.type).toMatch(CJK);
    }
  });

  it('does not compile a type that leaves a part out (checked by tsc: these are never run)', () => {
    const definition = {
      type: 'range',
      title: range.title,
      hint: range.hint,
      paramsHint: range.paramsHint,
      whenJudged: range.whenJudged,
      params: range.params,
      template: range.template,
    } as const;
    const reads = () => ({ sensors: [], actuators: [] });
    const check = () => [];
    const scan = range.scan as NonNullable<typeof range.scan>;
    const evaluate = (criterion: Criterion & { type: 'range' }, ctx: GradingContext) =>
      scanAll(scan(criterion, {}), ctx);
    const notRun = () => {
      // the whole of a type: its definition, reads, checks and one evaluation (either)
      const whole = defineCriterion({ ...definition, reads, check, scan });
      defineCriterion({ ...definition, reads, check, evaluate });
      // @ts-expect-error a type without its checks
      defineCriterion({ ...definition, reads, scan });
      // @ts-expect-error a type without the sensors it reads
      defineCriterion({ ...definition, check, scan });
      // @ts-expect-error a type without an evaluation
      defineCriterion({ ...definition, reads, check });
      // @ts-expect-error a type with two evaluations
      defineCriterion({ ...definition, reads, check, scan, evaluate });
      // @ts-expect-error a type without its editor template
      defineCriterion({ ...definition, reads, check, scan, template: undefined });
      // @ts-expect-error a template its params do not pass
      defineCriterion({ ...definition, reads, check, scan, template: { sensor: 'temperature' } });
      // @ts-expect-error a type without its hint
      defineCriterion({ ...definition, reads, check, scan, hint: undefined });
      // @ts-expect-error another type's evaluation (it takes a range criterion)
      defineCriterion({ ...definition, type: 'new_type', reads, check, scan });
      defineCriterion({
        ...definition,
        // its functions take its own params, typed
        reads: ({ params }) => ({ sensors: [{ name: params.sensor, field: 'sensor' }], actuators: [] }),
        // @ts-expect-error a param its schema does not have
        check: ({ params }) => (params.maximum > 0 ? [] : []),
        scan,
      });
      return whole;
    };
    expect(typeof notRun).toBe('function');
  });

  it('writes the README table from the registry, and the README keeps it so', () => {
    const table = criteriaTable();
    for (const d of CRITERION_PLUGINS) expect(table).toContain(`\`${d.type}\``);
    expect(criteriaTable('zh-CN')).toMatch(CJK);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(CRITERIA_TABLE_START);
    const end = readme.indexOf(CRITERIA_TABLE_END);
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    expect(readme.slice(start + CRITERIA_TABLE_START.length, end).trim()).toBe(table);
  });
});

describe('sensors and actuators', () => {
  it("come from the protocol's kind: every known name has one, and the actuators are the parts the kit drives", () => {
    for (const [name, spec] of Object.entries(KNOWN_SENSORS))
      expect(['sensor', 'actuator'], name).toContain(spec.kind);
    expect([...ACTUATOR_NAMES].sort()).toEqual(['buzzer', 'fan', 'led', 'pump', 'relay', 'servo']);
    expect(isActuator('temperature')).toBe(false);
    expect(isActuator('co2_ext')).toBe(false);
  });

  it('authenticity leaves actuators out by default (a servo sweeping its angle is not a measurement)', () => {
    const series = (values: number[]) => values.map((value, i) => ({ ts: T0 + i * S, value }));
    const data: GradingData = {
      series: {
        temperature: series([25.1, 25.3, 24.9]),
        servo: series([0, 90, 180]),
        fan: series([0, 1, 0]),
      },
      events: [],
      commands: [],
    };
    const ctx = createContext({ from: T0, to: T0 + 3 * S }, data);
    expect(defaultAuthenticitySensors({ criteria: [] }, ctx, Object.keys(data.series), {})).toEqual([
      'temperature',
    ]);
  });
});
