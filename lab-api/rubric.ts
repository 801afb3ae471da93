/**
 * A lab task's rubric: the criteria grading evaluates on a student's telemetry, each with a weight
 * (the weights add up to 100) and type-specific parameters. One TypeBox schema per criterion type
 * is both the validation and the documentation (GET /api/v1/tasks/rubric-schema); the checks a
 * schema cannot express (unique ids, the weight sum, sensors the task requires, "one of" pairs)
 * follow, and every problem names the criterion it is about.
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
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { isValidSensorName } from '../protocol/index.ts';
import { ApiError, type Localized, say } from './errors.ts';

const NAME_PATTERN = '^[a-z][a-z0-9_]{0,63}$';
const strict = { additionalProperties: false } as const;

const Name = (description: string) => Type.String({ pattern: NAME_PATTERN, description });
const SensorRef = Name("a sensor of the task's requiredSensors");
const ActuatorRef = Name("an actuator of the task's requiredActuators");
const Percent = (description: string) => Type.Number({ minimum: 0, maximum: 100, description });
const Seconds = (description: string) => Type.Number({ exclusiveMinimum: 0, maximum: 86_400, description });

/** The parameters of each criterion type. */
export const CRITERION_PARAMS = {
  sampling: Type.Object(
    {
      sensor: SensorRef,
      minHz: Type.Optional(
        Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'readings per second' }),
      ),
      maxIntervalSeconds: Type.Optional(Seconds('at most this long between two readings')),
      minMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 1440, description: 'for at least this long' }),
    },
    {
      ...strict,
      description:
        'the sensor reports often enough (minHz or maxIntervalSeconds, one of them) for minMinutes',
    },
  ),
  completeness: Type.Object(
    {
      sensor: SensorRef,
      maxGapSeconds: Seconds('a gap longer than this counts as missing data'),
      minPercent: Percent('share of the attempt covered without such gaps'),
    },
    { ...strict, description: 'no gaps in the data' },
  ),
  range: Type.Object(
    {
      sensor: SensorRef,
      min: Type.Number(),
      max: Type.Number(),
      minPercent: Percent('share of readings within [min, max]'),
    },
    { ...strict, description: 'readings stay within [min, max]' },
  ),
  tolerance: Type.Object(
    {
      sensor: SensorRef,
      reference: Type.Number({ description: 'the value the reading should have (a calibration point)' }),
      epsilon: Type.Number({ exclusiveMinimum: 0, description: 'allowed deviation from the reference' }),
      minPercent: Percent('share of readings within reference ± epsilon'),
    },
    { ...strict, description: 'readings agree with a reference value' },
  ),
  stability: Type.Object(
    {
      sensor: SensorRef,
      maxStdDev: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      maxDriftPerMinute: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    },
    { ...strict, description: 'readings are steady: maxStdDev and/or maxDriftPerMinute (at least one)' },
  ),
  threshold_response: Type.Object(
    {
      sensor: SensorRef,
      above: Type.Optional(Type.Number()),
      below: Type.Optional(Type.Number()),
      respondWith: Type.Object(
        {
          event: Type.Optional(Name('an event the kit publishes')),
          command: Type.Optional(Name('a command sent to the kit')),
          actuator: Type.Optional(ActuatorRef),
        },
        { ...strict, description: 'exactly one of event, command, actuator' },
      ),
      withinSeconds: Seconds('the response must follow the crossing within this time'),
    },
    {
      ...strict,
      description:
        'when the sensor crosses a threshold (above or below, one of them) the kit responds in time',
    },
  ),
  actuator_effect: Type.Object(
    {
      command: Type.Optional(Name('a command sent to the kit')),
      actuator: Type.Optional(ActuatorRef),
      sensor: SensorRef,
      minChange: Type.Number({
        description: 'signed: the sensor must change by at least this much (negative: fall)',
      }),
      withinSeconds: Seconds('after the command or actuator change'),
    },
    {
      ...strict,
      description:
        'switching the actuator (command or actuator, one of them) changes the sensor by minChange',
    },
  ),
  events: Type.Object(
    {
      event: Name('the event name the kit publishes'),
      minCount: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
      maxCount: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    },
    { ...strict, description: 'the kit publishes the event between minCount and maxCount times' },
  ),
  authenticity: Type.Object(
    {
      sensors: Type.Optional(
        Type.Array(SensorRef, {
          maxItems: 64,
          description: 'the sensors to check (default: all required sensors)',
        }),
      ),
    },
    {
      ...strict,
      description: 'the data comes from real hardware, not replayed or simulated (params optional)',
    },
  ),
} as const;

