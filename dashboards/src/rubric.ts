/**
 * Checks a rubric in the browser before it is sent (the API checks it again and names the
 * criterion); the editor's criterion types and their templates come from grading's registry.
 */
import type { Lang } from './messages.ts';
import type { RubricCriterion } from './types.ts';

/** A criterion type as the rubric editor offers it. */
export interface CriterionTypeInfo {
  type: string;
  /** What people call it, and what it checks: 数值范围 / Range. */
  title: Record<Lang, string>;
  hint: Record<Lang, string>;
  /** Where its params start. */
  template: Record<string, unknown>;
}

let types: Promise<CriterionTypeInfo[]> | undefined;

/**
 * The criterion types, in the registry's order, with their names, hints and templates: grading's
 * criterion registry (each type's plug-in, its evaluation included: nothing Node-only), loaded
 * with the rubric editor as a chunk of its own (the sign-in page does not need it).
 */
export function loadCriterionTypes(): Promise<CriterionTypeInfo[]> {
  types ??= import('../../grading/criteria/index.ts').then(({ CRITERION_PLUGINS }) =>
    CRITERION_PLUGINS.map((d) => ({
      type: d.type,
      title: d.title,
      hint: d.hint,
      template: d.template as Record<string, unknown>,
    })),
  );
  return types;
}

export interface RubricProblem {
  index: number | null;
  key:
    | 'ruleIdPattern'
    | 'ruleIdDuplicate'
    | 'ruleWeight'
    | 'ruleWeightsSum'
    | 'ruleTitle'
    | 'ruleSensor'
    | 'ruleParamsJson';
  vars: Record<string, string | number>;
}

export interface EditableCriterion extends Omit<RubricCriterion, 'params'> {
  paramsText: string;
}

export function toEditable(criteria: RubricCriterion[]): EditableCriterion[] {
  return criteria.map(({ params, ...rest }) => ({
    ...rest,
    paramsText: JSON.stringify(params ?? {}, null, 1),
  }));
}

/** Problems with a rubric, each naming the criterion; an empty list when it may be saved. */
export function checkRubric(
  criteria: EditableCriterion[],
  requiredSensors: string[],
): { problems: RubricProblem[]; rubric: { criteria: RubricCriterion[] } | null } {
  const problems: RubricProblem[] = [];
  const seen = new Set<string>();
  const out: RubricCriterion[] = [];
  let sum = 0;
  for (const [index, c] of criteria.entries()) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(c.id))
      problems.push({ index, key: 'ruleIdPattern', vars: { id: c.id } });
    else if (seen.has(c.id)) problems.push({ index, key: 'ruleIdDuplicate', vars: { id: c.id } });
    seen.add(c.id);
    if (!(c.weight > 0 && c.weight <= 100)) problems.push({ index, key: 'ruleWeight', vars: { id: c.id } });
    sum += Number.isFinite(c.weight) ? c.weight : 0;
    if (!c.title['zh-CN'].trim() && !c.title.en.trim())
      problems.push({ index, key: 'ruleTitle', vars: { id: c.id } });
    let params: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(c.paramsText || '{}') as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      params = parsed as Record<string, unknown>;
    } catch {
      problems.push({ index, key: 'ruleParamsJson', vars: { id: c.id } });
    }
    const sensor = params.sensor;
    if (typeof sensor === 'string' && !requiredSensors.includes(sensor)) {
      problems.push({ index, key: 'ruleSensor', vars: { id: c.id, sensor } });
    }
    const title: Record<string, string> = {};
    if (c.title['zh-CN'].trim()) title['zh-CN'] = c.title['zh-CN'].trim();
    if (c.title.en.trim()) title.en = c.title.en.trim();
    out.push({
      id: c.id,
      title: title as RubricCriterion['title'],
      weight: c.weight,
      partialCredit: c.partialCredit,
      type: c.type,
      ...(c.type === 'authenticity' && Object.keys(params).length === 0 ? {} : { params }),
    });
  }
  if (criteria.length > 0 && Math.abs(sum - 100) > 1e-9)
    problems.push({ index: null, key: 'ruleWeightsSum', vars: { sum } });
  return { problems, rubric: problems.length === 0 ? { criteria: out } : null };
}
