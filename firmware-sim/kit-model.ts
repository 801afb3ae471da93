import type { KitCommand } from '../protocol/index.ts';
import type { FaultSpec, FaultType, KitModel, SimKitKind, SimKitSpec, TransportState } from './model.ts';
import {
  createEnvironment,
  type Environment,
  type EnvironmentOptions,
  getProfile,
  hashString,
  keyedRandom,
  mixSeed,
  type Profile,
  roundTo,
  type SensorInfo,
} from './physics/index.ts';

/**
 * One simulated kit: its environment (physics/), the firmware a correct student would write
 * (alarm on threshold, actuators on command) and the faults of its spec (model.ts).
 *
 * What a sample goes through:
 * 1. the parts read the environment (DHT22 at most every 2 s, noise, echo misses, …);
 * 2. hardware faults change what the firmware sees: unplugged, swapped, noise, frozen;
 * 3. the firmware raises or clears its alarm from what it sees (unless `no-alarm`);
 * 4. fabrication faults replace what is sent: constant, pattern, replay, clone.
 * Faults draw their randomness from streams of their own, so outside its window a faulty kit
 * reports exactly what the same kit without the fault reports. Transport faults (clock-skew,
 * wifi-drop, serial-garbage, slow-sampling) only change `transport()`.
 *
 * The kit starts at the first `sample`, `events` or `transport` call; fault windows are
 * [at, at + duration) seconds after that.
 */

export const FAULT_TYPES: readonly FaultType[] = [
  'unplugged',
  'swapped',
  'noise',
  'frozen',
  'clock-skew',
  'wifi-drop',
  'serial-garbage',
  'constant',
  'pattern',
  'replay',
  'clone',
  'slow-sampling',
  'no-alarm',
];

/** Fields each fault type takes besides `type`, `at` and `duration`. */
const FAULT_FIELDS: Readonly<Record<FaultType, readonly string[]>> = {
  unplugged: ['sensor', 'reports'],
  swapped: ['sensors'],
  noise: ['sensor', 'amplitude'],
  frozen: ['sensor'],
  'clock-skew': ['skewSeconds'],
  'wifi-drop': [],
  'serial-garbage': [],
  constant: [],
  pattern: [],
  replay: ['replayFromSeconds'],
  clone: ['of'],
  'slow-sampling': ['intervalMs'],
  'no-alarm': [],
};

/** Faults that only exist on some kinds of kit. */
const FAULT_KINDS: Readonly<Partial<Record<FaultType, readonly SimKitKind[]>>> = {
  'clock-skew': ['esp32'],
  'wifi-drop': ['esp32'],
  'serial-garbage': ['arduino', 'firmata'],
};

const FAULT_KIND_REASON: Readonly<Partial<Record<FaultType, string>>> = {
  'clock-skew': 'only ESP32 kits keep a clock and send ts',
  'wifi-drop': 'only ESP32 kits use Wi-Fi',
  'serial-garbage': 'only USB serial kits (arduino, firmata) have a serial line',
};

/** Period of the fabricated `pattern` (ms). */
export const PATTERN_PERIOD_MS = 20_000;
/** What an unplugged DS18B20-style sensor reports. */
export const UNPLUGGED_MINUS_127 = -127;

export interface FaultProblem {
  /** The fault's field at fault ("type", "sensor", "of", …), or "" for the fault as a whole. */
  field: string;
  message: string;
}

type KitInfo = Pick<SimKitSpec, 'id' | 'kind' | 'profile' | 'intervalMs'>;

const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/**
 * What is wrong with one fault of `kit`; empty when nothing is. With `kits` (every kit of the
 * scenario) a clone's source is checked too.
 */
