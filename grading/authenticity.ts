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
 *
 * While the attempt runs (live grading), the criterion says "measured" only once each checked
 * sensor has {@link AUTHENTICITY}.judgeAfterReadings readings over judgeAfterSeconds — enough for
 * the checks above to have had their chance; until then it is pending (a flag fails it at once).
 * The criterion itself (score, sentences, pending) is its plug-in, criteria/authenticity.ts.
 *
 * Some 700 lines, above the ~600 a module aims at: the four checks share the runs, the repeat
 * search and the flag evidence, and split apart they would each need most of the others.
 */
import { sensorSpec } from '../protocol/index.ts';
import type { GradingContext } from './criteria/plugin.ts';
import { evidence, fmt, Label, label, qty, say, sec } from './evidence.ts';
import { columnsOf, inWindow, median, stdDev } from './series.ts';
import type { AuthenticityFlag, EvidenceSpan, GradeOptions, Localized, SeriesColumns } from './types.ts';

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
  /** Live grading: readings of each checked sensor before the data may be called measured. */
  judgeAfterReadings: 30,
  /** Live grading: and the time they must span (a constant run is flagged after 120 s). */
  judgeAfterSeconds: 120,
} as const;

/** Length of the seeds (in runs) the repeat search indexes. */
const SEED_RUNS = 8;
/** Most earlier occurrences of a seed tried (the latest ones). */
const MAX_CANDIDATES = 64;

/**
 * A series cut into runs of consecutive equal readings: run r is readings [start[r], start[r + 1])
 * of the columns. Typed arrays, not an object per run: a check reads every reading of the window.
 */
class Runs {
  readonly ts: Float64Array;
  readonly values: Float64Array;
  readonly start: Int32Array;
  readonly length: number;

  constructor({ ts, values }: SeriesColumns) {
    const start = new Int32Array(values.length + 1);
    let n = 0;
    for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[i - 1]) start[n++] = i;
    start[n] = values.length;
    this.ts = ts;
    this.values = values;
    this.start = start;
    this.length = n;
  }

  value(r: number): number {
    return this.values[this.start[r] as number] as number;
  }

  /** Readings in run r. */
  count(r: number): number {
    return (this.start[r + 1] as number) - (this.start[r] as number);
  }

  startTs(r: number): number {
    return this.ts[this.start[r] as number] as number;
  }

  endTs(r: number): number {
    return this.ts[(this.start[r + 1] as number) - 1] as number;
  }

  /** Readings in runs [at, at + length). */
  readingsIn(at: number, length: number): number {
    return (this.start[at + length] as number) - (this.start[at] as number);
  }

  /** Distinct values among runs [at, at + length), counting no further than 3. */
  distinctValues(at: number, length: number): number {
    let first = 0;
    let second = 0;
    let seen = 0;
    for (let r = at; r < at + length && seen < 3; r++) {
      const value = this.value(r);
      if (seen === 0) first = value;
      else if (value === first || (seen === 2 && value === second)) continue;
      else if (seen === 1) second = value;
      seen++;
    }
    return seen;
  }
}

/** The bits of a double, for hashing. */
const bits = new Float64Array(1);
const bitWords = new Int32Array(bits.buffer);

