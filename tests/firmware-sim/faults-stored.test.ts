/**
 * The `faults` scenario on the real wire, through the real broker, gateway and store: each injected
 * fault must show up in the stored data as it would from real hardware — in its window only.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getProfile, loadScenario, Simulation } from '../../firmware-sim/index.ts';
import type { GatewayStatus } from '../../gateway/index.ts';
import type { SeriesPoint } from '../../telemetry/index.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const RUN_MS = 9_500;
const HOUR = 3_600_000;

describeWithServer('socat', 'every simulated fault in the stored data', () => {
  let lab: TestPlatform;
  let simulation: Simulation;
  /** The gateway's status just before the kits were unplugged at the end. */
  let gatewayStatus: GatewayStatus | undefined;

  beforeAll(async () => {
    const scenario = loadScenario('faults');
    simulation = await Simulation.prepare(scenario);
    lab = await startTestPlatform({
      gateway: { enabled: true, scanUsb: false, ports: simulation.gatewayPorts() },
    });
    const secrets: Record<string, string> = {};
    for (const kit of scenario.kits)
      secrets[kit.id] = (await lab.platform.registry.addKit({ id: kit.id, kind: kit.kind })).secret;
    await simulation.start({
      brokerUrl: lab.mqttUrl,
      credentials: (kitId) => ({ username: kitId, password: secrets[kitId] as string }),
    });
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    gatewayStatus = lab.platform.gateway?.status();
    await simulation.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lab.platform.writer.flush();
  }, 40_000);
  afterAll(async () => {
    await simulation?.stop();
    await lab?.close();
  });

  async function series(kitId: string, sensor: string): Promise<SeriesPoint[]> {
    return lab.platform.store.readings({ kitId, sensor, from: Date.now() - HOUR, to: Date.now() + HOUR });
  }

  /** The kit's start (its first reading) and its fault window [start+2 s, start+7 s), trimmed for timer jitter. */
  async function windows(kitId: string) {
    const first = (await series(kitId, 'humidity'))[0]?.ts ?? (await series(kitId, 'gas'))[0]?.ts;
    if (first === undefined) throw new Error(`no readings from ${kitId}`);
    const inside = (p: SeriesPoint) => p.ts >= first + 2_600 && p.ts < first + 6_400;
    const outside = (p: SeriesPoint) => p.ts < first + 1_600 || p.ts >= first + 7_600;
    const whole = (p: SeriesPoint) => p.ts >= first + 1_900 && p.ts < first + 7_100;
    return { first, inside, outside, whole };
  }

  const values = (points: SeriesPoint[]) => points.map((p) => p.value);
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);

  it('a correct kit sends a steady, complete stream', async () => {
    const temperature = await series('f-ok', 'temperature');
    expect(temperature.length).toBeGreaterThanOrEqual(15);
    const gaps = temperature.slice(1).map((p, i) => p.ts - (temperature[i] as SeriesPoint).ts);
    expect(Math.max(...gaps)).toBeLessThan(1_500);
  });

  it('unplugged DHT22: no temperature in the window (NaN is sent as null and dropped), readings around it', async () => {
    const { inside, outside } = await windows('f-unplugged');
    const temperature = await series('f-unplugged', 'temperature');
    expect(temperature.filter(inside)).toEqual([]);
    expect(temperature.filter(outside).length).toBeGreaterThanOrEqual(6);
    expect(lab.platform.ingest.stats.problems.VALUE_MISSING).toBeGreaterThan(0);
  });

  it('swapped wires: light and soil moisture trade values in the window', async () => {
    const { inside, outside } = await windows('f-swapped');
    const light = await series('f-swapped', 'light');
    const soil = await series('f-swapped', 'soil_moisture');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const soilOutside = mean(values(soil.filter(outside)));
    const lightOutside = mean(values(light.filter(outside)));
    // Each wire carries the other sensor's level (light depends on the time of day, so compare
    // with the level each sensor shows outside the window rather than with fixed numbers).
    for (const v of values(light.filter(inside))) expect(Math.abs(v - soilOutside)).toBeLessThan(5);
    for (const v of values(soil.filter(inside))) {
      expect(Math.abs(v - lightOutside)).toBeLessThan(Math.max(5, lightOutside * 0.15));
    }
    expect(light.filter(inside).length).toBeGreaterThanOrEqual(5);
  });

  it('noise burst: spikes in the window only', async () => {
    const { whole, outside } = await windows('f-noise');
    const temperature = await series('f-noise', 'temperature');
    expect(spread(values(temperature.filter(whole)))).toBeGreaterThan(5);
    expect(spread(values(temperature.filter(outside)))).toBeLessThan(2);
  });

  it('frozen sensor: one value through the window', async () => {
    const { inside, outside } = await windows('f-frozen');
    const soil = await series('f-frozen', 'soil_moisture');
    expect(soil.filter(inside).length).toBeGreaterThanOrEqual(5);
    expect(spread(values(soil.filter(inside)))).toBe(0);
    expect(spread(values(soil.filter(outside)))).toBeGreaterThan(0);
  });

  it('clock 10 min ahead: refused as TIMESTAMP_IN_FUTURE, a hole in the stored data', async () => {
    const { inside, outside } = await windows('f-clock-skew');
    const humidity = await series('f-clock-skew', 'humidity');
    expect(humidity.filter(inside)).toEqual([]);
    expect(humidity.filter(outside).length).toBeGreaterThanOrEqual(6);
    expect(lab.platform.ingest.stats.problems.TIMESTAMP_IN_FUTURE).toBeGreaterThan(0);
  });

  it('Wi-Fi drop: nothing in the window, and the sequence numbers show the loss', async () => {
    const { first, inside } = await windows('f-wifi-drop');
    expect((await series('f-wifi-drop', 'humidity')).filter(inside)).toEqual([]);
    const seqs = values(
      await lab.platform.store.sequence({ kitId: 'f-wifi-drop', from: first, to: Date.now() + HOUR }),
    );
    const jumps = seqs.slice(1).map((s, i) => s - (seqs[i] as number));
    expect(Math.max(...jumps)).toBeGreaterThanOrEqual(6);
  });

  it('serial garbage: bad lines counted by the gateway, the readings still complete', async () => {
    const port = gatewayStatus?.ports.find((p) => p.kitId === 'f-serial-garbage');
    expect(port?.linesBad).toBeGreaterThanOrEqual(5);
    expect(port?.linesGood).toBeGreaterThanOrEqual(15);
    const humidity = await series('f-serial-garbage', 'humidity');
    expect(humidity.length).toBeGreaterThanOrEqual(15);
  });

  it('fabricated constant data: every sensor perfectly constant in the window', async () => {
    const { inside, outside } = await windows('f-constant');
    for (const sensor of ['temperature', 'humidity', 'soil_moisture']) {
      const points = await series('f-constant', sensor);
      expect(points.filter(inside).length, sensor).toBeGreaterThanOrEqual(5);
      expect(spread(values(points.filter(inside))), sensor).toBe(0);
    }
    // Measured soil moisture has probe noise on every reading (a DHT22 may hold a value for 2 s).
    const soil = await series('f-constant', 'soil_moisture');
    expect(spread(values(soil.filter(outside)))).toBeGreaterThan(0);
  });

  it('fabricated pattern: a noiseless sawtooth (humidity exactly linear in time) in the window', async () => {
    const { inside, outside } = await windows('f-pattern');
    const humidity = await series('f-pattern', 'humidity');
    const info = getProfile('greenhouse')?.sensors.find((sensor) => sensor.name === 'humidity');
    if (!info) throw new Error('greenhouse has humidity');
    // humidity = nominal + swing·(2·phase − 1), phase = (t − start)/20 s: slope 2·swing per 20 s
    const slope = (2 * info.swing) / 20_000;
    const window = humidity.filter(inside);
    expect(window.length).toBeGreaterThanOrEqual(5);
    const first = window[0] as SeriesPoint;
    for (const p of window)
      expect(Math.abs(p.value - first.value - slope * (p.ts - first.ts))).toBeLessThan(0.3);
    const before = humidity.filter(outside).slice(0, 3);
    expect(before.some((p) => Math.abs(p.value - info.nominal - info.swing * -1) < 0.01)).toBe(false);
  });

  it('replayed data: the window repeats what the kit sent at its start', async () => {
    const { first, inside } = await windows('f-replay');
    const soil = await series('f-replay', 'soil_moisture');
    const start = values(soil.filter((p) => p.ts < first + 2_000));
    const window = values(soil.filter(inside));
    const matched = window.filter((v) => start.includes(v)).length;
    expect(matched / window.length).toBeGreaterThanOrEqual(0.6);
  });

  it('copied stream: in the window the copy reports the other kit’s values', async () => {
    const { inside, outside } = await windows('f-clone');
    const original = new Set(values(await series('f-ok', 'humidity')));
    const copy = await series('f-clone', 'humidity');
    const shared = (points: SeriesPoint[]) =>
      points.filter((p) => original.has(p.value)).length / points.length;
    expect(shared(copy.filter(inside))).toBe(1);
    expect(shared(copy.filter(outside))).toBeLessThan(0.5);
  });

  it('slow sampling: far fewer readings in the window', async () => {
    const { inside, outside } = await windows('f-slow-sampling');
    const humidity = await series('f-slow-sampling', 'humidity');
    const rate = (points: SeriesPoint[], ms: number) => points.length / ms;
    expect(rate(humidity.filter(inside), 3_800)).toBeLessThan(rate(humidity.filter(outside), 3_600) / 2);
  });

  it('no alarm: gas above the threshold while the buzzer stays off in the window', async () => {
    const { inside } = await windows('f-no-alarm');
    const gas = (await series('f-no-alarm', 'gas')).filter(inside);
    const buzzer = await series('f-no-alarm', 'buzzer');
    const high = gas.filter((p) => p.value > 400);
    expect(high.length).toBeGreaterThan(0);
    for (const p of high) {
      const state = buzzer.find((b) => b.ts === p.ts);
      expect(state?.value).toBe(0);
    }
  });
});