export function faultProblems(
  fault: unknown,
  kit: KitInfo,
  kits?: ReadonlyMap<string, Pick<SimKitSpec, 'id' | 'profile' | 'faults'>>,
): FaultProblem[] {
  const problems: FaultProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (typeof fault !== 'object' || fault === null || Array.isArray(fault)) {
    problem('', 'a fault must be an object like {"type": "unplugged", "at": 2, "sensor": "temperature"}');
    return problems;
  }
  const body = fault as Record<string, unknown>;
  const type = body.type;
  if (typeof type !== 'string' || !(FAULT_TYPES as readonly string[]).includes(type)) {
    problem('type', `unknown fault type ${JSON.stringify(type)} (known: ${FAULT_TYPES.join(', ')})`);
    return problems;
  }
  const faultType = type as FaultType;
  const profile = getProfile(kit.profile);
  const sensorNames = profile?.sensors.map((sensor) => sensor.name) ?? [];
  const checkSensor = (field: string, name: unknown) => {
    if (typeof name !== 'string') problem(field, `${faultType} needs a sensor name`);
    else if (profile && !sensorNames.includes(name)) {
      problem(
        field,
        `kit ${kit.id} (profile ${kit.profile}) has no sensor "${name}" (its sensors: ${sensorNames.join(', ')})`,
      );
    }
  };

  const allowed = new Set(['type', 'at', 'duration', ...FAULT_FIELDS[faultType]]);
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) {
      problem(key, `"${key}" is not used by a ${faultType} fault (its fields: ${[...allowed].join(', ')})`);
    }
  }
  if (!isFiniteNumber(body.at) || body.at < 0) problem('at', 'at must be a number of seconds ≥ 0');
  if (body.duration !== undefined && (!isFiniteNumber(body.duration) || body.duration <= 0)) {
    problem('duration', 'duration must be a number of seconds > 0 (leave it out for "until the end")');
  }
  const kinds = FAULT_KINDS[faultType];
  if (kinds && !kinds.includes(kit.kind)) {
    problem(
      'type',
      `${faultType} cannot happen on ${kit.kind} kit ${kit.id}: ${FAULT_KIND_REASON[faultType]}`,
    );
  }

  switch (faultType) {
    case 'unplugged':
      checkSensor('sensor', body.sensor);
      if (body.reports !== undefined && !['nan', 'minus127', 'stuck'].includes(body.reports as string)) {
        problem('reports', 'reports must be "nan", "minus127" or "stuck"');
      }
      break;
    case 'noise':
      checkSensor('sensor', body.sensor);
      if (body.amplitude !== undefined && (!isFiniteNumber(body.amplitude) || body.amplitude <= 0)) {
        problem('amplitude', "amplitude must be a number > 0, in the sensor's unit");
      }
      break;
    case 'frozen':
      checkSensor('sensor', body.sensor);
      break;
    case 'swapped': {
      const pair = body.sensors;
      if (!Array.isArray(pair) || pair.length !== 2) {
        problem('sensors', 'swapped needs "sensors": two sensor names, e.g. ["light", "soil_moisture"]');
      } else {
        checkSensor('sensors', pair[0]);
        checkSensor('sensors', pair[1]);
        if (pair[0] === pair[1]) problem('sensors', 'swapped needs two different sensors');
      }
      break;
    }
    case 'clock-skew':
      if (!isFiniteNumber(body.skewSeconds) || body.skewSeconds === 0) {
        problem('skewSeconds', 'clock-skew needs "skewSeconds": a number ≠ 0 (positive = kit clock ahead)');
      }
      break;
    case 'replay': {
      const from = body.replayFromSeconds ?? 0;
      if (!isFiniteNumber(from) || from < 0) {
        problem('replayFromSeconds', 'replayFromSeconds must be a number of seconds ≥ 0');
      } else if (isFiniteNumber(body.at) && from >= body.at) {
        problem(
          'replayFromSeconds',
          `replayFromSeconds (${from}) must be before the fault starts (at ${body.at}): a kit can only resend what it sent earlier`,
        );
      }
      break;
    }
    case 'clone': {
      const of = body.of;
      if (typeof of !== 'string' || of === '') {
        problem('of', 'clone needs "of": the id of the kit whose stream is copied');
        break;
      }
      if (of === kit.id) {
        problem('of', `kit ${kit.id} cannot clone itself`);
        break;
      }
      if (!kits) break;
      const source = kits.get(of);
      if (!source) problem('of', `clone of unknown kit "${of}"`);
      else if (source.profile !== kit.profile) {
        problem(
          'of',
          `kit ${kit.id} (profile ${kit.profile}) cannot clone ${of} (profile ${source.profile}): a copied stream has the same sensors`,
        );
      } else if ((source.faults ?? []).some((other) => (other as { type?: unknown })?.type === 'clone')) {
        problem('of', `kit ${of} is itself a clone; clone its source instead`);
      }
      break;
    }
    case 'slow-sampling':
      if (!isFiniteNumber(body.intervalMs) || !Number.isInteger(body.intervalMs)) {
        problem('intervalMs', 'slow-sampling needs "intervalMs": the slower time between messages (ms)');
      } else if (body.intervalMs <= kit.intervalMs) {
        problem(
          'intervalMs',
          `slow-sampling intervalMs (${body.intervalMs}) must be longer than the kit's intervalMs (${kit.intervalMs})`,
        );
      }
      break;
    case 'no-alarm':
      if (profile && !profile.alarm) {
        problem('type', `no-alarm needs a profile with an alarm; ${kit.profile} has none`);
      }
      break;
    default:
      break;
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

export interface KitModelOptions extends EnvironmentOptions {}

interface FaultState {
  readonly spec: FaultSpec;
  /** Seed of the fault's own random numbers. */
  readonly seed: number;
  /** Values held by frozen / unplugged-stuck. */
  held?: Record<string, number | null>;
  /** Next history entry a replay sends. */
  replayIndex?: number;
  /** Whether the noise fault has spiked yet. */
  spiked?: boolean;
}

interface HistoryEntry {
  /** ms since the kit started */
  at: number;
  readings: Record<string, number | null>;
  actuators: Record<string, number>;
}

type Readings = Record<string, number | null>;

/** Turns a command value into an actuator state: 1/0/true/false/"on"/"off" (servo: an angle). */
export function commandValue(actuator: string, value: KitCommand['value']): number | undefined {
  const servo = actuator === 'servo';
  if (typeof value === 'boolean') return servo ? (value ? 180 : 0) : value ? 1 : 0;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return servo ? Math.round(Math.min(180, Math.max(0, value))) : value !== 0 ? 1 : 0;
  }
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (['on', 'true', 'high', 'open'].includes(text)) return servo ? 180 : 1;
    if (['off', 'false', 'low', 'close', 'closed'].includes(text)) return 0;
    const number = Number(text);
    if (text !== '' && Number.isFinite(number)) return commandValue(actuator, number);
  }
  return undefined;
}

