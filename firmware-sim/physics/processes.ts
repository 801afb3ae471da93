/**
 * How physical quantities move over time: the lab's day (daylight, the daily temperature wave),
 * first-order lags (actuators acting on a room), slow drift, and random episodes (clouds, visitors,
 * doors, gas leaks).
 */
import type { Rng } from './random.ts';

/** `value` kept within [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** One step of a first-order lag: `value` moves towards `target` with time constant `tauS`. */
export function firstOrder(value: number, target: number, dtS: number, tauS: number): number {
  return target + (value - target) * Math.exp(-dtS / tauS);
}

/** China Standard Time: the wall clock of the lab. */
export const DEFAULT_UTC_OFFSET_MINUTES = 8 * 60;

/** Local hour of day, 0 ≤ h < 24. */
export function localHour(now: number, utcOffsetMinutes = DEFAULT_UTC_OFFSET_MINUTES): number {
  const hours = (now + utcOffsetMinutes * 60_000) / 3_600_000;
  return ((hours % 24) + 24) % 24;
}

/** Daylight from the wall clock: 0 at night, rising from 06:00 to 1 at noon, 0 again at 18:00. */
export function daylight(now: number, utcOffsetMinutes = DEFAULT_UTC_OFFSET_MINUTES): number {
  const hour = localHour(now, utcOffsetMinutes);
  if (hour <= 6 || hour >= 18) return 0;
  return Math.sin((Math.PI * (hour - 6)) / 12) ** 1.5;
}

/** The daily temperature wave: +1 at 15:00, −1 at 03:00. */
export function dailyWave(now: number, utcOffsetMinutes = DEFAULT_UTC_OFFSET_MINUTES): number {
  return Math.cos((2 * Math.PI * (localHour(now, utcOffsetMinutes) - 15)) / 24);
}

/** Slow random drift (Ornstein–Uhlenbeck): wanders around 0 with standard deviation `sigma`. */
export class Drift {
  value = 0;
  readonly #rng: Rng;
  readonly #sigma: number;
  readonly #tauS: number;

  constructor(rng: Rng, sigma: number, tauS: number) {
    this.#rng = rng;
    this.#sigma = sigma;
    this.#tauS = tauS;
    this.value = sigma * rng.normal();
  }

  step(dtS: number): number {
    const keep = Math.exp(-dtS / this.#tauS);
    this.value = this.value * keep + this.#sigma * Math.sqrt(1 - keep * keep) * this.#rng.normal();
    return this.value;
  }
}

export interface Episode {
  /** ms since the epoch */
  start: number;
  end: number;
  /** Size of the episode (cloud depth, leak peak, visitor distance, …). */
  size: number;
}

export interface EpisodeOptions {
  /** Mean time between the end of one episode and the start of the next (s). */
  meanGapS: number;
  /** Shortest gap (s), e.g. a PIR's hold time. */
  minGapS?: number;
  durationS: readonly [number, number];
  size: readonly [number, number];
}

/**
 * Random episodes (clouds, visitors, door openings, gas leaks): arrivals at exponential gaps,
 * uniform durations and sizes, drawn lazily in time order. Queries must not go back in time.
 */
export class Episodes {
  readonly #rng: Rng;
  readonly #options: EpisodeOptions;
  #upcoming: Episode;

  constructor(rng: Rng, startMs: number, options: EpisodeOptions) {
    this.#rng = rng;
    this.#options = options;
    this.#upcoming = this.#after(startMs);
  }

  /** The episode in progress at `t`, if any. */
  at(t: number): Episode | undefined {
    while (this.#upcoming.end <= t) this.#upcoming = this.#after(this.#upcoming.end);
    return t >= this.#upcoming.start ? this.#upcoming : undefined;
  }

  #after(t: number): Episode {
    const { meanGapS, minGapS = 0, durationS, size } = this.#options;
    const start = t + Math.round((minGapS + this.#rng.exponential(meanGapS)) * 1000);
    const end = start + Math.round(this.#rng.uniform(durationS[0], durationS[1]) * 1000);
    return { start, end, size: this.#rng.uniform(size[0], size[1]) };
  }
}
