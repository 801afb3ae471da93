/**
 * The simulated kits' physics and faults (firmware-sim/physics/, kit-model.ts). Time is driven
 * by passing increasing `now` values: nothing here waits.
 */
import { describe, expect, it } from 'vitest';
import { createKitModel, FAULT_TYPES, PATTERN_PERIOD_MS } from '../../firmware-sim/kit-model.ts';
import type { FaultSpec, KitModel, SimKitSpec, TransportState } from '../../firmware-sim/model.ts';
import {
  createEnvironment,
  Dht22,
  daylight,
  getProfile,
  keyedRandom,
  MQ2_WARMUP_PPM,
  mulberry32,
  PROFILE_NAMES,
  PROFILES,
  Rng,
  readHcSr04,
  readMq2,
} from '../../firmware-sim/physics/index.ts';

/** 10:00 in the lab (UTC+8), a Monday morning class. */
const T0 = Date.UTC(2025, 2, 10, 2, 0, 0);

const kit = (over: Partial<SimKitSpec> = {}): SimKitSpec => ({
  id: 'k-01',
  kind: 'esp32',
  profile: 'greenhouse',
  intervalMs: 500,
  faults: [],
  seed: 42,
  ...over,
});

interface Step {
  /** ms since T0 */
  t: number;
  readings: Record<string, number | null>;
  actuators: Record<string, number>;
  events: { event: string; value?: number }[];
  transport: TransportState;
}

/** Samples a model like a transport does: sample, actuators, events, transport at each instant. */
function run(model: KitModel, fromMs: number, toMs: number, stepMs = 500, at?: (t: number) => void): Step[] {
  const steps: Step[] = [];
  for (let t = fromMs; t <= toMs; t += stepMs) {
    at?.(t);
    const now = T0 + t;
    const readings = model.sample(now);
    steps.push({
      t,
      readings,
      actuators: model.actuators(),
      events: model.events(now),
      transport: model.transport(now),
    });
  }
  return steps;
}

const inWindow = (t: number) => t >= 2_000 && t < 7_000;

/** A kit with `faults` and its twin without, sampled at the same instants for 10 s. */
function twins(over: Partial<SimKitSpec>, faults: FaultSpec[], peers?: (id: string) => KitModel | undefined) {
  const healthy = run(createKitModel(kit(over), peers), 0, 10_000);
  const faulty = run(createKitModel(kit({ ...over, faults }), peers), 0, 10_000);
  const outside = (step: Step) => !inWindow(step.t);
  return {
    healthy,
    faulty,
    /** Outside [2 s, 7 s) the faulty kit reports exactly what the healthy one does. */
    expectSameOutside(): void {
      const a = healthy.filter(outside);
      const b = faulty.filter(outside);
      expect(b.length).toBe(21 - 10);
      expect(b.map((s) => [s.readings, s.actuators, s.transport])).toEqual(
        a.map((s) => [s.readings, s.actuators, s.transport]),
      );
    },
    pairsInside(): [Step, Step][] {
      return healthy.flatMap((step, i) =>
        inWindow(step.t) ? [[step, faulty[i] as Step] as [Step, Step]] : [],
      );
    },
  };
}

