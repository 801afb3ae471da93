/**
 * What a criterion type is before anything is evaluated: its name and hint in both languages,
 * its parameters (a TypeBox schema: validation, types and the rubric's JSON Schema from one
 * source), where the rubric editor starts, and when live grading judges it. The part of a
 * criterion plug-in the browser may load: it imports TypeBox's type builders one by one (a
 * kilobyte, not the whole builder) and nothing that evaluates.
 */
import type { Static, TObject } from '@sinclair/typebox/type';
import * as T from '@sinclair/typebox/type';

/** A text in each language the platform speaks. */
export interface Bilingual {
  'zh-CN': string;
  en: string;
}

/** Names of sensors, actuators, events and commands: snake_case, starting with a letter. */
export const NAME_PATTERN = '^[a-z][a-z0-9_]{0,63}$';
export const strict = { additionalProperties: false } as const;

export const Name = (description: string) => T.String({ pattern: NAME_PATTERN, description });
export const SensorRef = Name("a sensor of the task's requiredSensors");
export const ActuatorRef = Name("an actuator of the task's requiredActuators");
export const Percent = (description: string) => T.Number({ minimum: 0, maximum: 100, description });
export const Seconds = (description: string) =>
  T.Number({ exclusiveMinimum: 0, maximum: 86_400, description });

/**
 * A criterion type's definition. Every field is required (but `paramsOptional`): a type that
 * leaves one out does not compile.
 */
export interface CriterionDefinition<
  K extends string = string,
  P extends TObject = TObject,
  O extends boolean = boolean,
> {
  /** The type's name in rubrics: snake_case. */
  readonly type: K;
  /** What people call it (the editor's type list, the review): 数值范围 / Range. */
  readonly title: Bilingual;
  /** What it checks, in one sentence (the editor, the README's table). */
  readonly hint: Bilingual;
  /** Its parameters in short (`{sensor, min, max, minPercent}`): problems with params name it. */
  readonly paramsHint: string;
  /** When live grading judges it; before that it is pending (the README's table). */
  readonly whenJudged: Bilingual;
  /** Its parameters. */
  readonly params: P;
  /** Whether a criterion of this type may leave `params` out (authenticity). */
  readonly paramsOptional?: O;
  /** Where the rubric editor starts: parameters that pass `params` (a test checks it). */
  readonly template: Static<P>;
}

/** A definition, its literal type and parameter schema kept in its type. */
export function defineCriterion<const K extends string, P extends TObject, O extends boolean = false>(
  definition: CriterionDefinition<K, P, O>,
): CriterionDefinition<K, P, O> {
  return definition;
}
