/**
 * A lab task's rubric: the criteria grading evaluates on a student's telemetry, each with a weight
 * (the weights add up to 100) and type-specific parameters. The schema is built from the criterion
 * registry (criteria/index.ts: each type's plug-in holds its TypeBox schema, both the validation
 * and the documentation — GET /api/v1/tasks/rubric-schema); the checks a schema cannot express
 * (unique ids, the weight sum, sensors the task requires, each type's "one of" pairs: its
 * plug-in's `check`) follow, and every problem
 * names the criterion it is about, in zh-CN and en. The lab wraps them in its own error
 * (lab-api/rubric.ts `checkRubric`: a 400 INVALID_RUBRIC).
 *
 * ```json
 * { "criteria": [
 *   { "id": "cold_chain_range", "title": { "zh-CN": "温度保持在 2–8 °C", "en": "Kept at 2–8 °C" },
 *     "weight": 60, "partialCredit": true,
 *     "type": "range", "params": { "sensor": "temperature", "min": 2, "max": 8, "minPercent": 95 } },
 *   { "id": "alarm", "title": "Fan on above 8 °C", "weight": 40, "partialCredit": false,
 *     "type": "threshold_response",
 *     "params": { "sensor": "temperature", "above": 8, "respondWith": { "actuator": "fan" }, "withinSeconds": 30 } }
 * ] }
 * ```
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { isValidSensorName } from '../protocol/index.ts';
import { CRITERION_FIELDS, type CriterionDefinition, type CriterionSchemaOf } from './criteria/define.ts';
import {
  CRITERION_PLUGINS,
  CRITERION_TYPES,
  type CriterionType,
  criterionDefinition,
  NAME_PATTERN,
  pluginOf,
  type RegisteredPlugin,
} from './criteria/index.ts';
import type { Localized } from './types.ts';

export { CRITERION_TYPES, CriterionTitle, type CriterionType } from './criteria/index.ts';

const strict = { additionalProperties: false } as const;

/** A problem's sentence in both languages (as written: rubric problems are read as they are). */
const say = (en: string, zh: string): Localized => ({ 'zh-CN': zh, en });

/** The parameters of each criterion type (from the registry). */
export const CRITERION_PARAMS = Object.fromEntries(CRITERION_PLUGINS.map((p) => [p.type, p.params])) as {
  readonly [D in RegisteredPlugin as D['type']]: D['params'];
};

/** The schema of a criterion of the plug-in's type: the common fields, its type and its params. */
type SchemaOf<D extends RegisteredPlugin> = CriterionSchemaOf<
  D['type'],
  D['params'],
  NonNullable<D['paramsOptional']>
>;

function criterionSchema(plugin: CriterionDefinition): TSchema {
  const params = plugin.paramsOptional ? Type.Optional(plugin.params) : plugin.params;
  return Type.Object({ ...CRITERION_FIELDS, type: Type.Literal(plugin.type), params }, strict);
}

type Schemas<T extends readonly RegisteredPlugin[]> = {
  -readonly [I in keyof T]: SchemaOf<T[I]>;
};

/** One criterion: a union over the registry's types. */
export const CriterionSchema = Type.Union(
  CRITERION_PLUGINS.map((plugin: CriterionDefinition) => criterionSchema(plugin)) as unknown as Schemas<
    typeof CRITERION_PLUGINS
  >,
);
export type Criterion = Static<typeof CriterionSchema>;
/** A criterion of one type, its params typed. */
export type CriterionOf<K extends CriterionType> = Extract<Criterion, { type: K }>;

export const MAX_CRITERIA = 50;

/** The whole rubric, as documentation (the API checks it with `rubricIssues`). */
export const RubricSchema = Type.Object(
  { criteria: Type.Array(CriterionSchema, { maxItems: MAX_CRITERIA }) },
  { ...strict, title: 'Lab task rubric' },
);
export type Rubric = Static<typeof RubricSchema>;

