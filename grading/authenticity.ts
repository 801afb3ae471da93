/**
 * Authenticity: does the data look measured? Each check flags one sensor with its evidence:
 *
 * - constant: every reading of the window is the same value (≥ 10 readings), or a run of
 *   identical readings lasts ≥ {@link AUTHENTICITY.constantSeconds}. A value at the limit of the
 *   sensor's range (protocol/sensors.ts: 0 lx in the dark, 0 ppm) is a real reading and not flagged.
 * - pattern (≥ 30 readings, ≥ 3 distinct values): a noiseless pattern —
 *   · exactly periodic: the series repeats itself value for value at a lag, over at least two
 *     more periods (found by the repeat search below);
 *   · constant steps: ≥ 80 % of consecutive steps equal and non-zero (a ramp, a sawtooth);
 *   · smooth: the residual against a local quadratic fit (5 readings) is below 0.2 % of the
 *     series' standard deviation — rounding to the sensor's resolution alone leaves more on any
 *     real part.
 * - replay: a stretch of ≥ 30 runs (a run = consecutive equal readings, compared by value and
 *   length) repeats exactly an earlier stretch of the same series (that is not periodic), or a
 *   stretch of `previous` (an earlier attempt; readings with the very same timestamps are the same
 *   readings, not a replay). Thirty runs of a noisy sensor cannot repeat by chance.
 * - copy: against each peer kit, readings aligned by time (nearest within half our median
 *   interval) are identical at ≥ 80 % of the aligned readings (≥ 20 aligned, covering ≥ half of
 *   ours, ≥ 3 distinct values: two constant fakes are flagged as constant, not as copies).
 *   A copy flags both kits: the evidence cannot tell the original from the copy.
 *
 * Binary series (only 0/1) and actuator states are not checked by default: they are states, and
 * a fan that stays off is not fabricated.
 */
import type { Criterion } from '../lab-api/rubric.ts';
import { sensorSpec } from '../protocol/sensors.ts';
import type { CriterionOf, GradingContext } from './criteria.ts';
import { type Detail, evidence, fmt, result, say, sec, verdict } from './evidence.ts';
import { intervals, inWindow, median, stdDev } from './series.ts';
import type {
  AuthenticityFlag,
  CriterionResult,
  EvidenceSpan,
  GradeOptions,
  Localized,
  SeriesPoint,
} from './types.ts';

export const AUTHENTICITY = {
  /** A run of identical readings this long is flagged constant. */
  constantSeconds: 120,
  /** Fewest readings for the constant check of a whole window. */
  constantMinReadings: 10,
  /** Fewest readings for the pattern checks. */
  patternMinReadings: 30,
  /** Share of equal, non-zero consecutive steps flagged as a pattern (%). */
  constantStepPercent: 80,
  /** Residual against a local quadratic fit / standard deviation below this is a noiseless curve. */
  smoothResidualRatio: 0.002,
  /** Fewest runs (of equal readings) in a repeated stretch flagged as a replay. */
  minRepeatRuns: 30,
  /** Share of identical aligned readings flagged as a copy (%). */
  copyPercent: 80,
  copyMinAligned: 20,
} as const;

/** Length of the seeds (in runs) the repeat search indexes. */
const SEED_RUNS = 8;
/** Most earlier occurrences of a seed tried (the latest ones). */
const MAX_CANDIDATES = 64;

/** Consecutive equal readings. */
interface Run {
  value: number;
  count: number;
  startTs: number;
  endTs: number;
}

function runsOf(points: readonly SeriesPoint[]): Run[] {
  const runs: Run[] = [];
  for (const p of points) {
    const last = runs[runs.length - 1];
    if (last && last.value === p.value) {
      last.count++;
      last.endTs = p.ts;
    } else runs.push({ value: p.value, count: 1, startTs: p.ts, endTs: p.ts });
  }
  return runs;
}

