/**
 * The criterion types a rubric may use, as definitions: name, hint, parameter schema, editor
 * template (definitions/<type>.ts). This is grading's entry for the browser: the rubric editor
 * takes its type list and templates from here, and nothing here evaluates (the evaluation of each
 * type is its plug-in, grading/criteria/<type>.ts, registered in grading/criteria/index.ts).
 *
 * Adding a criterion type: its definition here (a file and a line below), its plug-in there (a
 * file and a line); the plug-in registry does not compile until every type here has one.
 */
import { actuatorEffect } from './actuator-effect.ts';
import { authenticity } from './authenticity.ts';
import { completeness } from './completeness.ts';
import type { CriterionDefinition } from './define.ts';
import { events } from './events.ts';
import { range } from './range.ts';
import { sampling } from './sampling.ts';
import { stability } from './stability.ts';
import { thresholdResponse } from './threshold-response.ts';
import { tolerance } from './tolerance.ts';

export { type Bilingual, type CriterionDefinition, defineCriterion, NAME_PATTERN } from './define.ts';

/** Every criterion type, in the order people are shown them. */
export const CRITERION_DEFINITIONS = [
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

export type AnyCriterionDefinition = (typeof CRITERION_DEFINITIONS)[number];
/** The names of the criterion types: `sampling` | `completeness` | … */
export type CriterionType = AnyCriterionDefinition['type'];
export type DefinitionOf<K extends CriterionType> = Extract<AnyCriterionDefinition, { type: K }>;

export const CRITERION_TYPES: readonly CriterionType[] = CRITERION_DEFINITIONS.map((d) => d.type);

const BY_TYPE: ReadonlyMap<string, AnyCriterionDefinition> = new Map(
  CRITERION_DEFINITIONS.map((d) => [d.type, d]),
);

/** The definition of a type, or undefined when there is no such type. */
export function criterionDefinition(type: string): CriterionDefinition | undefined {
  return BY_TYPE.get(type);
}

/** Whether a name is a criterion type. */
export function isCriterionType(type: string): type is CriterionType {
  return BY_TYPE.has(type);
}
