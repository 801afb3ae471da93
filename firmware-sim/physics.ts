/**
 * The physical world of a simulated kit: the parts students wire (DHT22, LDR, soil probe,
 * HC-SR04, PIR, MQ-2), the room or greenhouse they measure, and the actuators acting on it.
 *
 * Everything is deterministic given a seed, and independent of how often it is read:
 * - the environment advances on a fixed grid of `TICK_MS` from the kit's start, drawing its
 *   randomness (drift, clouds, visitors, doors, leaks) from seeded streams in time order;
 * - sensor noise is a function of (seed, sensor, instant), so an extra read never shifts the
 *   random numbers of later reads.
 * Actuators act through first-order lags (`firstOrder`), so "fan on" is visible within ~30 s.
 */

// ---------------------------------------------------------------------------------------------
// Seeded randomness (no Math.random anywhere in the simulator)

/** mulberry32: a tiny 32-bit PRNG; returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string (32 bits). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Combines numbers into one 32-bit seed (murmur3-style); numbers beyond 32 bits are split. */
export function mixSeed(...parts: number[]): number {
  let hash = 0x9747b28c;
  const add = (word: number) => {
    let k = Math.imul(word >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    hash ^= k;
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
  };
  for (const part of parts) {
    const whole = Math.round(part);
    add(whole % 4294967296);
    add(Math.floor(whole / 4294967296));
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A uniform number in [0, 1) that depends only on (seed, key, t, n): no stream is consumed. */
export function keyedRandom(seed: number, key: string, t: number, n = 0): number {
  return mulberry32(mixSeed(seed, hashString(key), t, n))();
}

/** A seeded random stream with the distributions the physics needs. */
export class Rng {
  readonly #next: () => number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#next();
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.#next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.#spare !== undefined) {
      const spare = this.#spare;
      this.#spare = undefined;
      return spare;
    }
    const u = 1 - this.#next();
    const v = this.#next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Exponentially distributed with this mean (gaps between random arrivals). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.#next());
  }

  chance(probability: number): boolean {
    return this.#next() < probability;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Rounds to the sensor's resolution (0.1, 1, …) without binary noise such as 23.400000000000002. */
export function roundTo(value: number, resolution: number): number {
  const decimals = Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9));
  return Number((Math.round(value / resolution) * resolution).toFixed(decimals));
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** One step of a first-order lag: `value` moves towards `target` with time constant `tauS`. */
export function firstOrder(value: number, target: number, dtS: number, tauS: number): number {
  return target + (value - target) * Math.exp(-dtS / tauS);
}

/** A symmetric spread in [−half, +half] from a uniform number in [0, 1). */
function spread(uniform: number, half: number): number {
  return (2 * uniform - 1) * half;
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

// ---------------------------------------------------------------------------------------------
// The parts students wire

/**
 * DHT22 / AM2302 temperature and humidity: ±0.2 °C and ±1 %RH, 0.1 resolution, at most one
 * read every 2 s — asked sooner, it returns the previous reading, as the Adafruit library does.
 */
export class Dht22 {
  static readonly MIN_INTERVAL_MS = 2_000;
  readonly #seed: number;
  #last: { at: number; temperature: number; humidity: number } | undefined;

  constructor(seed: number) {
    this.#seed = seed;
  }

  read(now: number, temperature: number, humidity: number): { temperature: number; humidity: number } {
    const last = this.#last;
    if (last && now - last.at < Dht22.MIN_INTERVAL_MS) {
      return { temperature: last.temperature, humidity: last.humidity };
    }
    const reading = {
      temperature: roundTo(
        clamp(temperature + spread(keyedRandom(this.#seed, 'dht22.t', now), 0.2), -40, 80),
        0.1,
      ),
      humidity: roundTo(clamp(humidity + spread(keyedRandom(this.#seed, 'dht22.h', now), 1), 0, 100), 0.1),
    };
    this.#last = { at: now, ...reading };
    return { ...reading };
  }
}

/** LDR on an analog pin, converted to lux: ±3 % noise, 1 lx resolution. */
export function readLdr(seed: number, now: number, lux: number): number {
  return roundTo(Math.max(0, lux * (1 + spread(keyedRandom(seed, 'ldr', now), 0.03))), 1);
}

/** Capacitive soil moisture probe, mapped to %: ±0.5 % noise, 0.1 resolution. */
export function readSoil(seed: number, now: number, moisture: number): number {
  return roundTo(clamp(moisture + spread(keyedRandom(seed, 'soil', now), 0.5), 0, 100), 0.1);
}

/** HC-SR04 ultrasonic distance: 2–400 cm, ±0.3 cm; a missed echo reads 0 (or 400 when the sketch clamps a timeout). */
export const HCSR04_MISS_PROBABILITY = 0.03;

export function readHcSr04(seed: number, now: number, distanceCm: number): number {
  const miss = keyedRandom(seed, 'hcsr04.miss', now);
  if (miss < HCSR04_MISS_PROBABILITY) return miss < HCSR04_MISS_PROBABILITY * 0.7 ? 0 : 400;
  if (distanceCm > 400) return 0;
  return roundTo(clamp(distanceCm + spread(keyedRandom(seed, 'hcsr04', now), 0.3), 2, 400), 0.1);
}

/** MQ-2 gas sensor: reads high after power-on and settles over minutes; ±3 % noise, 1 ppm resolution. */
export const MQ2_WARMUP_PPM = 180;
export const MQ2_WARMUP_TAU_S = 90;

export function readMq2(seed: number, now: number, ppm: number, poweredSinceMs: number): number {
  const warmup = MQ2_WARMUP_PPM * Math.exp(-Math.max(0, now - poweredSinceMs) / 1000 / MQ2_WARMUP_TAU_S);
  return roundTo(Math.max(0, (ppm + warmup) * (1 + spread(keyedRandom(seed, 'mq2', now), 0.03))), 1);
}

/** HC-SR501 PIR: output stays 1 for this long after the last movement. */
export const PIR_HOLD_S = 3;

// ---------------------------------------------------------------------------------------------
// Profiles: which sensors and actuators a kit has, and the alarm a correct sketch raises

export interface SensorInfo {
  name: string;
  /** The part; sensors of one part fail together when it is unplugged (DHT22: temperature and humidity). */
  part: string;
  resolution: number;
  /** What a sketch that fabricates data hard-codes (the "constant" fault), and the centre of a "pattern". */
  nominal: number;
  /** Half the peak-to-peak of a fabricated "pattern". */
  swing: number;
  /** Default spike size of the "noise" fault, in the sensor's unit. */
  spike: number;
  /** 0/1 sensors (PIR). */
  binary?: boolean;
}

export interface AlarmRule {
  /** The reading watched. */
  sensor: string;
  /** The alarm is raised when the reading goes above this … */
  above: number;
  /** … and cleared when it falls below this (hysteresis). */
  clearBelow: number;
  /** Switched on with the alarm and off when it clears. */
  actuators: readonly string[];
  /** Event name: `{"event": "alarm", "value": 1}` when raised, `value: 0` when cleared. */
  event: string;
}

export interface Profile {
  name: string;
  description: string;
  sensors: readonly SensorInfo[];
  actuators: readonly string[];
  /** Actuator states at power-on. */
  initialActuators: Readonly<Record<string, number>>;
  alarm?: AlarmRule;
  /** Events the environment raises besides the alarm (e.g. "door"). */
  events: readonly string[];
  /** What the fan does (for grading): temperature falls by about `coolingC` with time constant `tauS`. */
  fan?: { coolingC: number; tauS: number };
}

const DHT = (nominalT: number, nominalH: number): SensorInfo[] => [
  { name: 'temperature', part: 'DHT22', resolution: 0.1, nominal: nominalT, swing: 3, spike: 15 },
  { name: 'humidity', part: 'DHT22', resolution: 0.1, nominal: nominalH, swing: 10, spike: 30 },
];

/** Fan on: temperature falls by this much (°C) with this time constant (s). */
export const GREENHOUSE_FAN = { coolingC: 5, tauS: 15 } as const;
export const COLD_CHAIN_FAN = { coolingC: 2, tauS: 25 } as const;
export const AIR_QUALITY_FAN = { coolingC: 3, tauS: 20 } as const;

export const PROFILES: Readonly<Record<string, Profile>> = {
  greenhouse: {
    name: 'greenhouse',
    description: 'DHT22, LDR and soil probe in a greenhouse; fan cools (≈5 °C, τ 15 s), pump waters the soil',
    sensors: [
      ...DHT(25, 60),
      { name: 'light', part: 'LDR', resolution: 1, nominal: 800, swing: 300, spike: 5000 },
      { name: 'soil_moisture', part: 'soil probe', resolution: 0.1, nominal: 45, swing: 10, spike: 30 },
    ],
    actuators: ['fan', 'pump'],
    initialActuators: { fan: 0, pump: 0 },
    events: [],
    fan: GREENHOUSE_FAN,
  },
  'cold-chain': {
    name: 'cold-chain',
    description:
      'DHT22 in a cold room (3 °C); door openings warm it; alarm and buzzer above 8 °C (cleared below 7 °C)',
    sensors: DHT(4, 80),
    actuators: ['compressor', 'fan', 'buzzer'],
    initialActuators: { compressor: 1, fan: 0, buzzer: 0 },
    alarm: { sensor: 'temperature', above: 8, clearBelow: 7, actuators: ['buzzer'], event: 'alarm' },
    events: ['door'],
    fan: COLD_CHAIN_FAN,
  },
  security: {
    name: 'security',
    description: 'PIR, HC-SR04 across a doorway and LDR; alarm with buzzer and LED while the PIR sees motion',
    sensors: [
      { name: 'motion', part: 'PIR', resolution: 1, nominal: 0, swing: 1, spike: 1, binary: true },
      { name: 'distance', part: 'HC-SR04', resolution: 0.1, nominal: 200, swing: 50, spike: 150 },
      { name: 'light', part: 'LDR', resolution: 1, nominal: 300, swing: 100, spike: 2000 },
    ],
    actuators: ['buzzer', 'led'],
    initialActuators: { buzzer: 0, led: 0 },
    alarm: { sensor: 'motion', above: 0.5, clearBelow: 0.5, actuators: ['buzzer', 'led'], event: 'alarm' },
    events: [],
  },
  'air-quality': {
    name: 'air-quality',
    description: 'MQ-2 and DHT22 in a room with occasional gas leaks; alarm and buzzer above 400 ppm',
    sensors: [
      { name: 'gas', part: 'MQ-2', resolution: 1, nominal: 150, swing: 50, spike: 800 },
      ...DHT(24, 50),
    ],
    actuators: ['fan', 'buzzer'],
    initialActuators: { fan: 0, buzzer: 0 },
    alarm: { sensor: 'gas', above: 400, clearBelow: 300, actuators: ['buzzer'], event: 'alarm' },
    events: [],
    fan: AIR_QUALITY_FAN,
  },
};

export const PROFILE_NAMES: readonly string[] = Object.keys(PROFILES);

export function getProfile(name: string): Profile | undefined {
  return Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Environments

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

abstract class BaseEnvironment implements Environment {
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

/**
 * Greenhouse: air warms with the daily wave and the sun (clouds shade it), drifts slowly; the fan
 * pulls the temperature ≈5 °C below ambient (τ 15 s) and the humidity 6 %RH down; the soil dries
 * (faster in sunshine) and the pump wets it towards 97 % (τ 60 s).
 */
class GreenhouseEnvironment extends BaseEnvironment {
  readonly #dht: Dht22;
  readonly #baseT: number;
  readonly #baseRh: number;
  readonly #peakLux: number;
  readonly #dryPerS: number;
  readonly #driftT: Drift;
  readonly #driftRh: Drift;
  #clouds!: Episodes;
  #cloud = 0;
  #temperature = 0;
  #humidity = 0;
  #soil: number;
  #light = 0;

  constructor(profile: Profile, seed: number, options: EnvironmentOptions) {
    super(profile, seed, options);
    const rng = this.stream('params');
    this.#dht = new Dht22(this.seed);
    this.#baseT = rng.uniform(21, 23);
    this.#baseRh = rng.uniform(62, 68);
    this.#peakLux = rng.uniform(25_000, 35_000);
    this.#dryPerS = rng.uniform(3, 6) / 3600;
    this.#soil = rng.uniform(35, 60);
    this.#driftT = new Drift(this.stream('drift.t'), 0.6, 1200);
    this.#driftRh = new Drift(this.stream('drift.rh'), 2, 1200);
  }

  #sun(t: number): number {
    return daylight(t, this.offset) * (1 - this.#cloud);
  }

  #ambientT(t: number): number {
    return this.#baseT + 3 * dailyWave(t, this.offset) + 4 * this.#sun(t) + this.#driftT.value;
  }

  #ambientRh(t: number): number {
    return clamp(this.#baseRh - 2 * (this.#ambientT(t) - this.#baseT) + this.#driftRh.value, 20, 98);
  }

  protected init(now: number): void {
    this.#clouds = new Episodes(this.stream('clouds'), now, {
      meanGapS: 240,
      durationS: [60, 400],
      size: [0.3, 0.8],
    });
    this.#cloud = this.#clouds.at(now)?.size ?? 0;
    this.#temperature = this.#ambientT(now) - (this.on('fan') ? GREENHOUSE_FAN.coolingC : 0);
    this.#humidity = this.#ambientRh(now);
    this.#light = this.#peakLux * this.#sun(now);
  }

  protected tick(t: number, dtS: number): void {
    this.#driftT.step(dtS);
    this.#driftRh.step(dtS);
    this.#cloud = firstOrder(this.#cloud, this.#clouds.at(t)?.size ?? 0, dtS, 30);
    const fan = this.on('fan');
    const pump = this.on('pump');
    this.#temperature = firstOrder(
      this.#temperature,
      this.#ambientT(t) - (fan ? GREENHOUSE_FAN.coolingC : 0),
      dtS,
      GREENHOUSE_FAN.tauS,
    );
    this.#humidity = firstOrder(this.#humidity, this.#ambientRh(t) - (fan ? 6 : 0), dtS, 20);
    const sun = this.#sun(t);
    this.#light = this.#peakLux * sun;
    let soil = this.#soil - this.#dryPerS * (0.5 + sun) * dtS;
    if (pump) soil = firstOrder(soil, 97, dtS, 60);
    this.#soil = clamp(soil, 0, 100);
  }

  protected measure(now: number): Record<string, number> {
    const dht = this.#dht.read(now, this.#temperature, this.#humidity);
    return {
      temperature: dht.temperature,
      humidity: dht.humidity,
      light: readLdr(this.seed, now, this.#light),
      soil_moisture: readSoil(this.seed, now, this.#soil),
    };
  }

  truth(): Record<string, number> {
    return {
      temperature: this.#temperature,
      humidity: this.#humidity,
      light: this.#light,
      soil_moisture: this.#soil,
    };
  }
}

/**
 * Cold room: the compressor holds ≈3 °C (τ 60 s, 25 s with the fan, which also lowers it 2 °C);
 * switched off, the room warms towards the corridor's ≈24 °C (τ 400 s, so 8 °C is crossed after
 * about 1.5 min). Doors open every few minutes for 5–60 s: warm air comes in (τ 60 s), so only
 * a door left open for most of a minute crosses 8 °C.
 */
class ColdChainEnvironment extends BaseEnvironment {
  readonly #dht: Dht22;
  readonly #setpoint: number;
  readonly #roomT: number;
  readonly #insideRh: number;
  #doors!: Episodes;
  #doorOpen = false;
  #temperature = 0;
  #humidity = 0;

  constructor(profile: Profile, seed: number, options: EnvironmentOptions) {
    super(profile, seed, options);
    const rng = this.stream('params');
    this.#dht = new Dht22(this.seed);
    this.#setpoint = rng.uniform(2.5, 3.5);
    this.#roomT = rng.uniform(22, 26);
    this.#insideRh = rng.uniform(75, 85);
  }

  #room(t: number): number {
    return this.#roomT + 2 * dailyWave(t, this.offset);
  }

  #targetT(t: number): number {
    const fan = this.on('fan');
    const cold = this.#setpoint - (fan ? COLD_CHAIN_FAN.coolingC : 0);
    const closed = this.on('compressor') ? cold : this.#room(t);
    return this.#doorOpen ? closed + 0.4 * (this.#room(t) - closed) : closed;
  }

  protected init(now: number): void {
    this.#doors = new Episodes(this.stream('doors'), now, {
      meanGapS: 300,
      minGapS: 10,
      durationS: [5, 60],
      size: [0, 1],
    });
    this.#doorOpen = this.#doors.at(now) !== undefined;
    this.#temperature = this.#targetT(now);
    this.#humidity = this.#insideRh;
  }

  protected tick(t: number, dtS: number): void {
    const open = this.#doors.at(t) !== undefined;
    if (open !== this.#doorOpen) {
      this.#doorOpen = open;
      this.pending.push({ event: 'door', value: open ? 1 : 0 });
    }
    const compressor = this.on('compressor');
    const fan = this.on('fan');
    const tau = open ? 60 : compressor ? (fan ? COLD_CHAIN_FAN.tauS : 60) : 400;
    this.#temperature = firstOrder(this.#temperature, this.#targetT(t), dtS, tau);
    const rhTarget = (open ? this.#insideRh + 0.5 * (50 - this.#insideRh) : this.#insideRh) - (fan ? 5 : 0);
    this.#humidity = firstOrder(this.#humidity, rhTarget, dtS, 30);
  }

  protected measure(now: number): Record<string, number> {
    return this.#dht.read(now, this.#temperature, this.#humidity);
  }

  truth(): Record<string, number> {
    return { temperature: this.#temperature, humidity: this.#humidity, door: this.#doorOpen ? 1 : 0 };
  }
}

/**
 * Doorway: people pass about once a minute and stay 2–12 s at 40–160 cm; the PIR holds 1 for
 * 3 s after they leave; otherwise the HC-SR04 sees the far wall. Light from a window by day.
 */
class SecurityEnvironment extends BaseEnvironment {
  readonly #wall: number;
  readonly #peakLux: number;
  #visitors!: Episodes;
  #motion = 0;
  #distance = 0;
  #light = 0;
  #lastVisitEnd = Number.NEGATIVE_INFINITY;

  constructor(profile: Profile, seed: number, options: EnvironmentOptions) {
    super(profile, seed, options);
    const rng = this.stream('params');
    this.#wall = rng.uniform(180, 320);
    this.#peakLux = rng.uniform(400, 900);
  }

  #update(t: number): void {
    const visitor = this.#visitors.at(t);
    if (visitor) this.#lastVisitEnd = visitor.end;
    this.#motion = visitor || t < this.#lastVisitEnd + PIR_HOLD_S * 1000 ? 1 : 0;
    this.#distance = visitor ? visitor.size + 10 * Math.sin((t - visitor.start) / 700) : this.#wall;
    this.#light = 5 + this.#peakLux * daylight(t, this.offset);
  }

  protected init(now: number): void {
    this.#visitors = new Episodes(this.stream('visitors'), now, {
      meanGapS: 55,
      minGapS: PIR_HOLD_S + 2,
      durationS: [2, 12],
      size: [40, 160],
    });
    this.#update(now);
  }

  protected tick(t: number): void {
    this.#update(t);
  }

  protected measure(now: number): Record<string, number> {
    return {
      motion: this.#motion,
      distance: readHcSr04(this.seed, now, this.#distance),
      light: readLdr(this.seed, now, this.#light),
    };
  }

  truth(): Record<string, number> {
    return { motion: this.#motion, distance: this.#distance, light: this.#light };
  }
}

/**
 * Room with a gas outlet: ≈120 ppm of background; every few minutes a leak (600–2000 ppm,
 * rising with τ 8 s) lasts 15–60 s, then the gas clears (τ 40 s, 8 s with the fan). The fan
 * also cools the room ≈3 °C (τ 20 s).
 */
class AirQualityEnvironment extends BaseEnvironment {
  readonly #dht: Dht22;
  readonly #background: number;
  readonly #baseT: number;
  readonly #baseRh: number;
  readonly #driftT: Drift;
  #leaks!: Episodes;
  #gas = 0;
  #temperature = 0;
  #humidity = 0;

  constructor(profile: Profile, seed: number, options: EnvironmentOptions) {
    super(profile, seed, options);
    const rng = this.stream('params');
    this.#dht = new Dht22(this.seed);
    this.#background = rng.uniform(100, 140);
    this.#baseT = rng.uniform(22, 25);
    this.#baseRh = rng.uniform(45, 55);
    this.#driftT = new Drift(this.stream('drift.t'), 0.4, 1200);
  }

  #ambientT(t: number): number {
    return this.#baseT + 1.5 * dailyWave(t, this.offset) + this.#driftT.value;
  }

  protected init(now: number): void {
    this.#leaks = new Episodes(this.stream('leaks'), now, {
      meanGapS: 150,
      durationS: [15, 60],
      size: [600, 2000],
    });
    this.#gas = this.#background;
    this.#temperature = this.#ambientT(now);
    this.#humidity = this.#baseRh;
  }

  protected tick(t: number, dtS: number): void {
    this.#driftT.step(dtS);
    const fan = this.on('fan');
    const leak = this.#leaks.at(t);
    this.#gas = leak
      ? firstOrder(this.#gas, leak.size, dtS, 8)
      : firstOrder(this.#gas, this.#background, dtS, fan ? 8 : 40);
    this.#temperature = firstOrder(
      this.#temperature,
      this.#ambientT(t) - (fan ? AIR_QUALITY_FAN.coolingC : 0),
      dtS,
      AIR_QUALITY_FAN.tauS,
    );
    this.#humidity = firstOrder(this.#humidity, this.#baseRh - (fan ? 4 : 0), dtS, 20);
  }

  protected measure(now: number): Record<string, number> {
    const dht = this.#dht.read(now, this.#temperature, this.#humidity);
    return {
      gas: readMq2(this.seed, now, this.#gas, this.startedAt ?? now),
      temperature: dht.temperature,
      humidity: dht.humidity,
    };
  }

  truth(): Record<string, number> {
    return { gas: this.#gas, temperature: this.#temperature, humidity: this.#humidity };
  }
}

const ENVIRONMENTS: Record<
  string,
  new (
    profile: Profile,
    seed: number,
    options: EnvironmentOptions,
  ) => BaseEnvironment
> = {
  greenhouse: GreenhouseEnvironment,
  'cold-chain': ColdChainEnvironment,
  security: SecurityEnvironment,
  'air-quality': AirQualityEnvironment,
};

/** The environment of a profile; the kit is powered on at the first `read`. */
export function createEnvironment(
  profile: string,
  seed: number,
  options: EnvironmentOptions = {},
): Environment {
  const info = getProfile(profile);
  const Kind = ENVIRONMENTS[profile];
  if (!info || !Kind) {
    throw new Error(`unknown profile "${profile}" (known: ${PROFILE_NAMES.join(', ')})`);
  }
  return new Kind(info, seed, options);
}