/** Codes runs by (value, length) so runs compare as integers; one coder for series that are compared. */
function runCoder() {
  // value → (length → code): numeric keys, no string per run.
  const codes = new Map<number, Map<number, number>>();
  let next = 0;
  return (runs: readonly Run[]) =>
    runs.map((run) => {
      let byLength = codes.get(run.value);
      if (!byLength) {
        byLength = new Map();
        codes.set(run.value, byLength);
      }
      let code = byLength.get(run.count);
      if (code === undefined) {
        code = next++;
        byLength.set(run.count, code);
      }
      return code;
    });
}

/**
 * A hash of each seed (SEED_RUNS codes from index i). Equal seeds hash alike; a collision only
 * offers a candidate whose exact comparison stops early, so the repeats found do not change.
 */
function seedHashes(codes: readonly number[]): Int32Array {
  const hashes = new Int32Array(Math.max(0, codes.length - SEED_RUNS + 1));
  for (let i = 0; i < hashes.length; i++) {
    let h = 0x811c9dc5;
    for (let k = i; k < i + SEED_RUNS; k++) h = Math.imul(h ^ (codes[k] as number), 0x01000193);
    hashes[i] = h;
  }
  return hashes;
}

interface Repeat {
  /** Start (run index) of the repeated stretch in the series examined. */
  at: number;
  /** Start (run index) of its source. */
  from: number;
  /** Length in runs. */
  length: number;
}

/**
 * Stretches of `target` that repeat a stretch of `source` exactly, each at least `minRuns` long.
 * With `same` (target is source) only earlier stretches count.
 */
function findRepeats(
  target: readonly Run[],
  targetCodes: readonly number[],
  source: readonly Run[],
  sourceCodes: readonly number[],
  same: boolean,
  minRuns: number,
): Repeat[] {
  const index = new Map<number, number[]>();
  const targetHashes = seedHashes(targetCodes);
  const sourceHashes = same ? targetHashes : seedHashes(sourceCodes);
  const add = (i: number) => {
    if (i + SEED_RUNS > sourceCodes.length) return;
    const k = sourceHashes[i] as number;
    const list = index.get(k);
    if (list) list.push(i);
    else index.set(k, [i]);
  };
  if (!same) for (let j = 0; j + SEED_RUNS <= sourceCodes.length; j++) add(j);
  const repeats: Repeat[] = [];
  let i = 0;
  while (i + SEED_RUNS <= targetCodes.length) {
    const candidates = index.get(targetHashes[i] as number) ?? [];
    let best: Repeat | undefined;
    for (let c = candidates.length - 1; c >= Math.max(0, candidates.length - MAX_CANDIDATES); c--) {
      const j = candidates[c] as number;
      if (!same && (target[i] as Run).startTs === (source[j] as Run).startTs) continue;
      let length = 0;
      while (
        i + length < targetCodes.length &&
        j + length < sourceCodes.length &&
        targetCodes[i + length] === sourceCodes[j + length]
      )
        length++;
      if (!best || length > best.length) best = { at: i, from: j, length };
    }
    if (same) add(i);
    if (best && best.length >= minRuns && distinctValues(target, i, best.length) >= 3) {
      repeats.push(best);
      if (same) for (let t = i + 1; t < i + best.length; t++) add(t);
      i += best.length;
    } else i++;
  }
  return repeats;
}

/** Distinct values among runs[at, at + length), counting no further than 3. */
function distinctValues(runs: readonly Run[], at: number, length: number): number {
  const seen: number[] = [];
  for (let r = at; r < at + length && seen.length < 3; r++) {
    const value = (runs[r] as Run).value;
    if (!seen.includes(value)) seen.push(value);
  }
  return seen.length;
}

const readingsIn = (runs: readonly Run[], at: number, length: number) =>
  runs.slice(at, at + length).reduce((n, r) => n + r.count, 0);

