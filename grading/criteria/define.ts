/**
 * What a criterion type is made of, and {@link defineCriterion}, which each type's module
 * (<type>.ts) calls once: its name, title and hint in both languages, its parameters (a TypeBox
 * schema: validation, types and the rubric's JSON Schema from one source), where the rubric editor
 * starts, when live grading judges it, the sensors and actuators it reads, the checks its schema
 * cannot express, and its evaluation. The registry (index.ts) lists the modules; the rubric
 * schema, the union of types, the editor's list and the README's table follow from it.
 *
 * A plug-in's functions take the criterion as its own schema types it ({@link CriterionWith}), not
 * as the registry's union (rubric.ts `CriterionOf`): the union is built from the plug-ins, so a
 * plug-in typed by it would refer to itself. The two are assignable to each other.
 *
 * The rubric editor loads the registry, plug-ins and all: this module imports TypeBox's type
 * builders one by one (a kilobyte, not the whole builder), and nothing here or in a plug-in may
 * import Node, even as a type.
 */
import type { Static, TLiteral, TObject, TOptional } from '@sinclair/typebox/type';
import * as T from '@sinclair/typebox/type';
import type { Detail } from '../evidence.ts';
import type { CriterionResult, Localized } from '../types.ts';
import type { CriterionReads, CriterionScan, EvaluationEnv, GradingContext, ScanOptions } from './plugin.ts';

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

export const CriterionTitle = T.Union(
  [
    T.String({ minLength: 1, maxLength: 200 }),
    T.Object(
      {
        'zh-CN': T.Optional(T.String({ minLength: 1, maxLength: 200 })),
        en: T.Optional(T.String({ minLength: 1, maxLength: 200 })),
      },
      { ...strict, minProperties: 1 },
    ),
  ],
  { description: 'a string, or {"zh-CN": …, "en": …}' },
);

/** The fields every criterion of a rubric has, whatever its type (rubric.ts adds `type`, `params`). */
export const CRITERION_FIELDS = {
  id: T.String({ pattern: NAME_PATTERN, description: 'snake_case, unique in the rubric' }),
  title: CriterionTitle,
  weight: T.Number({ exclusiveMinimum: 0, maximum: 100, description: 'the weights add up to 100' }),
  partialCredit: T.Boolean({ description: 'whether a partly met criterion earns part of its weight' }),
};

/** The schema of a criterion of type K in a rubric: the common fields, its type and its params. */
export type CriterionSchemaOf<K extends string, P extends TObject, O extends boolean> = TObject<
  typeof CRITERION_FIELDS & { type: TLiteral<K>; params: O extends true ? TOptional<P> : P }
>;

/** The fields every criterion has, whatever its type: id, title, weight, partialCredit. */
export type CriterionFields = Static<TObject<typeof CRITERION_FIELDS>>;

/**
 * A criterion of type K whose params are P (optional when O): what a plug-in's functions take.
 * Built from the plug-in's own schema, not from the registry's union; the two are assignable to
 * each other (the union's member is `Static` of {@link CriterionSchemaOf}: the same fields).
 */
export type CriterionWith<
  K extends string,
  P extends TObject,
  O extends boolean = false,
> = CriterionFields & {
  type: K;
} & (O extends true ? { params?: Static<P> } : { params: Static<P> });

/** What a criterion type is before anything is evaluated: what the browser's editor shows. */
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

/**
 * What the server does with a criterion C of a type: the sensors and actuators it reads, the
 * checks its schema cannot express, and its evaluation — a scan over one series, or an evaluation
 * of the whole attempt's data ({@link defineCriterion} takes exactly one).
 */
export interface CriterionParts<C> {
  /** The sensors and actuators it reads: each must be required by the task; live grading buffers them. */
  readonly reads: (criterion: C) => CriterionReads;
  /**
   * Problems its schema cannot express ("exactly one of", min below max), in both languages;
   * called only on params the schema passed.
   */
  readonly check: (criterion: C) => Localized[];
  /** A one-pass scan of the criterion's series (live grading keeps it between evaluations). */
  readonly scan?: (criterion: C, options: ScanOptions) => CriterionScan;
  /** The criterion on the whole context (events and commands, several series, flags). */
  readonly evaluate?: (
    criterion: C,
    ctx: GradingContext,
    detail: Detail,
    env: EvaluationEnv,
  ) => CriterionResult;
}

/** How a type is evaluated: a scan over one series, or on the whole context. Exactly one. */
export type CriterionEvaluation<C> =
  | { readonly scan: NonNullable<CriterionParts<C>['scan']>; readonly evaluate?: undefined }
  | { readonly scan?: undefined; readonly evaluate: NonNullable<CriterionParts<C>['evaluate']> };

/** A criterion type: its definition and what the server does with it. */
export type CriterionPlugin<
  K extends string = string,
  P extends TObject = TObject,
  O extends boolean = boolean,
> = CriterionDefinition<K, P, O> & CriterionParts<CriterionWith<K, P, O>>;

/**
 * A criterion type's plug-in, its name, parameter schema and optionality kept in its type (taken
 * from `type`, `params` and `paramsOptional` only: its functions take a criterion of that type).
 * Every member is required (but `paramsOptional`), and exactly one of `scan` and `evaluate`: a
 * type that leaves one out does not compile.
 */
export function defineCriterion<const K extends string, P extends TObject, O extends boolean = false>(
  plugin: CriterionDefinition<K, P, O> &
    CriterionParts<NoInfer<CriterionWith<K, P, O>>> &
    CriterionEvaluation<NoInfer<CriterionWith<K, P, O>>>,
): CriterionPlugin<K, P, O> {
  return plugin;
}
