/**
 * Building results: numbers and names for people (sensor labels and units from
 * protocol/sensors.ts, in both languages), capped span lists, scores with or without partial
 * credit, and pending results (live grading, not enough data to judge yet).
 */
import {
  capitalized,
  derivedSensor,
  sensorLabel,
  sensorSpec,
  sensorStates,
  sensorUnit,
} from '../protocol/index.ts';
import type { Criterion } from './rubric.ts';
import {
  type CriterionResult,
  type Evidence,
  type EvidenceSpan,
  type Localized,
  MAX_SPANS,
} from './types.ts';

/** A number as people read it: at most 3 decimals below 1, 2 below 100, 1 from 100 on. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  const decimals = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(value.toFixed(decimals)));
}

/** A measured number stored without binary noise (6 decimals). */
export function num(value: number): number {
  if (Number.isInteger(value) || !Number.isFinite(value)) return value;
  // Cheaper than toFixed (live grading rounds ~10⁵ numbers a second); beyond 1e9 the scaled value
  // would lose integer precision, and toFixed is exact there.
  return Math.abs(value) < 1e9 ? Math.round(value * 1e6) / 1e6 : Number(value.toFixed(6));
}

/** Seconds from ms, for sentences. */
export const sec = (ms: number) => fmt(ms / 1000);

/** A number to one decimal, rounded down: what was achieved, never shown as more than it was. */
export function floor1(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Math.floor(value * 10 + 1e-9) / 10);
}

/** Minutes from ms to one decimal, rounded down (5.54 min → "5.5"). */
export const minutes1 = (ms: number) => floor1(ms / 60_000);

/** A duration as people say it: seconds under two minutes, else minutes (one decimal, rounded down). */
export function duration(ms: number): Localized {
  if (ms < 120_000) {
    const s = String(Math.floor(ms / 1000));
    return { 'zh-CN': `${s} 秒`, en: `${s} s` };
  }
  const m = minutes1(ms);
  return { 'zh-CN': `${m} 分钟`, en: `${m} min` };
}

