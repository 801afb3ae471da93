/**
 * The environment model: the world around one kit, advanced on a fixed grid of `TICK_MS` from the
 * kit's start (the first read), so what it does never depends on how often it is read. Each
 * family of kits (greenhouse.ts, …) fills in how its room starts, moves and is measured.
 */
import { Dht22 } from './parts.ts';
import { DEFAULT_UTC_OFFSET_MINUTES } from './processes.ts';
import type { Profile } from './profile.ts';
import { hashString, mixSeed, Rng } from './random.ts';

/** The grid the environment advances on (ms). */
export const TICK_MS = 250;
/** A longer gap between reads is skipped (the state is kept, the time jumps). */
const MAX_CATCH_UP_MS = 6 * 3_600_000;

export interface EnvironmentEvent {
  event: string;
  value?: number;
}

export interface EnvironmentOptions {
  /** The lab's wall clock (default China Standard Time, +480). */
  utcOffsetMinutes?: number;
}

/** The world around one kit. */
export interface Environment {
  readonly profile: Profile;
  /** When the kit was powered on (the first `read`), or undefined before. */
  readonly startedAt: number | undefined;
  /** Advances the physics to `now` (ms since the epoch) and reads every sensor as its part would. */
  read(now: number): Record<string, number>;
  /** The true physical quantities (no sensor noise) at the last advance. */
  truth(): Record<string, number>;
  setActuator(name: string, value: number): void;
  actuators(): Record<string, number>;
  /** Events the environment raised (door opened/closed) since the last call, in order. */
  takeEvents(): EnvironmentEvent[];
}

/** The tick grid, the actuators' states and the events every environment has. */
export abstract class BaseEnvironment implements Environment {
  readonly profile: Profile;
  protected readonly seed: number;
  protected readonly offset: number;
  protected readonly states: Record<string, number>;
  protected readonly pending: EnvironmentEvent[] = [];
  #startedAt: number | undefined;
  /** Time of the last tick (ms). */
  protected t = 0;

  constructor(profile: Profile, seed: number, options: EnvironmentOptions) {
    this.profile = profile;
    this.seed = mixSeed(seed, hashString(profile.name));
    this.offset = options.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES;
    this.states = { ...profile.initialActuators };
  }

  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  /** A random stream of its own for each process, so one never disturbs another. */
  protected stream(name: string): Rng {
    return new Rng(mixSeed(this.seed, hashString(name)));
  }

  read(now: number): Record<string, number> {
    this.advance(now);
    return this.measure(now);
  }

  advance(now: number): void {
    if (this.#startedAt === undefined) {
      this.#startedAt = now;
      this.t = now;
      this.init(now);
      return;
    }
    if (now - this.t > MAX_CATCH_UP_MS) this.t = now - MAX_CATCH_UP_MS;
    while (this.t + TICK_MS <= now) {
      this.t += TICK_MS;
      this.tick(this.t, TICK_MS / 1000);
    }
  }

  setActuator(name: string, value: number): void {
    if (this.profile.actuators.includes(name)) this.states[name] = value;
  }

  actuators(): Record<string, number> {
    const states: Record<string, number> = {};
    for (const name of this.profile.actuators) states[name] = this.states[name] ?? 0;
    return states;
  }

  protected on(name: string): boolean {
    return (this.states[name] ?? 0) !== 0;
  }

  takeEvents(): EnvironmentEvent[] {
    return this.pending.splice(0);
  }

  protected abstract init(now: number): void;
  protected abstract tick(t: number, dtS: number): void;
  protected abstract measure(now: number): Record<string, number>;
  abstract truth(): Record<string, number>;
}

/** An environment whose air a DHT22 measures: `temperature` (°C) and `humidity` (%RH). */
export abstract class DhtEnvironment extends BaseEnvironment {
  readonly #dht: Dht22;
  protected temperature = 0;
  protected humidity = 0;

  constructor(profile: Profile, seed: number, options: EnvironmentOptions) {
    super(profile, seed, options);
    this.#dht = new Dht22(this.seed);
  }

  /** The DHT22's reading of the air now (its previous one when asked within 2 s). */
  protected readDht(now: number): { temperature: number; humidity: number } {
    return this.#dht.read(now, this.temperature, this.humidity);
  }
}

/** How a family's environment is made (see profiles.ts). */
export type EnvironmentClass = new (
  profile: Profile,
  seed: number,
  options: EnvironmentOptions,
) => BaseEnvironment;
