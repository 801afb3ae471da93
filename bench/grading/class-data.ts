import { type Rubric, rubricProblems, type TimeWindow } from '../../grading/index.ts';
import type { TelemetryRecord } from '../../protocol/index.ts';
import { emitResult } from '../report.ts';

export interface GradingBenchOptions {
  /** Final grading: kits (attempts) of the class. */
  kits: number;
  /** Final grading: length of each attempt. */
  hours: number;
  stores: ('embedded' | 'influxdb')[];
  /** Live grading: running attempts, one kit each. */
  liveKits: number;
  /** Live grading: measured seconds per run. */
  liveSeconds: number;
  /** Live grading: one run per entry, with this many minutes already buffered per attempt. */
  liveHistoryMinutes: number[];
  /** Which parts run: final grading, live grading. */
  parts: ('final' | 'live')[];
}

export const emit = (result: Record<string, unknown>) => emitResult('grading', result);
export const r2 = (n: number) => Math.round(n * 100) / 100;
export const r3 = (n: number) => Math.round(n * 1000) / 1000;

/** Eight sensors, as a full greenhouse-plus-safety kit sends them. */
export const SENSORS = [
  'temperature',
  'humidity',
  'light',
  'soil_moisture',
  'distance',
  'motion',
  'gas',
  'pressure',
] as const;

/** Records per store write. */
export const WRITE_BATCH = 5_000;
export const FINAL_TARGET_SECONDS = { embedded: 5, influxdb: 15 } as const;
export const LIVE_TARGET_PERCENT = 10;
/** Longest wait for every attempt to be graded on live data before measuring anyway. */
export const WARMUP_LIMIT_MS = 60_000;
/** Buffered windows (minutes) whose evaluation cost is measured alone. */
export const COST_WINDOWS = [1, 10, 30, 60, 120];

// ---------------------------------------------------------------- the rubric

const range = (id: string, sensor: string, min: number, max: number, minPercent: number, weight: number) =>
  ({
    id,
    title: `${sensor} within ${min}–${max}`,
    weight,
    partialCredit: true,
    type: 'range',
    params: { sensor, min, max, minPercent },
  }) as const;

/** A greenhouse monitoring task: every sensor reports at 1 Hz, stays plausible, and is measured. */
export const RUBRIC: Rubric = {
  criteria: [
    {
      id: 'sampling_1hz',
      title: { 'zh-CN': '温度 1 Hz 采样', en: 'Temperature sampled at 1 Hz' },
      weight: 10,
      partialCredit: true,
      type: 'sampling',
      params: { sensor: 'temperature', minHz: 1, minMinutes: 45 },
    },
    {
      id: 'motion_reported',
      title: 'PIR state reported at least every 5 s',
      weight: 5,
      partialCredit: false,
      type: 'sampling',
      params: { sensor: 'motion', maxIntervalSeconds: 5, minMinutes: 45 },
    },
    {
      id: 'temperature_complete',
      title: 'No temperature gap over 10 s',
      weight: 10,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'temperature', maxGapSeconds: 10, minPercent: 99 },
    },
    {
      id: 'humidity_complete',
      title: 'No humidity gap over 10 s',
      weight: 5,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'humidity', maxGapSeconds: 10, minPercent: 99 },
    },
    {
      id: 'pressure_complete',
      title: 'No pressure gap over 10 s',
      weight: 5,
      partialCredit: true,
      type: 'completeness',
      params: { sensor: 'pressure', maxGapSeconds: 10, minPercent: 99 },
    },
    range('temperature_range', 'temperature', 18, 30, 95, 10),
    range('humidity_range', 'humidity', 35, 80, 95, 5),
    range('soil_range', 'soil_moisture', 30, 60, 95, 5),
    range('gas_safe', 'gas', 0, 400, 99, 10),
    range('light_range', 'light', 100, 2000, 95, 5),
    range('distance_range', 'distance', 20, 300, 90, 5),
    {
      id: 'pressure_stable',
      title: 'Barometer steady',
      weight: 5,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'pressure', maxStdDev: 1.5, maxDriftPerMinute: 0.05 },
    },
    {
      id: 'temperature_stable',
      title: 'No temperature drift',
      weight: 5,
      partialCredit: true,
      type: 'stability',
      params: { sensor: 'temperature', maxDriftPerMinute: 0.05 },
    },
    {
      id: 'authentic',
      title: { 'zh-CN': '数据真实', en: 'Measured, not fabricated' },
      weight: 15,
      partialCredit: false,
      type: 'authenticity',
      params: { sensors: SENSORS.filter((s) => s !== 'motion') },
    },
  ],
};

export function checkedRubric(): Rubric {
  const problems = rubricProblems(
    RUBRIC,
    { requiredSensors: SENSORS, requiredActuators: [] },
    { requireCriteria: true },
  );
  if (problems.length > 0) throw new Error(`the benchmark's rubric is invalid: ${problems.join('; ')}`);
  return RUBRIC;
}

// ---------------------------------------------------------------- the readings

