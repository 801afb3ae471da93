/**
 * The range criterion: the share of readings within [min, max] (both ends included) must be
 * ≥ minPercent (the scan is within.ts, shared with tolerance). Pending while the attempt runs:
 * fewer than LIVE_MINIMUM (common.ts) readings or time.
 */
import { amount, fmt, say } from '../evidence.ts';
import type { CriterionOf } from '../rubric.ts';
import { atLeast, atMost } from '../series.ts';
import { range as definition } from './definitions/range.ts';
import { criterionPlugin, problem, sensorRef } from './plugin.ts';
import { type Within, WithinScan } from './within.ts';

function within({ params }: CriterionOf<'range'>): Within {
  const { sensor, min, max } = params;
  return {
    inside: (v) => atLeast(v, min) && atMost(v, max),
    bound: `${fmt(min)}–${amount(sensor, max)}`,
    what: say(
      `between ${fmt(min)} and ${amount(sensor, max)}`,
      `在 ${fmt(min)} 到 ${amount(sensor, max)} 范围内`,
    ),
    bounds: { rangeMin: min, rangeMax: max },
  };
}

export const range = criterionPlugin<'range'>(definition, {
  reads: (criterion) => ({ sensors: [sensorRef(criterion.params.sensor)], actuators: [] }),
  check: ({ params }) =>
    params.min >= params.max
      ? [
          problem(
            `params.min (${params.min}) must be below params.max (${params.max})`,
            `params.min（${params.min}）必须小于 params.max（${params.max}）`,
          ),
        ]
      : [],
  scan: (criterion, options) => new WithinScan(criterion, within(criterion), options),
});