/** Residual of each reading against a quadratic fitted (least squares, in time) to it and its 4 neighbours. */
function smoothResidualRatio(points: readonly SeriesPoint[]): number | undefined {
  const sd = stdDev(points.map((p) => p.value));
  if (!(sd > 0) || points.length < 5) return undefined;
  let sum = 0;
  let n = 0;
  for (let i = 2; i + 2 < points.length; i++) {
    const t0 = (points[i] as SeriesPoint).ts;
    // Normal equations of y = a + b x + c x² over the 5 readings (x in s, centred on reading i).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let y0 = 0;
    let y1 = 0;
    let y2 = 0;
    for (let k = i - 2; k <= i + 2; k++) {
      const p = points[k] as SeriesPoint;
      const x = (p.ts - t0) / 1000;
      const x2 = x * x;
      s0 += 1;
      s1 += x;
      s2 += x2;
      s3 += x2 * x;
      s4 += x2 * x2;
      y0 += p.value;
      y1 += x * p.value;
      y2 += x2 * p.value;
    }
    const det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
    if (Math.abs(det) < 1e-12) continue;
    const a = (y0 * (s2 * s4 - s3 * s3) - s1 * (y1 * s4 - s3 * y2) + s2 * (y1 * s3 - s2 * y2)) / det;
    sum += ((points[i] as SeriesPoint).value - a) ** 2;
    n++;
  }
  return n ? Math.sqrt(sum / n) / sd : undefined;
}

/** Share (%) of consecutive steps that equal the step before and are not 0. */
function constantStepPercent(points: readonly SeriesPoint[]): number {
  let same = 0;
  let pairs = 0;
  for (let i = 2; i < points.length; i++) {
    const d1 = (points[i - 1] as SeriesPoint).value - (points[i - 2] as SeriesPoint).value;
    const d2 = (points[i] as SeriesPoint).value - (points[i - 1] as SeriesPoint).value;
    pairs++;
    if (d2 !== 0 && Math.abs(d2 - d1) <= 1e-9 * Math.max(1, Math.abs(d1))) same++;
  }
  return pairs ? (100 * same) / pairs : 0;
}

function atRangeLimit(sensor: string, value: number): boolean {
  const spec = sensorSpec(sensor);
  return spec !== undefined && (value === spec.min || value === spec.max);
}

function flag(
  kind: AuthenticityFlag['kind'],
  sensor: string,
  measured: Record<string, number>,
  spans: EvidenceSpan[],
  explanation: Localized,
  source?: string,
): AuthenticityFlag {
  const out: AuthenticityFlag = { kind, sensor, evidence: evidence(measured, spans), explanation };
  if (source !== undefined) out.source = source;
  return out;
}

function constantFlag(sensor: string, pts: readonly SeriesPoint[], runs: readonly Run[]) {
  let longest: Run | undefined;
  for (const run of runs)
    if (!longest || run.endTs - run.startTs > longest.endTs - longest.startTs) longest = run;
  if (!longest || longest.count < AUTHENTICITY.constantMinReadings) return undefined;
  if (atRangeLimit(sensor, longest.value)) return undefined;
  const whole = runs.length === 1;
  const ms = longest.endTs - longest.startTs;
  if (!whole && ms < AUTHENTICITY.constantSeconds * 1000) return undefined;
  const v = fmt(longest.value);
  const measured = {
    value: longest.value,
    readings: longest.count,
    seconds: ms / 1000,
    percentOfReadings: (100 * longest.count) / pts.length,
  };
  const spans = [{ from: longest.startTs, to: longest.endTs, ok: false, note: `${longest.count} × ${v}` }];
  return flag(
    'constant',
    sensor,
    measured,
    spans,
    whole
      ? say(
          `${sensor} reported the same value ${v} for all ${longest.count} readings (${sec(ms)} s): a real sensor always shows some noise.`,
          `${sensor} 的 ${longest.count} 个读数（${sec(ms)} 秒）全部是同一个值 ${v}：真实传感器总会有一些噪声。`,
        )
      : say(
          `${sensor} stayed exactly at ${v} for ${sec(ms)} s (${longest.count} readings in a row).`,
          `${sensor} 连续 ${sec(ms)} 秒（${longest.count} 个读数）保持完全相同的值 ${v}。`,
        ),
  );
}

