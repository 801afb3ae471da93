/**
 * The tolerance criterion: the share of readings within reference ± epsilon must be ≥ minPercent,
 * and the deviations from the reference are measured (the scan is within.ts, shared with range).
 * Pending while the attempt runs: fewer than LIVE_MINIMUM (common.ts) readings or time.
 */
import { amount, fmt, say } from '../evidence.ts';
import type { CriterionOf } from '../rubric.ts';
import { atMost } from '../series.ts';
import { tolerance as definition } from './definitions/tolerance.ts';
import { criterionPlugin, sensorRef } from './plugin.ts';
import { type Within, WithinScan } from './within.ts';

function within({ params }: CriterionOf<'tolerance'>): Within {
  const { sensor, reference, epsilon } = params;
  const bound = `${fmt(reference)} ± ${amount(sensor, epsilon)}`;
  return {
    inside: (v) => atMost(Math.abs(v - reference), epsilon),
    bound,
    what: say(`within ${bound}`, `在 ${bound} 以内`),
    bounds: { reference, epsilon },
    deviation: {
      reference,
      summary: (max, mean) =>
        say(
          `largest deviation ${amount(sensor, max)}, mean deviation ${amount(sensor, mean)}`,
          `最大偏差 ${amount(sensor, max)}，平均偏差 ${amount(sensor, mean)}`,
        ),
    },
  };
}

export const tolerance = criterionPlugin<'tolerance'>(definition, {
  reads: (criterion) => ({ sensors: [sensorRef(criterion.params.sensor)], actuators: [] }),
  check: () => [],
  scan: (criterion, options) => new WithinScan(criterion, within(criterion), options),
});