export type CriterionType = keyof typeof CRITERION_PARAMS;
export const CRITERION_TYPES = Object.keys(CRITERION_PARAMS) as CriterionType[];

export const CriterionTitle = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 200 }),
    Type.Object(
      {
        'zh-CN': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        en: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      },
      { ...strict, minProperties: 1 },
    ),
  ],
  { description: 'a string, or {"zh-CN": …, "en": …}' },
);

const common = {
  id: Type.String({ pattern: NAME_PATTERN, description: 'snake_case, unique in the rubric' }),
  title: CriterionTitle,
  weight: Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'the weights add up to 100' }),
  partialCredit: Type.Boolean({ description: 'whether a partly met criterion earns part of its weight' }),
};

function criterion<K extends CriterionType>(type: K) {
  return Type.Object({ ...common, type: Type.Literal(type), params: CRITERION_PARAMS[type] }, strict);
}

export const CriterionSchema = Type.Union([
  criterion('sampling'),
  criterion('completeness'),
  criterion('range'),
  criterion('tolerance'),
  criterion('stability'),
  criterion('threshold_response'),
  criterion('actuator_effect'),
  criterion('events'),
  Type.Object(
    {
      ...common,
      type: Type.Literal('authenticity'),
      params: Type.Optional(CRITERION_PARAMS.authenticity),
    },
    strict,
  ),
]);
export type Criterion = Static<typeof CriterionSchema>;

export const MAX_CRITERIA = 50;

/** The whole rubric, as documentation (the API checks it with `checkRubric`). */
export const RubricSchema = Type.Object(
  { criteria: Type.Array(CriterionSchema, { maxItems: MAX_CRITERIA }) },
  { ...strict, title: 'Lab task rubric' },
);
export type Rubric = Static<typeof RubricSchema>;

/** The common part of a criterion, checked before its type's params. */
const CriterionBase = Type.Object(
  { ...common, type: Type.String(), params: Type.Optional(Type.Unknown()) },
  strict,
);

const PARAMS_HINT: Record<CriterionType, string> = {
  sampling: '{sensor, minHz | maxIntervalSeconds, minMinutes}',
  completeness: '{sensor, maxGapSeconds, minPercent}',
  range: '{sensor, min, max, minPercent}',
  tolerance: '{sensor, reference, epsilon, minPercent}',
  stability: '{sensor, maxStdDev and/or maxDriftPerMinute}',
  threshold_response: '{sensor, above | below, respondWith: {event | command | actuator}, withinSeconds}',
  actuator_effect: '{command | actuator, sensor, minChange, withinSeconds}',
  events: '{event, minCount, maxCount?}',
  authenticity: '{sensors?}',
};

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

function exactlyOne(params: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.filter((key) => params[key] !== undefined).length === 1;
}