/** The flags of one sensor in the window. */
export function sensorFlags(
  sensor: string,
  ctx: GradingContext,
  options: Pick<GradeOptions, 'previous' | 'peers'>,
): AuthenticityFlag[] {
  const pts = ctx.points(sensor);
  if (pts.length === 0) return [];
  const flags: AuthenticityFlag[] = [];
  const runs = runsOf(pts);
  const coder = runCoder();
  const codes = coder(runs);

  const constant = constantFlag(sensor, pts, runs);
  if (constant) flags.push(constant);

  const distinct = new Set(runs.map((r) => r.value)).size;
  const periodic: Repeat[] = [];
  const replays: Repeat[] = [];
  for (const repeat of findRepeats(runs, codes, runs, codes, true, AUTHENTICITY.minRepeatRuns)) {
    const start = runs[repeat.at] as Run;
    const lag = start.startTs - (runs[repeat.from] as Run).startTs;
    const ms = (runs[repeat.at + repeat.length - 1] as Run).endTs - start.startTs;
    (ms >= 2 * lag ? periodic : replays).push(repeat);
  }

  // Noiseless patterns.
  if (pts.length >= AUTHENTICITY.patternMinReadings && distinct >= 3) {
    const steps = constantStepPercent(pts);
    const ratio = smoothResidualRatio(pts);
    const periodicReadings = periodic.reduce(
      (n, r) => n + readingsIn(runs, r.from, r.at - r.from + r.length),
      0,
    );
    const reasonsEn: string[] = [];
    const reasonsZh: string[] = [];
    const measured: Record<string, number> = { readings: pts.length, constantStepPercent: steps };
    if (ratio !== undefined) measured.smoothResidualRatio = ratio;
    const spans: EvidenceSpan[] = [];
    if (periodic.length) {
      const main = periodic.reduce((a, b) => (b.length > a.length ? b : a));
      const period = (runs[main.at] as Run).startTs - (runs[main.from] as Run).startTs;
      const pct = Math.min(100, (100 * periodicReadings) / pts.length);
      measured.periodSeconds = period / 1000;
      measured.periodicPercent = pct;
      reasonsEn.push(`it repeats exactly every ${sec(period)} s over ${fmt(pct)} % of the readings`);
      reasonsZh.push(`每 ${sec(period)} 秒精确重复一次（覆盖 ${fmt(pct)} % 的读数）`);
      for (const r of periodic) {
        spans.push({
          from: (runs[r.from] as Run).startTs,
          to: (runs[r.at + r.length - 1] as Run).endTs,
          ok: false,
          note: `repeats every ${sec((runs[r.at] as Run).startTs - (runs[r.from] as Run).startTs)} s`,
        });
      }
    }
    if (steps >= AUTHENTICITY.constantStepPercent) {
      reasonsEn.push(`${fmt(steps)} % of its steps are exactly equal`);
      reasonsZh.push(`${fmt(steps)} % 的相邻变化量完全相同`);
    }
    if (ratio !== undefined && ratio < AUTHENTICITY.smoothResidualRatio) {
      reasonsEn.push(`it fits a smooth curve with a residual of only ${fmt(ratio * 100)} % of its spread`);
      reasonsZh.push(`与平滑曲线的残差只有其波动幅度的 ${fmt(ratio * 100)} %`);
    }
    if (reasonsEn.length) {
      const first = (pts[0] as SeriesPoint).ts;
      const last = (pts[pts.length - 1] as SeriesPoint).ts;
      if (!spans.length) spans.push({ from: first, to: last, ok: false, note: reasonsEn.join('; ') });
      flags.push(
        flag(
          'pattern',
          sensor,
          measured,
          spans,
          say(
            `${sensor} follows a noiseless pattern, not a measurement: ${reasonsEn.join('; ')}.`,
            `${sensor} 是没有噪声的规则图形，不像实测数据：${reasonsZh.join('；')}。`,
          ),
        ),
      );
    }
  }

  // Replays within the attempt.
  if (replays.length) {
    const spans: EvidenceSpan[] = replays.map((r) => ({
      from: (runs[r.at] as Run).startTs,
      to: (runs[r.at + r.length - 1] as Run).endTs,
      ok: false,
      note: `repeats the readings from ${sec((runs[r.at] as Run).startTs - (runs[r.from] as Run).startTs)} s earlier`,
    }));
    const main = replays.reduce((a, b) => (b.length > a.length ? b : a));
    const mainStart = runs[main.at] as Run;
    const lag = mainStart.startTs - (runs[main.from] as Run).startTs;
    const ms = (runs[main.at + main.length - 1] as Run).endTs - mainStart.startTs;
    const repeated = replays.reduce((n, r) => n + readingsIn(runs, r.at, r.length), 0);
    const count = readingsIn(runs, main.at, main.length);
    flags.push(
      flag(
        'replay',
        sensor,
        {
          repeatedReadings: repeated,
          repeatedPercent: (100 * repeated) / pts.length,
          longestRepeatSeconds: ms / 1000,
          lagSeconds: lag / 1000,
        },
        spans,
        say(
          `${sensor} sent again, value for value, ${sec(ms)} s of readings (${count}) it had already sent ${sec(lag)} s earlier.`,
          `${sensor} 把 ${sec(lag)} 秒前已经发送过的 ${sec(ms)} 秒数据（${count} 个读数）原样重发了一遍。`,
        ),
      ),
    );
  }

  // A replay of an earlier attempt.
  const earlier = inWindow(options.previous?.series[sensor], {
    from: Number.NEGATIVE_INFINITY,
    to: Number.POSITIVE_INFINITY,
  });
  if (earlier.length) {
    const prevRuns = runsOf(earlier);
    const prevCodes = coder(prevRuns);
    const found = findRepeats(runs, codes, prevRuns, prevCodes, false, AUTHENTICITY.minRepeatRuns);
    if (found.length) {
      const repeated = found.reduce((n, r) => n + readingsIn(runs, r.at, r.length), 0);
      const spans: EvidenceSpan[] = found.map((r) => ({
        from: (runs[r.at] as Run).startTs,
        to: (runs[r.at + r.length - 1] as Run).endTs,
        ok: false,
        note: `identical to the earlier attempt's readings from ${new Date((prevRuns[r.from] as Run).startTs).toISOString()}`,
      }));
      const pct = (100 * repeated) / pts.length;
      flags.push(
        flag(
          'replay',
          sensor,
          { repeatedReadings: repeated, repeatedPercent: pct },
          spans,
          say(
            `${sensor} repeats, value for value, ${repeated} readings (${fmt(pct)} % of this attempt) of an earlier attempt.`,
            `${sensor} 有 ${repeated} 个读数（本次的 ${fmt(pct)} %）与之前一次实验的数据逐值相同。`,
          ),
          'previous',
        ),
      );
    }
  }

  // A copy of another kit's stream.
  const peers = Object.entries(options.peers ?? {});
  const tolerance = peers.length ? (median(intervals(pts)) ?? 1000) / 2 : 0;
  for (const [peer, series] of peers) {
    const theirs = inWindow(series[sensor], ctx.window);
    if (!theirs.length) continue;
    const compared = compareAligned(pts, theirs, tolerance, AUTHENTICITY.copyPercent);
    if (!compared) continue;
    const { aligned, identical, distinct: sameValues, spans: stretches } = compared;
    const pct = aligned ? (100 * identical) / aligned : 0;
    if (
      aligned < AUTHENTICITY.copyMinAligned ||
      aligned < pts.length / 2 ||
      pct < AUTHENTICITY.copyPercent ||
      sameValues < 3
    )
      continue;
    flags.push(
      flag(
        'copy',
        sensor,
        { alignedReadings: aligned, identicalReadings: identical, identicalPercent: pct },
        stretches,
        say(
          `${sensor} is identical to kit ${peer}'s at ${fmt(pct)} % of ${aligned} readings aligned in time (≥ ${AUTHENTICITY.copyPercent} % counts as a copy).`,
          `${sensor} 与套件 ${peer} 的数据在 ${aligned} 个按时间对齐的读数中有 ${fmt(pct)} % 完全相同（≥ ${AUTHENTICITY.copyPercent} % 视为复制）。`,
        ),
        peer,
      ),
    );
  }
  return flags;
}