/** Murmur3's finalizer: every bit of the input moves every bit of the output. */
function mix(h: number): number {
  let x = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** A hash of a run's (value, length); `value` is not -0. */
function runHash(value: number, count: number): number {
  bits[0] = value;
  return mix((bitWords[0] as number) ^ mix((bitWords[1] as number) ^ Math.imul(count, 0x27d4eb2d)));
}

/**
 * Codes runs by (value, length) so runs compare as integers; one coder for series that are
 * compared. An open-addressing table on typed arrays: a window has as many distinct runs as
 * readings on a noisy sensor, and a Map per value (or boxed keys) cost more than the search.
 */
class RunCoder {
  #values = new Float64Array(256);
  #counts = new Int32Array(256);
  /** The code of each slot, -1 when empty. */
  #codes = new Int32Array(256).fill(-1);
  #size = 0;

  code(runs: Runs): Int32Array {
    const codes = new Int32Array(runs.length);
    for (let r = 0; r < runs.length; r++) codes[r] = this.#codeOf(runs.value(r), runs.count(r));
    return codes;
  }

  #codeOf(raw: number, count: number): number {
    const value = raw === 0 ? 0 : raw; // -0 and 0 are the same reading
    const slot = this.#slot(value, count);
    const known = this.#codes[slot] as number;
    if (known >= 0) return known;
    const code = this.#size++;
    this.#put(slot, value, count, code);
    if (this.#size * 2 > this.#codes.length) this.#grow();
    return code;
  }

  /** The slot holding (value, count), or the empty one where it goes. */
  #slot(value: number, count: number): number {
    const mask = this.#codes.length - 1;
    let slot = runHash(value, count) & mask;
    while ((this.#codes[slot] as number) >= 0) {
      if (this.#values[slot] === value && this.#counts[slot] === count) return slot;
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  #put(slot: number, value: number, count: number, code: number): void {
    this.#values[slot] = value;
    this.#counts[slot] = count;
    this.#codes[slot] = code;
  }

  #grow(): void {
    const values = this.#values;
    const counts = this.#counts;
    const codes = this.#codes;
    const capacity = codes.length * 2;
    this.#values = new Float64Array(capacity);
    this.#counts = new Int32Array(capacity);
    this.#codes = new Int32Array(capacity).fill(-1);
    for (let old = 0; old < codes.length; old++) {
      const code = codes[old] as number;
      if (code < 0) continue;
      const value = values[old] as number;
      const count = counts[old] as number;
      this.#put(this.#slot(value, count), value, count, code);
    }
  }
}

/**
 * A hash of each seed (SEED_RUNS codes from index i). Equal seeds hash alike; a collision only
 * offers a candidate whose exact comparison stops early, so the repeats found do not change.
 */
function seedHashes(codes: Int32Array): Int32Array {
  const hashes = new Int32Array(Math.max(0, codes.length - SEED_RUNS + 1));
  for (let i = 0; i < hashes.length; i++) {
    let h = 0x811c9dc5;
    for (let k = i; k < i + SEED_RUNS; k++) h = Math.imul(h ^ (codes[k] as number), 0x01000193);
    hashes[i] = h;
  }
  return hashes;
}

/** A power of two at least twice `n` (an open-addressing table stays at most half full). */
function tableSize(n: number): number {
  let size = 16;
  while (size < 2 * n) size *= 2;
  return size;
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
  target: Runs,
  targetCodes: Int32Array,
  source: Runs,
  sourceCodes: Int32Array,
  same: boolean,
  minRuns: number,
): Repeat[] {
  const targetHashes = seedHashes(targetCodes);
  const sourceHashes = same ? targetHashes : seedHashes(sourceCodes);
  // The seeds indexed so far: an open-addressing table of the latest seed of each hash, and for
  // each seed the one indexed before it with the same hash (-1: none).
  const mask = tableSize(sourceHashes.length) - 1;
  const latest = new Int32Array(mask + 1).fill(-1);
  const before = new Int32Array(sourceHashes.length);
  const slotOf = (hash: number) => {
    let slot = mix(hash) & mask;
    while (true) {
      const j = latest[slot] as number;
      if (j < 0 || sourceHashes[j] === hash) return slot;
      slot = (slot + 1) & mask;
    }
  };
  const add = (j: number) => {
    if (j >= sourceHashes.length) return;
    const slot = slotOf(sourceHashes[j] as number);
    before[j] = latest[slot] as number;
    latest[slot] = j;
  };
  if (!same) for (let j = 0; j < sourceHashes.length; j++) add(j);
  const repeats: Repeat[] = [];
  let i = 0;
  while (i < targetHashes.length) {
    let bestFrom = -1;
    let bestLength = -1;
    let j = latest[slotOf(targetHashes[i] as number)] as number;
    for (let tried = 0; j >= 0 && tried < MAX_CANDIDATES; j = before[j] as number, tried++) {
      if (!same && target.startTs(i) === source.startTs(j)) continue;
      let length = 0;
      while (
        i + length < targetCodes.length &&
        j + length < sourceCodes.length &&
        targetCodes[i + length] === sourceCodes[j + length]
      )
        length++;
      if (length > bestLength) {
        bestFrom = j;
        bestLength = length;
      }
    }
    if (same) add(i);
    if (bestLength >= minRuns && target.distinctValues(i, bestLength) >= 3) {
      repeats.push({ at: i, from: bestFrom, length: bestLength });
      if (same) for (let t = i + 1; t < i + bestLength; t++) add(t);
      i += bestLength;
    } else i++;
  }
  return repeats;
}

/** Whether the values take at least `n` distinct values. */
function hasDistinct(values: Float64Array, n: number): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < values.length; i++) {
    seen.add(values[i] as number);
    if (seen.size >= n) return true;
  }
  return false;
}