class SimKitModel implements KitModel {
  readonly spec: SimKitSpec;
  readonly sensors: readonly string[];
  readonly #profile: Profile;
  readonly #info: ReadonlyMap<string, SensorInfo>;
  readonly #env: Environment;
  readonly #peers: ((kitId: string) => KitModel | undefined) | undefined;
  readonly #faults: FaultState[];
  readonly #replayFromMs: number | undefined;
  #startedAt: number | undefined;
  #stepped: { now: number; view: Readings } | undefined;
  #sampled: { now: number; readings: Readings } | undefined;
  #previousView: Readings | undefined;
  #alarm = false;
  readonly #events: { event: string; value?: number }[] = [];
  #history: HistoryEntry[] = [];
  #recording: boolean;
  #reportedActuators: Record<string, number> | undefined;
  #cloning = false;

  constructor(
    spec: SimKitSpec,
    peers: ((kitId: string) => KitModel | undefined) | undefined,
    options: KitModelOptions,
  ) {
    const profile = getProfile(spec.profile);
    if (!profile) throw new Error(`kit ${spec.id}: unknown profile "${spec.profile}"`);
    const faults = spec.faults ?? [];
    faults.forEach((fault, index) => {
      const [first] = faultProblems(fault, spec);
      if (first) {
        throw new Error(
          `kit ${spec.id}: faults[${index}]${first.field ? `.${first.field}` : ''}: ${first.message}`,
        );
      }
    });
    if (faults.some((fault) => fault.type === 'clone') && !peers) {
      throw new Error(`kit ${spec.id} has a clone fault: createKitModel needs the peers lookup`);
    }
    this.spec = spec;
    this.#profile = profile;
    this.sensors = profile.sensors.map((sensor) => sensor.name);
    this.#info = new Map(profile.sensors.map((sensor) => [sensor.name, sensor]));
    this.#env = createEnvironment(spec.profile, spec.seed, options);
    this.#peers = peers;
    this.#faults = faults.map((fault, index) => ({
      spec: fault,
      seed: mixSeed(spec.seed, hashString(`fault:${fault.type}`), index),
    }));
    const replays = faults.filter((fault) => fault.type === 'replay');
    this.#recording = replays.length > 0;
    this.#replayFromMs =
      replays.length > 0
        ? Math.min(...replays.map((fault) => (fault.replayFromSeconds ?? 0) * 1000))
        : undefined;
  }

  #start(now: number): number {
    this.#startedAt ??= now;
    return this.#startedAt;
  }

  #active(fault: FaultSpec, now: number): boolean {
    const elapsed = now - this.#start(now);
    const from = fault.at * 1000;
    return elapsed >= from && (fault.duration === undefined || elapsed < from + fault.duration * 1000);
  }

  #activeOf(type: FaultType, now: number): FaultSpec | undefined {
    return this.#faults.find((state) => state.spec.type === type && this.#active(state.spec, now))?.spec;
  }

  /** The sensors of the part `sensor` belongs to (a DHT22 gives temperature and humidity). */
  #partSensors(sensor: string): string[] {
    const part = this.#info.get(sensor)?.part;
    return this.sensors.filter((name) => this.#info.get(name)?.part === part);
  }

  /** Steps 1–3: what the firmware sees at `now`, and its alarm. */
  #step(now: number): Readings {
    this.#start(now);
    if (this.#stepped && now <= this.#stepped.now) return this.#stepped.view;
    const hardware = this.#env.read(now);
    this.#events.push(...this.#env.takeEvents());
    const view: Readings = {};
    for (const name of this.sensors) view[name] = hardware[name] ?? null;

    for (const state of this.#faults) {
      const fault = state.spec;
      if (!this.#active(fault, now)) {
        state.held = undefined;
        continue;
      }
      switch (fault.type) {
        case 'unplugged': {
          const sensor = fault.sensor as string;
          const reports = fault.reports ?? 'nan';
          if (reports === 'minus127') {
            view[sensor] = UNPLUGGED_MINUS_127;
            break;
          }
          const affected = this.#partSensors(sensor);
          if (reports === 'stuck') {
            if (!state.held) {
              state.held = {};
              for (const name of affected) state.held[name] = (this.#previousView ?? view)[name] ?? null;
            }
            for (const name of affected) view[name] = state.held[name] ?? null;
          } else {
            for (const name of affected) view[name] = null;
          }
          break;
        }
        case 'swapped': {
          const [a, b] = fault.sensors as [string, string];
          const first = view[a] ?? null;
          view[a] = view[b] ?? null;
          view[b] = first;
          break;
        }
        case 'noise':
          this.#noise(state, view, now);
          break;
        case 'frozen': {
          const sensor = fault.sensor as string;
          state.held ??= { [sensor]: view[sensor] ?? null };
          view[sensor] = state.held[sensor] ?? null;
          break;
        }
        default:
          break;
      }
    }
    this.#runAlarm(view, now);
    this.#previousView = view;
    this.#stepped = { now, view };
    return view;
  }

  #noise(state: FaultState, view: Readings, now: number): void {
    const sensor = state.spec.sensor as string;
    const value = view[sensor];
    const info = this.#info.get(sensor);
    if (value === null || value === undefined || !info) return;
    // Bursts: one-second slots are noisy or quiet; in a noisy slot most samples spike. The first
    // sample of the window always does, so a window is never silent.
    const slot = Math.floor(now / 1000);
    const noisySlot = keyedRandom(state.seed, 'noise.slot', slot) < 0.5;
    const spike = !state.spiked || (noisySlot && keyedRandom(state.seed, 'noise.p', now) < 0.8);
    if (!spike) return;
    state.spiked = true;
    if (info.binary) {
      view[sensor] = value >= 0.5 ? 0 : 1;
      return;
    }
    const amplitude = state.spec.amplitude ?? info.spike;
    const size = amplitude * (0.6 + 0.4 * keyedRandom(state.seed, 'noise.size', now));
    const sign = keyedRandom(state.seed, 'noise.sign', now) < 0.5 ? -1 : 1;
    view[sensor] = roundTo(value + sign * size, info.resolution);
  }

  #runAlarm(view: Readings, now: number): void {
    const rule = this.#profile.alarm;
    if (!rule) return;
    if (this.#activeOf('no-alarm', now)) {
      // The broken sketch never drives its alarm: whatever was on is left off, silently.
      if (this.#alarm) {
        this.#alarm = false;
        for (const actuator of rule.actuators) this.#env.setActuator(actuator, 0);
      }
      return;
    }
    const value = view[rule.sensor];
    if (typeof value !== 'number') return;
    if (!this.#alarm && value > rule.above) {
      this.#alarm = true;
      for (const actuator of rule.actuators) this.#env.setActuator(actuator, 1);
      this.#events.push({ event: rule.event, value: 1 });
    } else if (this.#alarm && value < rule.clearBelow) {
      this.#alarm = false;
      for (const actuator of rule.actuators) this.#env.setActuator(actuator, 0);
      this.#events.push({ event: rule.event, value: 0 });
    }
  }

  sample(now: number): Record<string, number | null> {
    if (this.#sampled && now <= this.#sampled.now) return { ...this.#sampled.readings };
    let readings: Readings = { ...this.#step(now) };
    let actuators: Record<string, number> | undefined;
    const windowStart = (fault: FaultSpec) => this.#start(now) + fault.at * 1000;

    for (const state of this.#faults) {
      const fault = state.spec;
      if (!this.#active(fault, now)) continue;
      switch (fault.type) {
        case 'constant':
          for (const name of this.sensors) {
            const info = this.#info.get(name) as SensorInfo;
            readings[name] = roundTo(info.nominal, info.resolution);
          }
          break;
        case 'pattern': {
          const phase = ((((now - windowStart(fault)) / PATTERN_PERIOD_MS) % 1) + 1) % 1;
          this.sensors.forEach((name, index) => {
            const info = this.#info.get(name) as SensorInfo;
            readings[name] = info.binary
              ? phase < 0.5
                ? 1
                : 0
              : roundTo(
                  info.nominal +
                    info.swing * (index % 2 === 0 ? Math.sin(2 * Math.PI * phase) : 2 * phase - 1),
                  info.resolution,
                );
          });
          break;
        }
        case 'replay': {
          const from = (fault.replayFromSeconds ?? 0) * 1000;
          if (state.replayIndex === undefined) {
            // Nothing sent since replayFromSeconds (the kit was not sampled then): nothing to resend.
            const first = this.#history.findIndex((entry) => entry.at >= from);
            state.replayIndex = first === -1 ? Number.POSITIVE_INFINITY : first;
          }
          const entry = this.#history[state.replayIndex];
          if (entry) {
            state.replayIndex++;
            readings = { ...entry.readings };
            actuators = { ...entry.actuators };
          }
          break;
        }
        case 'clone': {
          const source = this.#peers?.(fault.of as string);
          if (!source) throw new Error(`kit ${this.spec.id} clones unknown kit "${fault.of}"`);
          if (this.#cloning) throw new Error(`kit ${this.spec.id}: clone faults form a cycle`);
          this.#cloning = true;
          try {
            readings = { ...source.sample(now) };
            actuators = { ...source.actuators() };
          } finally {
            this.#cloning = false;
          }
          break;
        }
        default:
          break;
      }
    }

    this.#record(now, readings, actuators);
    this.#reportedActuators = actuators;
    this.#sampled = { now, readings };
    return { ...readings };
  }

  /** Keeps what was sent for replay faults, from the earliest replayFromSeconds on, while one can still run. */
  #record(now: number, readings: Readings, actuators: Record<string, number> | undefined): void {
    if (!this.#recording) return;
    const elapsed = now - this.#start(now);
    const pending = this.#faults.some(
      (state) =>
        state.spec.type === 'replay' &&
        (state.spec.duration === undefined || elapsed < (state.spec.at + state.spec.duration) * 1000),
    );
    if (!pending) {
      this.#recording = false;
      this.#history = [];
      return;
    }
    if (elapsed >= (this.#replayFromMs ?? 0)) {
      this.#history.push({
        at: elapsed,
        readings: { ...readings },
        actuators: actuators ?? this.#env.actuators(),
      });
    }
  }

  events(now: number): { event: string; value?: number }[] {
    this.#step(now);
    return this.#events.splice(0);
  }

  transport(now: number): TransportState {
    this.#start(now);
    const skew = this.#activeOf('clock-skew', now);
    const slow = this.#activeOf('slow-sampling', now);
    return {
      connected: this.#activeOf('wifi-drop', now) === undefined,
      garbage: this.#activeOf('serial-garbage', now) !== undefined,
      clockSkewMs: skew ? Math.round((skew.skewSeconds ?? 0) * 1000) : 0,
      intervalMs: slow?.intervalMs ?? this.spec.intervalMs,
    };
  }

  command(command: KitCommand): void {
    if (typeof command !== 'object' || command === null || typeof command.command !== 'string') return;
    if (!this.#profile.actuators.includes(command.command)) return;
    const value = commandValue(command.command, command.value);
    if (value !== undefined) this.#env.setActuator(command.command, value);
  }

  actuators(): Record<string, number> {
    return { ...(this.#reportedActuators ?? this.#env.actuators()) };
  }
}

/**
 * The model of one kit. `peers` finds the other kits of the scenario (needed by clone faults).
 * Throws when the spec is inconsistent (unknown profile, a fault on a sensor the profile lacks, …).
 */
export function createKitModel(
  spec: SimKitSpec,
  peers?: (kitId: string) => KitModel | undefined,
  options: KitModelOptions = {},
): KitModel {
  return new SimKitModel(spec, peers, options);
}
