/** Building results: numbers for people, capped span lists, scores with or without partial credit. */
import type { Criterion } from '../lab-api/rubric.ts';
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

export function evidence(measured: Record<string, number>, spans: EvidenceSpan[] = []): Evidence {
  const clean: Record<string, number> = {};
  for (const key in measured) clean[key] = num(measured[key] as number);
  return { measured: clean, spans: capSpans(spans, clean) };
}

export const say = (en: string, zh: string): Localized => ({ 'zh-CN': zh, en });

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