/** mulberry32: a small, fast, seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const round = (value: number, step: number) => Math.round(value / step) * step;
const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * One kit's readings, second by second: offsets per kit, slow drifts (AR(1)), slow cycles and
 * noise, quantized to each part's resolution; people passing the HC-SR04 / PIR now and then. By
 * its index in the class, a kit has a fault a real class has: a 4-minute Wi-Fi drop (index 3 of
 * 10: no record), a 15-minute temperature excursion to 32 °C (5), a humidity reading stuck for
 * 4 minutes (7), a 3-minute gas leak to ~600 ppm (11 of 25), or it copies the previous kit's
 * stream (49 of 50: only copy detection against peers sees it).
 */
export class KitSignal {
  readonly #fault: number;
  readonly #leak: boolean;
  readonly #noise: () => number;
  readonly #jitter: () => number;
  readonly #off: { t: number; h: number; l: number; m: number; d: number; g: number; p: number };
  readonly #phase: number;
  #walk = { t: 0, h: 0, l: 0, m: 0, g: 0 };
  #passing = 0;
  #pirHold = 0;
  #stuckHumidity: number | undefined;

  constructor(index: number, classSize = 50) {
    const source = index % classSize === classSize - 1 && index > 0 ? index - 1 : index;
    this.#fault = source % 10;
    this.#leak = source % 25 === 11;
    const setup = prng(source * 7919 + 17);
    this.#noise = prng(source * 104_729 + 3);
    this.#jitter = prng(index * 15_485_863 + 11); // the copy keeps its own clock
    const spread = (half: number) => (setup() * 2 - 1) * half;
    this.#off = {
      t: spread(1.5),
      h: spread(5),
      l: spread(150),
      m: spread(4),
      d: spread(20),
      g: spread(30),
      p: spread(4),
    };
    this.#phase = setup() * 2 * Math.PI;
  }

  /** ≈ N(0, 1), cheaply. */
  #gauss(): number {
    const r = this.#noise;
    return (r() + r() + r() + r() - 2) * 1.732_050_8;
  }

  /** Clock jitter of the kit's ts (0–40 ms). */
  jitterMs(): number {
    return Math.floor(this.#jitter() * 40);
  }

  /** The readings at second `s` of the attempt; undefined while the kit's Wi-Fi is down. */
  sample(s: number): Record<string, number> | undefined {
    const g = () => this.#gauss();
    const w = this.#walk;
    w.t = 0.999 * w.t + 0.01 * g();
    w.h = 0.998 * w.h + 0.05 * g();
    w.l = 0.995 * w.l + 3 * g();
    w.m = 0.999 * w.m + 0.005 * g();
    w.g = 0.995 * w.g + 0.8 * g();
    if (this.#passing > 0) this.#passing--;
    else if (this.#noise() < 0.005) this.#passing = 3 + Math.floor(this.#noise() * 6);
    this.#pirHold = this.#passing > 0 ? 3 : Math.max(0, this.#pirHold - 1);

    const cycle = Math.sin((2 * Math.PI * s) / 7200 + this.#phase);
    let excursion = 0;
    if (this.#fault === 5 && s >= 3000 && s < 3900) {
      excursion = 10 * Math.min(1, (s - 3000) / 60, (3900 - s) / 60);
    }
    const warm = 0.8 * cycle + w.t + excursion;
    const temperature = round1(22 + this.#off.t + warm + 0.08 * g());
    let humidity = round1(55 + this.#off.h - 1.5 * warm + w.h + 0.25 * g());
    if (this.#fault === 7 && s >= 2400 && s < 2640) {
      this.#stuckHumidity ??= humidity;
      humidity = this.#stuckHumidity;
    }
    const light = Math.max(
      0,
      round(650 + this.#off.l + 120 * Math.sin((2 * Math.PI * s) / 5400 + this.#phase) + w.l + 5 * g(), 1),
    );
    const soil = round1(45 + this.#off.m - 0.0004 * s + w.m + 0.15 * g());
    const distance = this.#passing > 0 ? round1(60 + 10 * g()) : round1(120 + this.#off.d + 0.6 * g());
    const leak = this.#leak && s >= 5000 && s < 5180 ? 450 : 0;
    const gas = Math.max(0, round(150 + this.#off.g + w.g + leak + 3 * g(), 1));
    const pressure = round2(1010 + this.#off.p + 0.3 * cycle + 0.04 * g());
    if (this.#fault === 3 && s >= 1800 && s < 2040) return undefined;
    return {
      temperature,
      humidity,
      light,
      soil_moisture: soil,
      distance: Math.min(400, Math.max(2, distance)),
      motion: this.#pirHold > 0 ? 1 : 0,
      gas,
      pressure,
    };
  }
}

export const kitName = (prefix: string, i: number) => `${prefix}-${String(i).padStart(4, '0')}`;

/** The class's records in time order (all kits at second 0, then second 1, …), in batches. */
export function* classBatches(
  kitIds: readonly string[],
  window: TimeWindow,
  seconds: number,
): Generator<TelemetryRecord[]> {
  const signals = kitIds.map((_, i) => new KitSignal(i, kitIds.length));
  let batch: TelemetryRecord[] = [];
  for (let s = 0; s < seconds; s++) {
    for (let k = 0; k < kitIds.length; k++) {
      const signal = signals[k] as KitSignal;
      const readings = signal.sample(s);
      const ts = window.from + s * 1000 + signal.jitterMs();
      if (!readings) continue;
      batch.push({ kitId: kitIds[k] as string, ts, seq: s, readings });
      if (batch.length >= WRITE_BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

// ---------------------------------------------------------------- final grading
