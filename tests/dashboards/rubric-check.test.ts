/** The rubric editor's own checks, before anything is sent (the API checks again). */
import { describe, expect, it } from 'vitest';
import { checkRubric, type EditableCriterion } from '../../dashboards/src/rubric.ts';

const row = (over: Partial<EditableCriterion> = {}): EditableCriterion => ({
  id: 'plausible',
  title: { 'zh-CN': '数值合理', en: 'Plausible' },
  weight: 100,
  partialCredit: true,
  type: 'range',
  paramsText: '{"sensor": "temperature", "min": 5, "max": 45, "minPercent": 95}',
  ...over,
});

describe('rubric editor checks', () => {
  it('accepts a sound rubric and builds what the API takes', () => {
    const { problems, rubric } = checkRubric([row()], ['temperature']);
    expect(problems).toEqual([]);
    expect(rubric?.criteria[0]).toMatchObject({
      id: 'plausible',
      weight: 100,
      params: { sensor: 'temperature' },
    });
  });

  it('names each problem and the criterion it is in', () => {
    const { problems, rubric } = checkRubric(
      [
        row({ id: 'Bad Id', weight: 30 }),
        row({ id: 'dup', weight: 30 }),
        row({ id: 'dup', weight: 30, paramsText: '{"sensor": "co2"}' }),
        row({ id: 'broken', weight: 0, paramsText: '{not json', title: { 'zh-CN': ' ', en: '' } }),
      ],
      ['temperature'],
    );
    expect(rubric).toBeNull();
    expect(problems.map((p) => [p.index, p.key])).toEqual([
      [0, 'ruleIdPattern'],
      [2, 'ruleIdDuplicate'],
      [2, 'ruleSensor'],
      [3, 'ruleWeight'],
      [3, 'ruleTitle'],
      [3, 'ruleParamsJson'],
      [null, 'ruleWeightsSum'],
    ]);
  });

  it('sends an authenticity criterion without empty params', () => {
    const { rubric } = checkRubric([row({ id: 'real', type: 'authenticity', paramsText: '{}' })], []);
    expect(rubric?.criteria[0]).not.toHaveProperty('params');
  });
});