describe('seeded randomness', () => {
  it('mulberry32 repeats its stream for a seed and differs between seeds', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect([c(), c(), c()]).not.toEqual(first);
    for (const value of first) expect(value >= 0 && value < 1).toBe(true);
  });

  it('keyedRandom depends only on its key and instant', () => {
    expect(keyedRandom(1, 'dht22.t', T0)).toBe(keyedRandom(1, 'dht22.t', T0));
    expect(keyedRandom(1, 'dht22.t', T0)).not.toBe(keyedRandom(1, 'dht22.t', T0 + 1));
    expect(keyedRandom(1, 'dht22.t', T0)).not.toBe(keyedRandom(1, 'dht22.h', T0));
  });

  it('Rng.normal has mean ≈ 0 and standard deviation ≈ 1', () => {
    const rng = new Rng(3);
    const values = Array.from({ length: 20_000 }, () => rng.normal());
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});

describe('determinism', () => {
  it.each(PROFILE_NAMES)('%s: the same seed gives the same readings, events and actuators', (profile) => {
    const a = run(createKitModel(kit({ profile })), 0, 600_000, 1_000);
    const b = run(createKitModel(kit({ profile })), 0, 600_000, 1_000);
    expect(b).toEqual(a);
    const c = run(createKitModel(kit({ profile, seed: 43 })), 0, 600_000, 1_000);
    expect(c.map((s) => s.readings)).not.toEqual(a.map((s) => s.readings));
  });

  it('reading more often does not change what is read at a given instant', () => {
    const often = run(createKitModel(kit()), 0, 120_000, 500);
    const seldom = run(createKitModel(kit()), 0, 120_000, 2_000);
    const common = often.filter((step) => step.t % 2_000 === 0);
    expect(seldom.map((s) => s.readings)).toEqual(common.map((s) => s.readings));
  });

  it('asking twice at the same instant gives the same sample', () => {
    const model = createKitModel(kit());
    const first = model.sample(T0);
    expect(model.sample(T0)).toEqual(first);
    expect(model.sample(T0 + 5_000)).toEqual(model.sample(T0 + 5_000));
  });
});

describe('DHT22', () => {
  it('reads at most every 2 s: asked sooner, it returns the previous reading', () => {
    const dht = new Dht22(1);
    const first = dht.read(T0, 20, 50);
    expect(dht.read(T0 + 500, 30, 80)).toEqual(first);
    expect(dht.read(T0 + 1_999, 30, 80)).toEqual(first);
    const second = dht.read(T0 + 2_000, 30, 80);
    expect(second.temperature).toBeGreaterThan(29);
    expect(second.humidity).toBeGreaterThan(78);
  });

  it('has ±0.2 °C and ±1 %RH noise and a 0.1 resolution', () => {
    const dht = new Dht22(5);
    const temperatures = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const { temperature, humidity } = dht.read(T0 + i * 2_000, 23.45, 61.5);
      expect(Math.abs(temperature - 23.45)).toBeLessThanOrEqual(0.25);
      expect(Math.abs(humidity - 61.5)).toBeLessThanOrEqual(1.05);
      expect(Math.round(temperature * 10) / 10).toBe(temperature);
      expect(Math.round(humidity * 10) / 10).toBe(humidity);
      temperatures.add(temperature);
    }
    expect(temperatures.size).toBeGreaterThanOrEqual(4);
  });

  it('in a kit sampled every 500 ms, temperature and humidity change only every 2 s', () => {
    const steps = run(createKitModel(kit()), 0, 60_000, 500);
    for (const step of steps) {
      const readAt = step.t - (step.t % 2_000);
      const read = steps.find((s) => s.t === readAt) as Step;
      expect(step.readings.temperature).toBe(read.readings.temperature);
      expect(step.readings.humidity).toBe(read.readings.humidity);
    }
    // the LDR has no such limit
    expect(new Set(steps.slice(0, 4).map((s) => s.readings.light)).size).toBeGreaterThan(1);
  });
});