/** The common part of a criterion, checked before its type's params. */
const CriterionBase = Type.Object(
  { ...CRITERION_FIELDS, type: Type.String(), params: Type.Optional(Type.Unknown()) },
  strict,
);

/** What a task offers a rubric to refer to. */
export interface RubricTask {
  requiredSensors: readonly string[];
  requiredActuators: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function friendly(message: string): string {
  if (message === 'Expected required property') return 'is required';
  if (message === 'Unexpected property') return 'is not a known field';
  return message.replace(/^Expected /, 'must be ');
}

/** TypeBox's error, as a Chinese reader would say it (the English is `friendly`'s). */
function friendlyZh(error: ValueError): string {
  const schema = error.schema as Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return '为必填项';
    case ValueErrorType.ObjectAdditionalProperties:
    case ValueErrorType.IntersectUnevaluatedProperties:
      return '不是可用的字段';
    case ValueErrorType.Number:
      return '应为数字';
    case ValueErrorType.Integer:
      return '应为整数';
    case ValueErrorType.String:
      return '应为文本';
    case ValueErrorType.Boolean:
      return '应为 true 或 false';
    case ValueErrorType.Object:
      return '应为对象 {…}';
    case ValueErrorType.Array:
      return '应为数组 […]';
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `不能小于 ${schema.minimum}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `不能大于 ${schema.maximum}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `必须大于 ${schema.exclusiveMinimum}`;
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return `必须小于 ${schema.exclusiveMaximum}`;
    case ValueErrorType.StringMinLength:
      return `至少 ${schema.minLength} 个字符`;
    case ValueErrorType.StringMaxLength:
      return `最多 ${schema.maxLength} 个字符`;
    case ValueErrorType.ArrayMaxItems:
      return `最多 ${schema.maxItems} 项`;
    case ValueErrorType.ArrayMinItems:
      return `至少 ${schema.minItems} 项`;
    case ValueErrorType.Literal:
      return `只能是 ${JSON.stringify(schema.const)}`;
    default:
      return '取值不符合要求';
  }
}

