/**
 * The criterion plug-ins, one per type of the definitions' registry (definitions/index.ts): the
 * rubric's checks, the series live grading buffers, and the evaluation of every criterion go
 * through here. A type in the definitions without its plug-in below does not compile.
 */
import type { Detail } from '../evidence.ts';
import type { Criterion } from '../rubric.ts';
import type { CriterionResult, Localized } from '../types.ts';
import { actuatorEffect } from './actuator-effect.ts';
import { authenticity } from './authenticity.ts';
import { completeness } from './completeness.ts';
import type { CriterionType } from './definitions/index.ts';
import { events } from './events.ts';
import {
  type CriterionPlugin,
  type CriterionReads,
  type CriterionScan,
  type EvaluationEnv,
  type GradingContext,
  type ScanOptions,
  scanAll,
} from './plugin.ts';
import { range } from './range.ts';
import { sampling } from './sampling.ts';
import { stability } from './stability.ts';
import { thresholdResponse } from './threshold-response.ts';
import { tolerance } from './tolerance.ts';

/** Every type's plug-in, by type. */
export const CRITERION_PLUGINS: { readonly [K in CriterionType]: CriterionPlugin<K> } = {
  sampling,
  completeness,
  range,
  tolerance,
  stability,
  threshold_response: thresholdResponse,
  actuator_effect: actuatorEffect,
  events,
  authenticity,
};

/** A plug-in as the code that handles any criterion sees it. */
export interface AnyCriterionPlugin {
  readonly definition: CriterionPlugin<CriterionType>['definition'];
  reads(criterion: Criterion): CriterionReads;
  check(criterion: Criterion): Localized[];
  scan?(criterion: Criterion, options: ScanOptions): CriterionScan;
  evaluate?(criterion: Criterion, ctx: GradingContext, detail: Detail, env: EvaluationEnv): CriterionResult;
}

/** The plug-in of a criterion's type (every type of a validated rubric has one). */
export function pluginOf(type: CriterionType): AnyCriterionPlugin {
  return CRITERION_PLUGINS[type] as unknown as AnyCriterionPlugin;
}

/** The scan of a criterion whose type evaluates one series in one pass; undefined for the others. */
export function createScan(criterion: Criterion, options: ScanOptions = {}): CriterionScan | undefined {
  return pluginOf(criterion.type).scan?.(criterion, options);
}

/**
 * One criterion on the context: its scan over the window's readings, or its evaluation of the
 * whole context. `detail` (default `full`) is how much of the result to build.
 */
export function evaluateWith(
  criterion: Criterion,
  ctx: GradingContext,
  env: EvaluationEnv,
  detail: Detail = 'full',
): CriterionResult {
  const plugin = pluginOf(criterion.type);
  if (plugin.scan) return scanAll(plugin.scan(criterion, {}), ctx, detail);
  return (plugin.evaluate as NonNullable<AnyCriterionPlugin['evaluate']>)(criterion, ctx, detail, env);
}

/** The sensors and the actuators the rubric's criteria read (each once, in order). */
export function rubricReads(criteria: readonly Criterion[]): { sensors: string[]; actuators: string[] } {
  const sensors = new Set<string>();
  const actuators = new Set<string>();
  for (const criterion of criteria) {
    // A stored rubric of a type since removed reads nothing (its evaluation fails on its own).
    const plugin = CRITERION_PLUGINS[criterion.type] as AnyCriterionPlugin | undefined;
    if (!plugin) continue;
    const reads = plugin.reads(criterion);
    for (const ref of reads.sensors) sensors.add(ref.name);
    for (const ref of reads.actuators) actuators.add(ref.name);
  }
  return { sensors: [...sensors], actuators: [...actuators] };
}

export { LIVE_MINIMUM } from './common.ts';
export {
  CRITERION_DEFINITIONS,
  CRITERION_TYPES,
  type CriterionType,
} from './definitions/index.ts';
export {
  type CriterionEvaluation,
  type CriterionPlugin,
  type CriterionReads,
  type CriterionScan,
  criterionPlugin,
  type EvaluationEnv,
  type GradingContext,
  type NameRef,
  type ScanOptions,
} from './plugin.ts';
export { RATE_JITTER } from './sampling.ts';