describe('environment and parts', () => {
  it('light follows the wall clock: bright at noon, dark at night (UTC+8)', () => {
    expect(daylight(Date.UTC(2025, 2, 10, 4, 0, 0))).toBeCloseTo(1, 5); // 12:00 local
    expect(daylight(Date.UTC(2025, 2, 10, 15, 0, 0))).toBe(0); // 23:00 local
    const noon = createKitModel(kit()).sample(Date.UTC(2025, 2, 10, 4, 0, 0));
    const night = createKitModel(kit()).sample(Date.UTC(2025, 2, 10, 15, 0, 0));
    expect(noon.light).toBeGreaterThan(3_000);
    expect(night.light).toBeLessThan(5);
  });

  it('soil dries slowly over time', () => {
    const steps = run(createKitModel(kit()), 0, 3_600_000, 60_000);
    const first = steps[0]?.readings.soil_moisture as number;
    const last = steps.at(-1)?.readings.soil_moisture as number;
    expect(first - last).toBeGreaterThan(1);
    expect(first - last).toBeLessThan(15);
  });

  it('HC-SR04 reads 2–400 cm and sometimes misses the echo (0 or 400)', () => {
    const values = Array.from({ length: 3_000 }, (_, i) => readHcSr04(9, T0 + i * 100, 150));
    const misses = values.filter((v) => v === 0 || v === 400);
    expect(misses.length).toBeGreaterThan(30);
    expect(misses.length).toBeLessThan(200);
    expect(misses).toContain(0);
    for (const v of values.filter((v) => v !== 0 && v !== 400))
      expect(Math.abs(v - 150)).toBeLessThanOrEqual(0.30001);
  });

  it('PIR: random arrivals give 1 for a few seconds, then 0', () => {
    const steps = run(createKitModel(kit({ profile: 'security' })), 0, 900_000, 500);
    const motion = steps.map((s) => s.readings.motion);
    expect(new Set(motion)).toEqual(new Set([0, 1]));
    const episodes: number[] = [];
    let length = 0;
    for (const value of motion) {
      if (value === 1) length++;
      else if (length > 0) {
        episodes.push(length * 0.5);
        length = 0;
      }
    }
    expect(episodes.length).toBeGreaterThanOrEqual(5);
    for (const seconds of episodes) {
      expect(seconds).toBeGreaterThanOrEqual(3);
      expect(seconds).toBeLessThanOrEqual(20);
    }
    // someone in the doorway is closer than the wall
    const present = steps.filter((s) => s.readings.motion === 1 && s.readings.distance !== 0);
    expect(present.some((s) => (s.readings.distance as number) < 170)).toBe(true);
  });

  it('MQ-2 reads high at power-on and settles to its baseline', () => {
    expect(readMq2(1, T0, 120, T0)).toBeGreaterThan(120 + MQ2_WARMUP_PPM * 0.9);
    expect(Math.abs(readMq2(1, T0 + 600_000, 120, T0) - 120)).toBeLessThanOrEqual(6);
    const steps = run(createKitModel(kit({ profile: 'air-quality', seed: 5 })), 0, 600_000, 1_000);
    const gas = steps.map((s) => s.readings.gas as number);
    expect(Math.max(...gas)).toBeGreaterThan(400); // leaks happen
  });

  it('the environment reports door events of the cold room', () => {
    const env = createEnvironment('cold-chain', 1);
    const events: unknown[] = [];
    for (let t = 0; t <= 3_600_000; t += 1_000) {
      env.read(T0 + t);
      events.push(...env.takeEvents());
    }
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events[0]).toEqual({ event: 'door', value: 1 });
    expect(events[1]).toEqual({ event: 'door', value: 0 });
  });
});

describe('actuators act on the environment', () => {
  it('greenhouse: fan on → temperature falls by more than 3 °C within 30 s, humidity a little', () => {
    const model = createKitModel(kit());
    run(model, 0, 60_000, 1_000);
    const before = model.sample(T0 + 60_000);
    model.command({ command: 'fan', value: 1 });
    expect(model.actuators()).toEqual({ fan: 1, pump: 0 });
    const after = model.sample(T0 + 90_000);
    expect((before.temperature as number) - (after.temperature as number)).toBeGreaterThan(3);
    expect((before.humidity as number) - (after.humidity as number)).toBeGreaterThan(1);
  });

  it.each(PROFILE_NAMES.filter((name) => getProfile(name)?.fan))(
    '%s: with the fan on the kit is clearly cooler after 30 s than its twin without',
    (profile) => {
      const cooling = getProfile(profile)?.fan?.coolingC as number;
      const withFan = createKitModel(kit({ profile }));
      const without = createKitModel(kit({ profile }));
      run(withFan, 0, 60_000, 1_000);
      run(without, 0, 60_000, 1_000);
      withFan.command({ command: 'fan', value: 'on' });
      const a = run(withFan, 61_000, 90_000, 1_000).at(-1)?.readings.temperature as number;
      const b = run(without, 61_000, 90_000, 1_000).at(-1)?.readings.temperature as number;
      expect(b - a).toBeGreaterThan(cooling / 2);
    },
  );

  it('greenhouse: pump on → soil moisture rises by more than 10 % within 30 s; off → it stops', () => {
    const model = createKitModel(kit());
    const before = model.sample(T0).soil_moisture as number;
    model.command({ command: 'pump', value: true });
    const after = model.sample(T0 + 30_000).soil_moisture as number;
    expect(after - before).toBeGreaterThan(10);
    model.command({ command: 'pump', value: 'off' });
    const later = model.sample(T0 + 90_000).soil_moisture as number;
    expect(Math.abs(later - after)).toBeLessThan(1.5);
  });

  it('accepts 1/0, true/false, "on"/"off"; ignores unknown commands and values without throwing', () => {
    const model = createKitModel(kit());
    for (const [value, state] of [
      [1, 1],
      [0, 0],
      [true, 1],
      [false, 0],
      ['on', 1],
      ['OFF', 0],
      ['1', 1],
    ] as const) {
      model.command({ command: 'fan', value });
      expect(model.actuators().fan).toBe(state);
    }
    model.command({ command: 'fan', value: 1 });
    expect(() => {
      model.command({ command: 'fan' });
      model.command({ command: 'fan', value: 'maybe' });
      model.command({ command: 'servo', value: 90 });
      model.command({ command: 'reboot' });
      model.command(null as never);
    }).not.toThrow();
    expect(model.actuators()).toEqual({ fan: 1, pump: 0 });
  });
});

