/**
 * The criterion registry: one line per type, each type one module (<type>.ts, built with
 * define.ts `defineCriterion`: its name, hint, parameter schema and editor template, the sensors
 * and actuators it reads, its checks, its evaluation and its sentences). The union of criterion
 * types, the rubric schema (rubric.ts), the rubric editor's list and templates and the README's
 * table (docs.ts) all come from {@link CRITERION_PLUGINS}; the rubric's checks, the series live
 * grading buffers and the evaluation of every criterion go through here.
 *
 * Adding a criterion type: its module, and its line below.
 *
 * This is also grading's entry for the browser: the rubric editor loads it, on demand, for its
 * type list and templates. Nothing it imports, transitively, may use Node (`tsc -p dashboards`,
 * which has no Node types, and the Vite build check it); the README's table (docs.ts) is not here.
 */
import type { Detail } from '../evidence.ts';
import type { Criterion } from '../rubric.ts';
import type { CriterionResult, Localized } from '../types.ts';
import { actuatorEffect } from './actuator-effect.ts';
import { authenticity } from './authenticity.ts';
import { completeness } from './completeness.ts';
import type { CriterionDefinition } from './define.ts';
import { events } from './events.ts';
import {
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

/** Every criterion type's plug-in, in the order people are shown them. */
export const CRITERION_PLUGINS = [
  sampling,
  completeness,
  range,
  tolerance,
  stability,
  thresholdResponse,
  actuatorEffect,
  events,
  authenticity,
] as const;

/** The plug-in of any type, as the registry lists it (each with its own params). */
export type RegisteredPlugin = (typeof CRITERION_PLUGINS)[number];
/** The names of the criterion types: `sampling` | `completeness` | … */
export type CriterionType = RegisteredPlugin['type'];
/** The plug-in of one type. */
export type PluginOf<K extends CriterionType> = Extract<RegisteredPlugin, { type: K }>;

export const CRITERION_TYPES: readonly CriterionType[] = CRITERION_PLUGINS.map((p) => p.type);

/** A plug-in as the code that handles any criterion sees it. */
export interface AnyCriterionPlugin extends CriterionDefinition<CriterionType> {
  reads(criterion: Criterion): CriterionReads;
  check(criterion: Criterion): Localized[];
  scan?(criterion: Criterion, options: ScanOptions): CriterionScan;
  evaluate?(criterion: Criterion, ctx: GradingContext, detail: Detail, env: EvaluationEnv): CriterionResult;
}

// Each plug-in's functions take its own type's criterion; a criterion of the union reaches only
// the plug-in of its type (by `criterion.type`), hence the one cast.
const BY_TYPE: ReadonlyMap<string, AnyCriterionPlugin> = new Map(
  CRITERION_PLUGINS.map((p) => [p.type, p as unknown as AnyCriterionPlugin]),
);

/** The definition of a type (its name, hint, params…), or undefined when there is no such type. */
export function criterionDefinition(type: string): CriterionDefinition | undefined {
  return BY_TYPE.get(type);
}

/** Whether a name is a criterion type. */
export function isCriterionType(type: string): type is CriterionType {
  return BY_TYPE.has(type);
}

/** The plug-in of a criterion's type (every type of a validated rubric has one). */
export function pluginOf(type: CriterionType): AnyCriterionPlugin {
  return BY_TYPE.get(type) as AnyCriterionPlugin;
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
    const plugin = BY_TYPE.get(criterion.type);
    if (!plugin) continue;
    const reads = plugin.reads(criterion);
    for (const ref of reads.sensors) sensors.add(ref.name);
    for (const ref of reads.actuators) actuators.add(ref.name);
  }
  return { sensors: [...sensors], actuators: [...actuators] };
}

export { LIVE_MINIMUM } from './common.ts';
export {
  type Bilingual,
  type CriterionDefinition,
  type CriterionEvaluation,
  type CriterionPlugin,
  CriterionTitle,
  type CriterionWith,
  defineCriterion,
  NAME_PATTERN,
} from './define.ts';
export type {
  CriterionReads,
  CriterionScan,
  EvaluationEnv,
  GradingContext,
  NameRef,
  ScanOptions,
} from './plugin.ts';
export { RATE_JITTER } from './sampling.ts';