/** Residual of each reading against a quadratic fitted (least squares, in time) to it and its 4 neighbours. */
function smoothResidualRatio({ ts, values }: SeriesColumns): number | undefined {
  const sd = stdDev(values);
  if (!(sd > 0) || values.length < 5) return undefined;
  let sum = 0;
  let n = 0;
  for (let i = 2; i + 2 < values.length; i++) {
    const t0 = ts[i] as number;
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
      const value = values[k] as number;
      const x = ((ts[k] as number) - t0) / 1000;
      const x2 = x * x;
      s0 += 1;
      s1 += x;
      s2 += x2;
      s3 += x2 * x;
      s4 += x2 * x2;
      y0 += value;
      y1 += x * value;
      y2 += x2 * value;
    }
    const det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
    if (Math.abs(det) < 1e-12) continue;
    const a = (y0 * (s2 * s4 - s3 * s3) - s1 * (y1 * s4 - s3 * y2) + s2 * (y1 * s3 - s2 * y2)) / det;
    sum += ((values[i] as number) - a) ** 2;
    n++;
  }
  return n ? Math.sqrt(sum / n) / sd : undefined;
}

/** Share (%) of consecutive steps that equal the step before and are not 0. */
function constantStepPercent(values: Float64Array): number {
  let same = 0;
  let pairs = 0;
  for (let i = 2; i < values.length; i++) {
    const d1 = (values[i - 1] as number) - (values[i - 2] as number);
    const d2 = (values[i] as number) - (values[i - 1] as number);
    pairs++;
    if (d2 !== 0 && Math.abs(d2 - d1) <= 1e-9 * Math.max(1, Math.abs(d1))) same++;
  }
  return pairs ? (100 * same) / pairs : 0;
}