describe('alarms', () => {
  it('air-quality: an alarm event and the buzzer when gas crosses 400 ppm, cleared below 300', () => {
    const steps = run(createKitModel(kit({ profile: 'air-quality', seed: 5 })), 0, 900_000, 1_000);
    const raised = steps.findIndex((s) => s.events.some((e) => e.event === 'alarm' && e.value === 1));
    expect(raised).toBeGreaterThan(0);
    expect(steps[raised]?.readings.gas).toBeGreaterThan(400);
    expect(steps[raised - 1]?.readings.gas).toBeLessThanOrEqual(400);
    expect(steps[raised]?.actuators.buzzer).toBe(1);
    const cleared = steps.findIndex(
      (s, i) => i > raised && s.events.some((e) => e.event === 'alarm' && e.value === 0),
    );
    expect(cleared).toBeGreaterThan(raised);
    expect(steps[cleared]?.readings.gas).toBeLessThan(300);
    expect(steps[cleared]?.actuators.buzzer).toBe(0);
    // between the two, the buzzer stays on
    for (const step of steps.slice(raised, cleared)) expect(step.actuators.buzzer).toBe(1);
  });

  it('cold-chain: compressor off → the room warms past 8 °C → alarm and buzzer', () => {
    const model = createKitModel(kit({ profile: 'cold-chain', seed: 11 }));
    model.sample(T0);
    model.command({ command: 'compressor', value: 0 });
    const steps = run(model, 1_000, 300_000, 1_000);
    const raised = steps.find((s) => s.events.some((e) => e.event === 'alarm' && e.value === 1));
    expect(raised?.readings.temperature).toBeGreaterThan(8);
    expect(raised?.actuators).toMatchObject({ compressor: 0, buzzer: 1 });
    expect(raised?.t).toBeLessThan(200_000);
  });

  it('security: motion raises the alarm with buzzer and LED', () => {
    const steps = run(createKitModel(kit({ profile: 'security' })), 0, 600_000, 500);
    const raised = steps.find((s) => s.events.some((e) => e.event === 'alarm' && e.value === 1));
    expect(raised?.readings.motion).toBe(1);
    expect(raised?.actuators).toEqual({ buzzer: 1, led: 1 });
  });

  it('greenhouse raises no alarm', () => {
    const steps = run(createKitModel(kit()), 0, 600_000, 1_000);
    expect(steps.flatMap((s) => s.events)).toEqual([]);
  });
});