/** "1 reading", "3 readings". */
export function plural(n: number, singular: string, many = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : many}`;
}

/** The sensor's label in both languages (温度 / temperature): what sentences call it. */
export function label(sensor: string): Localized {
  return sensorLabel(sensor);
}

/** The English label at the start of a sentence (a name without a label stays as it is: `co2_ext`). */
export function Label(sensor: string): string {
  const named = sensorSpec(sensor) !== undefined || derivedSensor(sensor) !== undefined;
  return named ? capitalized(sensorLabel(sensor).en) : sensor;
}

/** Labels joined as a list: "温度、湿度" / "temperature and humidity". */
export function labels(sensors: readonly string[]): Localized {
  const en = sensors.map((s) => sensorLabel(s).en);
  return {
    'zh-CN': sensors.map((s) => sensorLabel(s)['zh-CN']).join('、'),
    en: en.length < 2 ? (en[0] ?? '') : `${en.slice(0, -1).join(', ')} and ${en[en.length - 1]}`,
  };
}

/** The unit as written after a number ("25 °C", "60 %", a servo's "90°"), or nothing. */
function withUnit(text: string, unit: string | undefined): string {
  if (!unit || unit === '0/1') return text;
  return unit === '°' ? `${text}°` : `${text} ${unit}`;
}

/** A reading of the sensor with its unit; a state sensor's 0/1 as words (开/关, on/off). */
export function qty(sensor: string, value: number): Localized {
  const states = sensorStates(sensor);
  if (states && (value === 0 || value === 1)) return value === 1 ? states.on : states.off;
  const text = withUnit(fmt(value), sensorUnit(sensor));
  return { 'zh-CN': text, en: text };
}

/** A number in the sensor's unit (a change, a bound, a spread) without state words. */
export function amount(sensor: string, value: number): string {
  return withUnit(fmt(value), sensorUnit(sensor));
}

/** The sensor's unit per minute ("°C/min" / "°C/分钟"), for drifts. */
export function perMinute(sensor: string): Localized {
  const unit = sensorUnit(sensor);
  return unit && unit !== '0/1'
    ? { 'zh-CN': `${unit}/分钟`, en: `${unit}/min` }
    : { 'zh-CN': '/分钟', en: 'per minute' };
}

/** Keeps at most MAX_SPANS spans: failed ones first, then in time order; says how many were left out. */
export function capSpans(spans: EvidenceSpan[], measured: Record<string, number>): EvidenceSpan[] {
  if (spans.length <= MAX_SPANS) return spans;
  const failed = spans.filter((s) => !s.ok);
  const passed = spans.filter((s) => s.ok);
  const kept = [...failed.slice(0, MAX_SPANS), ...passed.slice(0, Math.max(0, MAX_SPANS - failed.length))];
  kept.sort((a, b) => a.from - b.from);
  measured.spansOmitted = spans.length - kept.length;
  return kept;
}

/** Evidence: the numbers (rounded), the spans (capped) and, for people, the numbers as sentences. */
export function evidence(
  measured: Record<string, number>,
  spans: EvidenceSpan[] = [],
  summary?: Localized,
): Evidence {
  const clean: Record<string, number> = {};
  for (const key in measured) clean[key] = num(measured[key] as number);
  const out: Evidence = { measured: clean, spans: capSpans(spans, clean) };
  if (summary) out.summary = summary;
  return out;
}

const CJK_THEN_LATIN = /([\u3400-\u9fff])([A-Za-z0-9_])/g;
const LATIN_THEN_CJK = /([A-Za-z0-9_])([\u3400-\u9fff])/g;

/**
 * Chinese text with a space between Chinese and Latin letters or digits ("共 167 个", "从未 fan
 * 开启"), as Chinese typesetting wants them; a sensor name without a Chinese label reads right.
 */
export function zhSpaced(text: string): string {
  return text.replace(CJK_THEN_LATIN, '$1 $2').replace(LATIN_THEN_CJK, '$1 $2');
}

export const say = (en: string, zh: string): Localized => ({ 'zh-CN': zhSpaced(zh), en });

/**
 * The score: with partialCredit, weight × fraction (fraction capped to [0, 1], floored to 0.01
 * so a criterion that did not pass never shows its full weight); without, weight or 0.
 */
export function score(criterion: Criterion, passed: boolean, fraction: number): number {
  if (passed) return criterion.weight;
  if (!criterion.partialCredit) return 0;
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const points = Math.floor(criterion.weight * f * 100 + 1e-6) / 100;
  return Math.min(points, Math.max(0, criterion.weight - 0.01));
}

/**
 * How much of a result to build: `full` (evidence spans, numbers, sentence: final grades),
 * `explained` (numbers and sentence, no spans: live states), `verdict` (score and passed only:
 * live grading deciding whether anything a student sees changed).
 */
export type Detail = 'full' | 'explained' | 'verdict';

// Shared by every verdict, and frozen: nobody may fill them in.
const NO_EVIDENCE = Object.freeze({
  measured: Object.freeze({}),
  spans: Object.freeze([]),
}) as unknown as Evidence;
const NO_EXPLANATION: Localized = Object.freeze({ 'zh-CN': '', en: '' });

/** A result with score and passed only (detail `verdict`): no evidence, empty sentences. */
export function verdict(criterion: Criterion, passed: boolean, fraction: number): CriterionResult {
  return result(criterion, passed, fraction, NO_EVIDENCE, NO_EXPLANATION);
}

/** What a pending criterion waits for: more data (time, readings), the condition, or events. */
export type Awaited = 'data' | 'condition' | 'events';

const WAITING: Record<Awaited, Localized> = {
  data: { 'zh-CN': '等待数据：', en: 'Waiting for data: ' },
  condition: { 'zh-CN': '等待触发：', en: 'Waiting for the condition: ' },
  events: { 'zh-CN': '等待事件：', en: 'Waiting for events: ' },
};

/**
 * A criterion live grading cannot judge yet (the attempt runs, and what it needs has not
 * happened): score 0, not passed, `pending`. With detail `verdict` no sentence; otherwise
 * `waitingFor` (what it waits for, "需要 30 分钟的数据，已有 2 分钟") and the explanation that
 * says so, from `waiting()` (called only then), with the numbers measured so far.
 */
export function pending(
  criterion: Criterion,
  detail: Detail,
  awaited: Awaited,
  waiting: () => Localized,
  measured: () => Record<string, number> = () => ({}),
): CriterionResult {
  if (detail === 'verdict') {
    const out = verdict(criterion, false, 0);
    out.pending = true;
    return out;
  }
  const waitingFor = waiting();
  const prefix = WAITING[awaited];
  const explanation = say(`${prefix.en}${waitingFor.en}.`, `${prefix['zh-CN']}${waitingFor['zh-CN']}。`);
  const ev = evidence(measured(), [], detail === 'full' ? explanation : undefined);
  const out = result(criterion, false, 0, ev, explanation);
  out.pending = true;
  out.waitingFor = { 'zh-CN': zhSpaced(waitingFor['zh-CN']), en: waitingFor.en };
  return out;
}

export function result(
  criterion: Criterion,
  passed: boolean,
  fraction: number,
  ev: Evidence,
  explanation: Localized,
): CriterionResult {
  return {
    id: criterion.id,
    type: criterion.type,
    weight: criterion.weight,
    score: score(criterion, passed, fraction),
    passed,
    evidence: ev,
    explanation,
  };
}