/** The problems of one criterion that its schema passed: references and "one of" rules. */
function semanticProblems(criterion: Criterion, task: RubricTask): Localized[] {
  const problems: Localized[] = [];
  const params = (criterion.params ?? {}) as Record<string, unknown>;
  const sensor = (name: string, field = 'sensor') => {
    if (!task.requiredSensors.includes(name) || !isValidSensorName(name)) {
      problems.push(
        say(
          `${field} "${name}" is not among the task's required sensors (${listed(task.requiredSensors)})`,
          `${field === 'sensor' ? '' : `${field} 中的`}传感器“${name}”不在本任务的必需传感器中（${listedZh(task.requiredSensors)}）`,
        ),
      );
    }
  };
  const actuator = (name: string, field: string) => {
    if (!task.requiredActuators.includes(name)) {
      problems.push(
        say(
          `${field} "${name}" is not among the task's required actuators (${listed(task.requiredActuators)})`,
          `${field} 中的执行器“${name}”不在本任务的必需执行器中（${listedZh(task.requiredActuators)}）`,
        ),
      );
    }
  };
  if (typeof params.sensor === 'string') sensor(params.sensor);
  switch (criterion.type) {
    case 'sampling':
      if (!exactlyOne(params, ['minHz', 'maxIntervalSeconds']))
        problems.push(
          say(
            'give exactly one of params.minHz or params.maxIntervalSeconds',
            'params.minHz 和 params.maxIntervalSeconds 须填且只填一个',
          ),
        );
      break;
    case 'range':
      if (criterion.params.min >= criterion.params.max)
        problems.push(
          say(
            `params.min (${criterion.params.min}) must be below params.max (${criterion.params.max})`,
            `params.min（${criterion.params.min}）必须小于 params.max（${criterion.params.max}）`,
          ),
        );
      break;
    case 'stability':
      if (params.maxStdDev === undefined && params.maxDriftPerMinute === undefined)
        problems.push(
          say(
            'give params.maxStdDev, params.maxDriftPerMinute or both',
            '请填写 params.maxStdDev 或 params.maxDriftPerMinute（或两者都填）',
          ),
        );
      break;
    case 'threshold_response': {
      if (!exactlyOne(params, ['above', 'below']))
        problems.push(
          say(
            'give exactly one of params.above or params.below',
            'params.above 和 params.below 须填且只填一个',
          ),
        );
      const respond = criterion.params.respondWith;
      if (!exactlyOne(respond, ['event', 'command', 'actuator']))
        problems.push(
          say(
            'params.respondWith takes exactly one of event, command or actuator',
            'params.respondWith 中 event、command、actuator 须填且只填一个',
          ),
        );
      if (respond.actuator !== undefined) actuator(respond.actuator, 'params.respondWith.actuator');
      break;
    }
    case 'actuator_effect':
      if (!exactlyOne(params, ['command', 'actuator']))
        problems.push(
          say(
            'give exactly one of params.command or params.actuator',
            'params.command 和 params.actuator 须填且只填一个',
          ),
        );
      if (criterion.params.actuator !== undefined) actuator(criterion.params.actuator, 'params.actuator');
      if (criterion.params.minChange === 0)
        problems.push(
          say(
            'params.minChange must not be 0 (positive: must rise, negative: must fall)',
            'params.minChange 不能为 0（正数表示须上升，负数表示须下降）',
          ),
        );
      break;
    case 'events':
      if (criterion.params.maxCount !== undefined && criterion.params.maxCount < criterion.params.minCount)
        problems.push(
          say(
            `params.maxCount (${criterion.params.maxCount}) must not be below params.minCount (${criterion.params.minCount})`,
            `params.maxCount（${criterion.params.maxCount}）不能小于 params.minCount（${criterion.params.minCount}）`,
          ),
        );
      if (criterion.params.minCount === 0 && criterion.params.maxCount === undefined)
        problems.push(
          say(
            'params.minCount 0 without params.maxCount always passes: raise minCount or give maxCount',
            'params.minCount 为 0 且没有 params.maxCount 时总能达标：请调高 minCount 或填写 maxCount',
          ),
        );
      break;
    case 'authenticity':
      for (const name of criterion.params?.sensors ?? []) sensor(name, 'params.sensors');
      break;
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
    if (typeof type === 'string' && !Object.hasOwn(CRITERION_PARAMS, type)) {
      own.push(
        say(
          `unknown type "${type.slice(0, 40)}": use one of ${CRITERION_TYPES.join(', ')}`,
          `类型“${type.slice(0, 40)}”不存在：请用 ${CRITERION_TYPES.join('、')} 之一`,
        ),
      );
    } else if (typeof type === 'string') {
      const kind = type as CriterionType;
      if (raw.params === undefined && kind !== 'authenticity') {
        own.push(
          say(
            `params is required for type "${kind}": ${PARAMS_HINT[kind]}`,
            `类型“${kind}”必须填写 params：${PARAMS_HINT[kind]}`,
          ),
        );
      } else if (raw.params !== undefined) {
        const paramProblems = schemaProblems(CRITERION_PARAMS[kind] as TObject, raw.params, 'params.');
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
 * The rubric, typed, or a 400 INVALID_RUBRIC listing every problem (the first 20 in the message;
 * all of them, with the criterion each is about, in `details.problems`).
 */
export function checkRubric(
  rubric: unknown,
  task: RubricTask,
  options: { requireCriteria?: boolean } = {},
): Rubric {
  const problems = rubricIssues(rubric, task, options);
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((problem) => problem.message);
    const left = problems.length - shown.length;
    throw new ApiError(
      400,
      'INVALID_RUBRIC',
      say(
        `invalid rubric: ${shown.map((m) => m.en).join('; ')}${left > 0 ? `; and ${left} more` : ''}`,
        `评分标准有误：${shown.map((m) => m['zh-CN']).join('；')}${left > 0 ? `；另有 ${left} 处问题` : ''}`,
      ),
      { problems },
    );
  }
  return normalizeTitles(rubric as Rubric);
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