describe('faults: only in [at, at+duration), exactly as described', () => {
  it('knows thirteen fault types', () => {
    expect(FAULT_TYPES).toHaveLength(13);
  });

  it('unplugged (nan): the DHT22 reads null for temperature and humidity', () => {
    const pair = twins({}, [{ type: 'unplugged', at: 2, duration: 5, sensor: 'temperature' }]);
    pair.expectSameOutside();
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(faulty.readings).toEqual({ ...healthy.readings, temperature: null, humidity: null });
    }
  });

  it('unplugged (minus127): the sensor reads −127, the others are untouched', () => {
    const pair = twins({}, [
      { type: 'unplugged', at: 2, duration: 5, sensor: 'temperature', reports: 'minus127' },
    ]);
    pair.expectSameOutside();
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(faulty.readings).toEqual({ ...healthy.readings, temperature: -127 });
    }
  });

  it('unplugged (stuck): the part keeps its last value from before the fault', () => {
    const pair = twins({}, [
      { type: 'unplugged', at: 2, duration: 5, sensor: 'soil_moisture', reports: 'stuck' },
    ]);
    pair.expectSameOutside();
    const last = pair.healthy.find((s) => s.t === 1_500)?.readings.soil_moisture;
    const inside = pair.pairsInside();
    for (const [healthy, faulty] of inside) {
      expect(faulty.readings).toEqual({ ...healthy.readings, soil_moisture: last });
    }
    expect(new Set(inside.map(([healthy]) => healthy.readings.soil_moisture)).size).toBeGreaterThan(1);
  });

  it('swapped: the two sensors exchange values', () => {
    const pair = twins({}, [{ type: 'swapped', at: 2, duration: 5, sensors: ['light', 'soil_moisture'] }]);
    pair.expectSameOutside();
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(faulty.readings).toEqual({
        ...healthy.readings,
        light: healthy.readings.soil_moisture,
        soil_moisture: healthy.readings.light,
      });
    }
  });

  it('noise: bursts of large spikes on that sensor only', () => {
    const pair = twins({}, [{ type: 'noise', at: 2, duration: 5, sensor: 'temperature', amplitude: 10 }]);
    pair.expectSameOutside();
    let spikes = 0;
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect({ ...faulty.readings, temperature: 0 }).toEqual({ ...healthy.readings, temperature: 0 });
      const jump = Math.abs(
        (faulty.readings.temperature as number) - (healthy.readings.temperature as number),
      );
      if (jump > 0.05) {
        spikes++;
        expect(jump).toBeGreaterThanOrEqual(5.95);
        expect(jump).toBeLessThanOrEqual(10.05);
      }
    }
    expect(spikes).toBeGreaterThanOrEqual(2);
    expect(pair.faulty.find((s) => s.t === 2_000)?.readings.temperature).not.toBe(
      pair.healthy.find((s) => s.t === 2_000)?.readings.temperature,
    );
  });

  it('frozen: the sensor keeps the value it had when the fault began', () => {
    const pair = twins({}, [{ type: 'frozen', at: 2, duration: 5, sensor: 'light' }]);
    pair.expectSameOutside();
    const inside = pair.pairsInside();
    const held = inside[0]?.[0].readings.light;
    for (const [healthy, faulty] of inside)
      expect(faulty.readings).toEqual({ ...healthy.readings, light: held });
    expect(new Set(inside.map(([healthy]) => healthy.readings.light)).size).toBeGreaterThan(3);
  });

  it('clock-skew: transport().clockSkewMs, readings untouched', () => {
    const pair = twins({}, [{ type: 'clock-skew', at: 2, duration: 5, skewSeconds: 600 }]);
    pair.expectSameOutside();
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(faulty.readings).toEqual(healthy.readings);
      expect(faulty.transport).toEqual({ ...healthy.transport, clockSkewMs: 600_000 });
    }
    expect(pair.healthy.every((s) => s.transport.clockSkewMs === 0)).toBe(true);
  });

  it('wifi-drop: transport().connected is false, readings untouched', () => {
    const pair = twins({}, [{ type: 'wifi-drop', at: 2, duration: 5 }]);
    pair.expectSameOutside();
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(faulty.readings).toEqual(healthy.readings);
      expect(faulty.transport).toEqual({ ...healthy.transport, connected: false });
    }
  });

  it('serial-garbage: transport().garbage is true on a USB kit, readings untouched', () => {
    const pair = twins({ kind: 'arduino' }, [{ type: 'serial-garbage', at: 2, duration: 5 }]);
    pair.expectSameOutside();
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(faulty.readings).toEqual(healthy.readings);
      expect(faulty.transport).toEqual({ ...healthy.transport, garbage: true });
    }
  });

  it('slow-sampling: transport().intervalMs becomes the fault interval', () => {
    const pair = twins({}, [{ type: 'slow-sampling', at: 2, duration: 5, intervalMs: 3_000 }]);
    pair.expectSameOutside();
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(healthy.transport.intervalMs).toBe(500);
      expect(faulty.transport).toEqual({ ...healthy.transport, intervalMs: 3_000 });
      expect(faulty.readings).toEqual(healthy.readings);
    }
  });

  it('constant: every sensor reports one perfectly constant value', () => {
    const pair = twins({}, [{ type: 'constant', at: 2, duration: 5 }]);
    pair.expectSameOutside();
    for (const [, faulty] of pair.pairsInside()) {
      expect(faulty.readings).toEqual({ temperature: 25, humidity: 60, light: 800, soil_moisture: 45 });
    }
  });

  it('pattern: a perfect sine / sawtooth with no noise', () => {
    const pair = twins({}, [{ type: 'pattern', at: 2, duration: 5 }]);
    pair.expectSameOutside();
    for (const [, faulty] of pair.pairsInside()) {
      const phase = (faulty.t - 2_000) / PATTERN_PERIOD_MS;
      expect(faulty.readings.temperature).toBeCloseTo(25 + 3 * Math.sin(2 * Math.PI * phase), 1);
      expect(faulty.readings.humidity).toBeCloseTo(60 + 10 * (2 * phase - 1), 1);
      expect(faulty.readings.light).toBeCloseTo(800 + 300 * Math.sin(2 * Math.PI * phase), -0.5);
      expect(faulty.readings.soil_moisture).toBeCloseTo(45 + 10 * (2 * phase - 1), 1);
    }
    // the pattern moves every sample (unlike "constant")
    expect(new Set(pair.pairsInside().map(([, f]) => f.readings.soil_moisture)).size).toBe(10);
  });

  it('replay: re-sends its own earlier samples from replayFromSeconds on, in order, actuators included', () => {
    const faults: FaultSpec[] = [{ type: 'replay', at: 2, duration: 5, replayFromSeconds: 0.5 }];
    const fanOnAt = (model: KitModel) => (t: number) => {
      if (t === 1_000) model.command({ command: 'fan', value: 1 });
    };
    const healthyModel = createKitModel(kit());
    const faultyModel = createKitModel(kit({ faults }));
    const healthy = run(healthyModel, 0, 10_000, 500, fanOnAt(healthyModel));
    const faulty = run(faultyModel, 0, 10_000, 500, fanOnAt(faultyModel));
    const inside = faulty.filter((s) => inWindow(s.t));
    expect(inside).toHaveLength(10);
    inside.forEach((step, k) => {
      const original = faulty.find((s) => s.t === 500 + k * 500) as Step;
      expect(step.readings).toEqual(original.readings);
      expect(step.actuators).toEqual(original.actuators);
    });
    expect(inside[0]?.actuators.fan).toBe(0);
    expect(inside[1]?.actuators.fan).toBe(1);
    const outside = (steps: Step[]) =>
      steps.filter((s) => !inWindow(s.t)).map((s) => [s.readings, s.actuators]);
    expect(outside(faulty)).toEqual(outside(healthy));
    // the replayed samples are not what the kit measured at the time
    expect(inside.map((s) => s.readings)).not.toEqual(
      healthy.filter((s) => inWindow(s.t)).map((s) => s.readings),
    );
  });

  it('clone: reports exactly what the source kit reports at the same instant, actuators included', () => {
    const source = createKitModel(kit({ id: 'src-01', seed: 7 }));
    const peers = (id: string) => (id === 'src-01' ? source : undefined);
    const clone = createKitModel(
      kit({ faults: [{ type: 'clone', at: 2, duration: 5, of: 'src-01' }] }),
      peers,
    );
    const own = createKitModel(kit());
    source.command({ command: 'pump', value: 1 });
    for (let t = 0; t <= 10_000; t += 500) {
      const now = T0 + t;
      const copied = clone.sample(now);
      const measured = own.sample(now);
      if (inWindow(t)) {
        expect(copied).toEqual(source.sample(now));
        expect(clone.actuators()).toEqual({ fan: 0, pump: 1 });
      } else {
        expect(copied).toEqual(measured);
        expect(clone.actuators()).toEqual({ fan: 0, pump: 0 });
        source.sample(now);
      }
    }
  });

  it('clone: the source reports the same whether or not it is cloned', () => {
    const alone = run(createKitModel(kit({ id: 'src-01', seed: 7 })), 0, 10_000);
    const source = createKitModel(kit({ id: 'src-01', seed: 7 }));
    const clone = createKitModel(kit({ faults: [{ type: 'clone', at: 0, of: 'src-01' }] }), (id) =>
      id === 'src-01' ? source : undefined,
    );
    const steps: Step[] = [];
    for (let t = 0; t <= 10_000; t += 500) {
      clone.sample(T0 + t);
      steps.push({
        t,
        readings: source.sample(T0 + t),
        actuators: source.actuators(),
        events: source.events(T0 + t),
        transport: source.transport(T0 + t),
      });
    }
    expect(steps).toEqual(alone);
  });

  it('no-alarm: no alarm event and no buzzer in its window, although the gas crosses the threshold', () => {
    // seed 132: a leak crosses 400 ppm at 3.5 s (the f-no-alarm kit of scenarios/faults.json)
    const over = { profile: 'air-quality', seed: 132 };
    const pair = twins(over, [{ type: 'no-alarm', at: 2, duration: 5 }]);
    const raised = pair.healthy.find((s) => s.events.some((e) => e.event === 'alarm' && e.value === 1));
    expect(raised?.t).toBe(3_500);
    expect(raised?.actuators.buzzer).toBe(1);
    expect(pair.faulty.map((s) => s.readings)).toEqual(pair.healthy.map((s) => s.readings));
    for (const [healthy, faulty] of pair.pairsInside()) {
      expect(faulty.events).toEqual([]);
      expect(faulty.actuators.buzzer).toBe(0);
      if (healthy.t >= 3_500) expect(healthy.actuators.buzzer).toBe(1);
    }
    // after the window the sketch works again: the gas is still high, so it raises the alarm then
    const after = pair.faulty.find((s) => s.t === 7_000);
    expect(after?.events).toEqual([{ event: 'alarm', value: 1 }]);
    expect(after?.actuators.buzzer).toBe(1);
  });

  it('a fault without duration lasts until the end', () => {
    const model = createKitModel(kit({ faults: [{ type: 'wifi-drop', at: 1 }] }));
    expect(model.transport(T0).connected).toBe(true);
    expect(model.transport(T0 + 1_000).connected).toBe(false);
    expect(model.transport(T0 + 86_400_000).connected).toBe(false);
  });
});

describe('createKitModel refuses inconsistent specs', () => {
  it('names the problem', () => {
    expect(() => createKitModel(kit({ profile: 'greenhous' }))).toThrow(/unknown profile "greenhous"/);
    expect(() => createKitModel(kit({ faults: [{ type: 'frozen', at: 1, sensor: 'gas' }] }))).toThrow(
      /faults\[0\]\.sensor: kit k-01 \(profile greenhouse\) has no sensor "gas"/,
    );
    expect(() => createKitModel(kit({ faults: [{ type: 'clone', at: 1, of: 'x-01' }] }))).toThrow(
      /needs the peers lookup/,
    );
    expect(() => createKitModel(kit({ faults: [{ type: 'no-alarm', at: 1 }] }))).toThrow(
      /no-alarm needs a profile with an alarm/,
    );
  });

  it('every profile lists its sensors and actuators', () => {
    for (const profile of Object.values(PROFILES)) {
      const model = createKitModel(kit({ profile: profile.name }));
      expect(model.sensors).toEqual(profile.sensors.map((s) => s.name));
      expect(Object.keys(model.sample(T0))).toEqual([...model.sensors]);
      expect(Object.keys(model.actuators())).toEqual([...profile.actuators]);
    }
  });
});