/** Median interval between consecutive readings (ms). */
function medianInterval(ts: Float64Array): number | undefined {
  const gaps = new Float64Array(Math.max(0, ts.length - 1));
  for (let i = 1; i < ts.length; i++) gaps[i - 1] = (ts[i] as number) - (ts[i - 1] as number);
  return median(gaps);
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

function constantFlag(sensor: string, runs: Runs) {
  let longest = -1;
  let longestMs = -1;
  for (let r = 0; r < runs.length; r++) {
    const ms = runs.endTs(r) - runs.startTs(r);
    if (ms > longestMs) {
      longest = r;
      longestMs = ms;
    }
  }
  if (longest < 0) return undefined;
  const count = runs.count(longest);
  const value = runs.value(longest);
  if (count < AUTHENTICITY.constantMinReadings) return undefined;
  if (atRangeLimit(sensor, value)) return undefined;
  const whole = runs.length === 1;
  const ms = longestMs;
  if (!whole && ms < AUTHENTICITY.constantSeconds * 1000) return undefined;
  const v = qty(sensor, value);
  const name = label(sensor);
  const from = runs.startTs(longest);
  const measured = {
    value,
    readings: count,
    seconds: ms / 1000,
    percentOfReadings: (100 * count) / runs.values.length,
  };
  const spans = [{ from, to: from + ms, ok: false, note: `${count} × ${v.en}` }];
  return flag(
    'constant',
    sensor,
    measured,
    spans,
    whole
      ? say(
          `${Label(sensor)} reported the same value ${v.en} for all ${count} readings (${sec(ms)} s): a real sensor always shows some noise.`,
          `${name['zh-CN']}的 ${count} 个读数（${sec(ms)} 秒）全部是同一个值 ${v['zh-CN']}：真实传感器总会有一些噪声。`,
        )
      : say(
          `${Label(sensor)} stayed exactly at ${v.en} for ${sec(ms)} s (${count} readings in a row).`,
          `${name['zh-CN']}连续 ${sec(ms)} 秒（${count} 个读数）保持完全相同的值 ${v['zh-CN']}。`,
        ),
  );
}

/** The flags of one sensor in the window. */
export function sensorFlags(
  sensor: string,
  ctx: GradingContext,
  options: Pick<GradeOptions, 'previous' | 'peers'>,
): AuthenticityFlag[] {
  const columns = ctx.columns(sensor);
  const readings = columns.values.length;
  if (readings === 0) return [];
  const flags: AuthenticityFlag[] = [];
  const runs = new Runs(columns);
  const coder = new RunCoder();
  const codes = coder.code(runs);

  const constant = constantFlag(sensor, runs);
  if (constant) flags.push(constant);

  const periodic: Repeat[] = [];
  const replays: Repeat[] = [];
  for (const repeat of findRepeats(runs, codes, runs, codes, true, AUTHENTICITY.minRepeatRuns)) {
    const lag = runs.startTs(repeat.at) - runs.startTs(repeat.from);
    const ms = runs.endTs(repeat.at + repeat.length - 1) - runs.startTs(repeat.at);
    (ms >= 2 * lag ? periodic : replays).push(repeat);
  }

  // Noiseless patterns.
  if (readings >= AUTHENTICITY.patternMinReadings && hasDistinct(columns.values, 3)) {
    const steps = constantStepPercent(columns.values);
    const ratio = smoothResidualRatio(columns);
    const periodicReadings = periodic.reduce(
      (n, r) => n + runs.readingsIn(r.from, r.at - r.from + r.length),
      0,
    );
    const reasonsEn: string[] = [];
    const reasonsZh: string[] = [];
    const measured: Record<string, number> = { readings, constantStepPercent: steps };
    if (ratio !== undefined) measured.smoothResidualRatio = ratio;
    const spans: EvidenceSpan[] = [];
    if (periodic.length) {
      const main = periodic.reduce((a, b) => (b.length > a.length ? b : a));
      const period = runs.startTs(main.at) - runs.startTs(main.from);
      const pct = Math.min(100, (100 * periodicReadings) / readings);
      measured.periodSeconds = period / 1000;
      measured.periodicPercent = pct;
      reasonsEn.push(`it repeats exactly every ${sec(period)} s over ${fmt(pct)} % of the readings`);
      reasonsZh.push(`每 ${sec(period)} 秒精确重复一次（覆盖 ${fmt(pct)} % 的读数）`);
      for (const r of periodic) {
        spans.push({
          from: runs.startTs(r.from),
          to: runs.endTs(r.at + r.length - 1),
          ok: false,
          note: `repeats every ${sec(runs.startTs(r.at) - runs.startTs(r.from))} s`,
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
      const first = columns.ts[0] as number;
      const last = columns.ts[readings - 1] as number;
      if (!spans.length) spans.push({ from: first, to: last, ok: false, note: reasonsEn.join('; ') });
      flags.push(
        flag(
          'pattern',
          sensor,
          measured,
          spans,
          say(
            `${Label(sensor)} follows a noiseless pattern, not a measurement: ${reasonsEn.join('; ')}.`,
            `${label(sensor)['zh-CN']}是没有噪声的规则图形，不像实测数据：${reasonsZh.join('；')}。`,
          ),
        ),
      );
    }
  }

  // Replays within the attempt.
  if (replays.length) {
    const spans: EvidenceSpan[] = replays.map((r) => ({
      from: runs.startTs(r.at),
      to: runs.endTs(r.at + r.length - 1),
      ok: false,
      note: `repeats the readings from ${sec(runs.startTs(r.at) - runs.startTs(r.from))} s earlier`,
    }));
    const main = replays.reduce((a, b) => (b.length > a.length ? b : a));
    const lag = runs.startTs(main.at) - runs.startTs(main.from);
    const ms = runs.endTs(main.at + main.length - 1) - runs.startTs(main.at);
    const repeated = replays.reduce((n, r) => n + runs.readingsIn(r.at, r.length), 0);
    const count = runs.readingsIn(main.at, main.length);
    flags.push(
      flag(
        'replay',
        sensor,
        {
          repeatedReadings: repeated,
          repeatedPercent: (100 * repeated) / readings,
          longestRepeatSeconds: ms / 1000,
          lagSeconds: lag / 1000,
        },
        spans,
        say(
          `${Label(sensor)} sent again, value for value, ${sec(ms)} s of readings (${count}) it had already sent ${sec(lag)} s earlier.`,
          `${label(sensor)['zh-CN']}把 ${sec(lag)} 秒前已经发送过的 ${sec(ms)} 秒数据（${count} 个读数）原样重发了一遍。`,
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
    const previousRuns = new Runs(columnsOf(earlier));
    const previousCodes = coder.code(previousRuns);
    const found = findRepeats(runs, codes, previousRuns, previousCodes, false, AUTHENTICITY.minRepeatRuns);
    if (found.length) {
      const repeated = found.reduce((n, r) => n + runs.readingsIn(r.at, r.length), 0);
      const spans: EvidenceSpan[] = found.map((r) => ({
        from: runs.startTs(r.at),
        to: runs.endTs(r.at + r.length - 1),
        ok: false,
        note: `identical to the earlier attempt's readings from ${new Date(previousRuns.startTs(r.from)).toISOString()}`,
      }));
      const pct = (100 * repeated) / readings;
      flags.push(
        flag(
          'replay',
          sensor,
          { repeatedReadings: repeated, repeatedPercent: pct },
          spans,
          say(
            `${Label(sensor)} repeats, value for value, ${repeated} readings (${fmt(pct)} % of this attempt) of an earlier attempt.`,
            `${label(sensor)['zh-CN']}有 ${repeated} 个读数（本次的 ${fmt(pct)} %）与之前一次实验的数据逐值相同。`,
          ),
          'previous',
        ),
      );
    }
  }

  // A copy of another kit's stream.
  const peers = Object.entries(options.peers ?? {});
  const tolerance = peers.length ? (medianInterval(columns.ts) ?? 1000) / 2 : 0;
  for (const [peer, series] of peers) {
    const theirs = inWindow(series[sensor], ctx.window);
    if (!theirs.length) continue;
    const compared = compareAligned(columns, columnsOf(theirs), tolerance, AUTHENTICITY.copyPercent);
    if (!compared) continue;
    const { aligned, identical, distinct: sameValues, spans: stretches } = compared;
    const pct = aligned ? (100 * identical) / aligned : 0;
    if (
      aligned < AUTHENTICITY.copyMinAligned ||
      aligned < readings / 2 ||
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
          `${Label(sensor)} is identical to kit ${peer}'s at ${fmt(pct)} % of ${aligned} readings aligned in time (≥ ${AUTHENTICITY.copyPercent} % counts as a copy).`,
          `${label(sensor)['zh-CN']}与套件 ${peer} 的数据在 ${aligned} 个按时间对齐的读数中有 ${fmt(pct)} % 完全相同（≥ ${AUTHENTICITY.copyPercent} % 视为复制）。`,
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
function compareAligned(ours: SeriesColumns, theirs: SeriesColumns, tolerance: number, minPercent: number) {
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
  const n = ours.ts.length;
  const m = theirs.ts.length;
  for (let index = 0; index < n; index++) {
    const ts = ours.ts[index] as number;
    const value = ours.values[index] as number;
    // Even if every reading left were aligned and identical, the share would stay below minPercent.
    const left = n - index;
    if (identical + left < share * (aligned + left)) return undefined;
    while (
      k + 1 < m &&
      Math.abs((theirs.ts[k + 1] as number) - ts) <= Math.abs((theirs.ts[k] as number) - ts)
    )
      k++;
    if (Math.abs((theirs.ts[k] as number) - ts) > tolerance) continue;
    aligned++;
    if (theirs.values[k] === value) {
      identical++;
      values.add(value);
      if (open) open.to = ts;
      else open = { from: ts, to: ts, ok: false };
      count++;
    } else close();
  }
  close();
  return { aligned, identical, distinct: values.size, spans };
}

/**
 * Whether the sensor's data in the window is enough for live grading to call it measured
 * ({@link AUTHENTICITY}.judgeAfterReadings readings over judgeAfterSeconds).
 */
export function authenticityReady(sensor: string, ctx: GradingContext): boolean {
  return (
    ctx.count(sensor) >= AUTHENTICITY.judgeAfterReadings &&
    ctx.spanMs(sensor) >= AUTHENTICITY.judgeAfterSeconds * 1000
  );
}