/** TypeBox's errors as "field: problem", the first one per field. */
function schemaProblems(schema: TSchema, value: unknown, prefix: string): Localized[] {
  const seen = new Set<string>();
  const problems: Localized[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = error.path.replace(/^\//, '').replaceAll('/', '.');
    const top = path.split('.')[0] ?? '';
    // A union (the title) reports its alternatives' errors too: say it once, plainly.
    if (top === 'title' && prefix === '') {
      if (!seen.has('title')) {
        seen.add('title');
        problems.push(
          say(
            'title must be a non-empty string (≤ 200) or {"zh-CN": …, "en": …}',
            'title（名称）应为不超过 200 字的非空文本，或 {"zh-CN": …, "en": …}',
          ),
        );
      }
      continue;
    }
    if (seen.has(path)) continue;
    seen.add(path);
    const field = `${prefix}${path}` || 'value';
    if (path === 'id' && prefix === '' && error.message.startsWith('Expected string to match')) {
      problems.push(
        say(
          'id must be snake_case (a–z, 0–9 and _, starting with a letter, ≤ 64)',
          'id（编号）应为 snake_case：小写字母、数字和 _，以字母开头，不超过 64 个字符',
        ),
      );
    } else if (/pattern|match '/.test(error.message) && error.schema.pattern === NAME_PATTERN) {
      problems.push(
        say(
          `${field} must be a snake_case name, e.g. "temperature"`,
          `${field} 应为 snake_case 名称，例如“temperature”`,
        ),
      );
    } else {
      problems.push(say(`${field} ${friendly(error.message)}`, `${field} ${friendlyZh(error)}`));
    }
  }
  return problems;
}

const listed = (names: readonly string[]) => (names.length ? names.join(', ') : 'none');
const listedZh = (names: readonly string[]) => (names.length ? names.join('、') : '无');

/**
 * The problems of one criterion that its schema passed: every sensor and actuator it reads must be
 * among the task's (its plug-in says which it reads), then its plug-in's own checks ("one of"
 * pairs, min below max…).
 */
function semanticProblems(criterion: Criterion, task: RubricTask): Localized[] {
  const problems: Localized[] = [];
  const plugin = pluginOf(criterion.type);
  const reads = plugin.reads(criterion);
  for (const { name, field } of reads.sensors) {
    if (!task.requiredSensors.includes(name) || !isValidSensorName(name)) {
      problems.push(
        say(
          `${field} "${name}" is not among the task's required sensors (${listed(task.requiredSensors)})`,
          `${field === 'sensor' ? '' : `${field} 中的`}传感器“${name}”不在本任务的必需传感器中（${listedZh(task.requiredSensors)}）`,
        ),
      );
    }
  }
  problems.push(...plugin.check(criterion));
  for (const { name, field } of reads.actuators) {
    if (!task.requiredActuators.includes(name)) {
      problems.push(
        say(
          `${field} "${name}" is not among the task's required actuators (${listed(task.requiredActuators)})`,
          `${field} 中的执行器“${name}”不在本任务的必需执行器中（${listedZh(task.requiredActuators)}）`,
        ),
      );
    }
  }
  return problems;
}

/**
 * One problem of a rubric: the criterion it is about (its 1-based position and id; null for the
 * rubric as a whole) and the sentence in both languages, naming the criterion.
 */
export interface RubricIssue {
  criterion: { index: number; id: string | null } | null;
  message: Localized;
}

/**
 * Every problem of a rubric for this task, each naming its criterion; empty when the rubric is
 * valid. `requireCriteria`: an empty rubric is a problem too (a published task needs one).
 */
export function rubricIssues(
  rubric: unknown,
  task: RubricTask,
  options: { requireCriteria?: boolean } = {},
): RubricIssue[] {
  const whole = (message: Localized): RubricIssue => ({ criterion: null, message });
  if (!isRecord(rubric) || !Array.isArray(rubric.criteria)) {
    return [
      whole(say('the rubric must be an object {"criteria": [...]}', '评分标准应为对象 {"criteria": [...]}')),
    ];
  }
  const problems: RubricIssue[] = [];
  for (const key of Object.keys(rubric)) {
    if (key !== 'criteria')
      problems.push(
        whole(
          say(
            `rubric field "${key}" is not a known field (only "criteria")`,
            `评分标准中的“${key}”不是可用的字段（只能有 "criteria"）`,
          ),
        ),
      );
  }
  const criteria: unknown[] = rubric.criteria;
  if (criteria.length > MAX_CRITERIA) {
    return [
      whole(
        say(
          `a rubric has at most ${MAX_CRITERIA} criteria (this one has ${criteria.length})`,
          `评分标准最多 ${MAX_CRITERIA} 个评分项（现有 ${criteria.length} 个）`,
        ),
      ),
    ];
  }
  if (criteria.length === 0 && options.requireCriteria) {
    problems.push(
      whole(
        say(
          'the rubric has no criteria: add at least one (weights adding up to 100)',
          '评分标准还没有评分项：请至少添加一项（权重合计 100）',
        ),
      ),
    );
  }
  const firstIndex = new Map<string, number>();
  let sum = 0;
  let weightsKnown = true;
  criteria.forEach((raw, index) => {
    const n = index + 1;
    if (!isRecord(raw)) {
      problems.push({
        criterion: { index: n, id: null },
        message: say(
          `criterion #${n} must be an object {id, title, weight, partialCredit, type, params}`,
          `第 ${n} 个评分项应为对象 {id, title, weight, partialCredit, type, params}`,
        ),
      });
      weightsKnown = false;
      return;
    }
    const id = typeof raw.id === 'string' && raw.id.length > 0 && raw.id.length <= 64 ? raw.id : null;
    const label =
      id !== null
        ? say(`criterion "${id}" (#${n})`, `评分项“${id}”（第 ${n} 项）`)
        : say(`criterion #${n}`, `第 ${n} 个评分项`);
    const own: Localized[] = schemaProblems(CriterionBase, raw, '');
    if (typeof raw.weight === 'number' && Number.isFinite(raw.weight)) sum += raw.weight;
    else weightsKnown = false;
    if (typeof raw.id === 'string') {
      const earlier = firstIndex.get(raw.id);
      if (earlier !== undefined) {
        problems.push({
          criterion: { index: n, id },
          message: say(
            `duplicate criterion id "${raw.id}" (criteria #${earlier} and #${n}): ids must be unique`,
            `评分项编号“${raw.id}”重复（第 ${earlier} 项和第 ${n} 项）：编号不能相同`,
          ),
        });
      } else firstIndex.set(raw.id, n);
    }
    const type = raw.type;
    const definition = typeof type === 'string' ? criterionDefinition(type) : undefined;
    if (typeof type === 'string' && !definition) {
      own.push(
        say(
          `unknown type "${type.slice(0, 40)}": use one of ${CRITERION_TYPES.join(', ')}`,
          `类型“${type.slice(0, 40)}”不存在：请用 ${CRITERION_TYPES.join('、')} 之一`,
        ),
      );
    } else if (definition) {
      const kind = definition.type;
      if (raw.params === undefined && !definition.paramsOptional) {
        own.push(
          say(
            `params is required for type "${kind}": ${definition.paramsHint}`,
            `类型“${kind}”必须填写 params：${definition.paramsHint}`,
          ),
        );
      } else if (raw.params !== undefined) {
        const paramProblems = schemaProblems(definition.params, raw.params, 'params.');
        own.push(...paramProblems);
        if (own.length === 0) own.push(...semanticProblems(raw as Criterion, task));
      }
    }
    for (const problem of own) {
      problems.push({
        criterion: { index: n, id },
        message: say(`${label.en}: ${problem.en}`, `${label['zh-CN']}：${problem['zh-CN']}`),
      });
    }
  });
  if (weightsKnown && criteria.length > 0 && Math.abs(sum - 100) > 1e-6) {
    const total = Number(sum.toFixed(6));
    problems.push(
      whole(
        say(`the criteria weights add up to ${total}, not 100`, `各评分项的权重合计为 ${total}，应为 100`),
      ),
    );
  }
  return problems;
}

/** Every problem of a rubric, in English (the CLI, benchmarks, logs); empty when it is valid. */
export function rubricProblems(
  rubric: unknown,
  task: RubricTask,
  options: { requireCriteria?: boolean } = {},
): string[] {
  return rubricIssues(rubric, task, options).map((issue) => issue.message.en);
}

/**
 * A criterion's title in both languages: a plain string (the API accepts one) serves both, a
 * missing language falls back to the other, then to the criterion's id. Titles are stored and
 * served this way, so no reader (the rubric editor, the checklist, the leaderboard) meets a
 * string or a half title.
 */
export function localizedTitle(
  title: Criterion['title'] | undefined,
  id: string,
): { 'zh-CN': string; en: string } {
  if (typeof title === 'string') return { 'zh-CN': title, en: title };
  const zh = title?.['zh-CN'] ?? title?.en ?? id;
  return { 'zh-CN': zh, en: title?.en ?? zh };
}

/** The rubric with every criterion's title in both languages (see {@link localizedTitle}). */
export function normalizeTitles(rubric: Rubric): Rubric {
  return {
    ...rubric,
    criteria: rubric.criteria.map((c) => ({ ...c, title: localizedTitle(c.title, c.id) })),
  };
}

/** The rubric a new task starts with: no criteria yet (a draft may be incomplete). */
export function emptyRubric(): Rubric {
  return { criteria: [] };
}