/**
 * Our readings against the peer's nearest ones (within `tolerance` ms): counts and identical
 * stretches; undefined as soon as the identical share can no longer reach `minPercent` (most
 * pairs of kits part ways within the first fifth of the readings: a session compares them all).
 */
function compareAligned(
  ours: readonly SeriesPoint[],
  theirs: readonly SeriesPoint[],
  tolerance: number,
  minPercent: number,
) {
  const share = minPercent / 100;
  const spans: EvidenceSpan[] = [];
  const values = new Set<number>();
  let aligned = 0;
  let identical = 0;
  let open: EvidenceSpan | undefined;
  let count = 0;
  let k = 0;
  const close = () => {
    if (open) {
      open.note = `${count} identical reading(s)`;
      spans.push(open);
    }
    open = undefined;
    count = 0;
  };
  for (let index = 0; index < ours.length; index++) {
    const p = ours[index] as SeriesPoint;
    // Even if every reading left were aligned and identical, the share would stay below minPercent.
    const left = ours.length - index;
    if (identical + left < share * (aligned + left)) return undefined;
    while (
      k + 1 < theirs.length &&
      Math.abs((theirs[k + 1] as SeriesPoint).ts - p.ts) <= Math.abs((theirs[k] as SeriesPoint).ts - p.ts)
    )
      k++;
    const q = theirs[k] as SeriesPoint;
    if (Math.abs(q.ts - p.ts) > tolerance) continue;
    aligned++;
    if (q.value === p.value) {
      identical++;
      values.add(p.value);
      if (open) open.to = p.ts;
      else open = { from: p.ts, to: p.ts, ok: false };
      count++;
    } else close();
  }
  close();
  return { aligned, identical, distinct: values.size, spans };
}

/**
 * authenticity: passed (full weight) when no flag is raised on its sensors, 0 otherwise —
 * fabricated data earns no part of it, so partialCredit is ignored. The flags themselves are
 * reported in the grade whatever the score.
 */
export function authenticity(
  criterion: CriterionOf<'authenticity'>,
  sensors: readonly string[],
  flags: readonly AuthenticityFlag[],
  ctx: GradingContext,
  detail: Detail = 'full',
): CriterionResult {
  const checked = sensors.filter((sensor) => ctx.count(sensor) > 0);
  const passed = flags.length === 0;
  const ok = passed && checked.length > 0;
  if (detail === 'verdict') return verdict(criterion as Criterion, ok, ok ? 1 : 0);
  const kinds = { constant: 0, pattern: 0, replay: 0, copy: 0 };
  for (const f of flags) kinds[f.kind]++;
  const measured = { sensorsChecked: checked.length, flags: flags.length, ...kinds };
  const spans: EvidenceSpan[] =
    detail !== 'full'
      ? []
      : passed
        ? [
            {
              from: ctx.window.from,
              to: ctx.window.to,
              ok: true,
              note: `no flag on ${checked.join(', ') || 'no data'}`,
            },
          ]
        : flags.flatMap((f) =>
            f.evidence.spans.map((s) => ({ ...s, note: `${f.kind} ${f.sensor}: ${s.note ?? ''}` })),
          );
  const list = checked.join(', ');
  const explanation = passed
    ? checked.length
      ? say(
          `The data of ${list} looks measured: not constant, no noiseless pattern, no replayed stretch and not a copy of another kit.`,
          `${list} 的数据像是实测的：没有恒定值、没有无噪声的规则图形、没有重发的片段，也不是其他套件数据的复制。`,
        )
      : say('No sensor data to check in the attempt window.', '本次实验时段内没有可检查的传感器数据。')
    : say(
        `Flagged for the instructor: ${flags.map((f) => f.explanation.en).join(' ')}`,
        `已标记，请教师复核：${flags.map((f) => f.explanation['zh-CN']).join('')}`,
      );
  return result(criterion as Criterion, ok, ok ? 1 : 0, evidence(measured, spans), explanation);
}
