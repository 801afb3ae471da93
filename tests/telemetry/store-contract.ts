/**
 * The contract every TelemetryStore passes, as a reusable vitest suite:
 *
 *   describeStoreContract('embedded', async () => ({ store, cleanup }));
 *
 * `makeStore` runs once for the suite (in `beforeAll`); each test uses its own kit ids, so a store
 * may be shared. After the suite, `store.close()` and then `cleanup()` are called.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TelemetryRecord } from '../../protocol/index.ts';
import type { SeriesPoint, TelemetryStore, WindowPoint } from '../../telemetry/store.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Start of the data: 21 minutes past a multiple of 7 hours, 6 to 13 hours ago. It is a multiple of
 * 1 and 7 minutes, but not of an hour or a day, so windows aligned to the epoch differ from
 * windows aligned to the hour, the day or the query's `from`. Recent enough for any retention.
 */
function dataStart(now: number): number {
  return Math.floor((now - 6 * HOUR) / (7 * HOUR)) * (7 * HOUR) + 21 * MINUTE;
}

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<{ store: TelemetryStore; cleanup: () => Promise<void> }>,
): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    let store: TelemetryStore;
    let cleanup: (() => Promise<void>) | undefined;
    const run = Math.random().toString(36).slice(2, 8);
    const kit = (label: string) => `c${run}-${label}`;
    const T = dataStart(Date.now());
    const at = (ms: number) => T + ms;

    // Kit A: temperature, humidity and light, seq 1..10 (the light reading has no seq).
    // temperature by minute window: [0,1m) 20.5 22.5 24.5 | [1m,2m) none | [2m,3m) 18 26.5 |
    // [3m,4m) -3.5 | [4m,5m) none | [5m,6m) 31.5 30.5 29.5
    const A = kit('a');
    const kitA: TelemetryRecord[] = [
      { kitId: A, ts: at(0), seq: 1, readings: { temperature: 20.5, humidity: 55 } },
      { kitId: A, ts: at(15 * SECOND), seq: 2, readings: { temperature: 22.5 } },
      { kitId: A, ts: at(40 * SECOND), seq: 3, readings: { temperature: 24.5, humidity: 57.3 } },
      { kitId: A, ts: at(90 * SECOND), seq: 4, readings: { humidity: 52 } },
      { kitId: A, ts: at(125 * SECOND), seq: 5, readings: { temperature: 18, humidity: 61 } },
      { kitId: A, ts: at(170 * SECOND), seq: 6, readings: { temperature: 26.5 } },
      { kitId: A, ts: at(185 * SECOND), seq: 7, readings: { temperature: -3.5 } },
      { kitId: A, ts: at(300 * SECOND), seq: 8, readings: { temperature: 31.5, humidity: 48.5 } },
      { kitId: A, ts: at(301 * SECOND), seq: 9, readings: { temperature: 30.5 } },
      { kitId: A, ts: at(360 * SECOND - 1), seq: 10, readings: { temperature: 29.5 } },
      { kitId: A, ts: at(420 * SECOND), readings: { light: 812.4 } },
    ];
    // Kit B: same sensor names and instants, other values, plus a sensor kit A does not have.
    const B = kit('b');
    const kitB: TelemetryRecord[] = [
      { kitId: B, ts: at(0), seq: 500, readings: { temperature: 101.5, co2: 612 } },
      { kitId: B, ts: at(40 * SECOND), seq: 501, readings: { temperature: 99.25, humidity: 12 } },
      { kitId: B, ts: at(500 * SECOND), seq: 502, readings: { temperature: 97, co2: 640 } },
    ];
    const all = { from: T, to: T + HOUR };
    const temperatureA: SeriesPoint[] = [
      { ts: at(0), value: 20.5 },
      { ts: at(15 * SECOND), value: 22.5 },
      { ts: at(40 * SECOND), value: 24.5 },
      { ts: at(125 * SECOND), value: 18 },
      { ts: at(170 * SECOND), value: 26.5 },
      { ts: at(185 * SECOND), value: -3.5 },
      { ts: at(300 * SECOND), value: 31.5 },
      { ts: at(301 * SECOND), value: 30.5 },
      { ts: at(360 * SECOND - 1), value: 29.5 },
    ];

    beforeAll(async () => {
      const made = await makeStore();
      store = made.store;
      cleanup = made.cleanup;
      // Newest first and in two calls: reads must come back oldest first whatever the write order.
      await store.write(kitA.slice(5).reverse());
      await store.write([...kitB, ...kitA.slice(0, 5)]);
    }, 60_000);

    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    }, 30_000);

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });

    it('accepts an empty batch', async () => {
      await expect(store.write([])).resolves.toBeUndefined();
    });

    it('reads a sensor back raw, oldest first, with the values written', async () => {
      expect(await store.readings({ kitId: A, sensor: 'temperature', ...all })).toEqual(temperatureA);
      expect(await store.readings({ kitId: A, sensor: 'humidity', ...all })).toEqual([
        { ts: at(0), value: 55 },
        { ts: at(40 * SECOND), value: 57.3 },
        { ts: at(90 * SECOND), value: 52 },
        { ts: at(125 * SECOND), value: 61 },
        { ts: at(300 * SECOND), value: 48.5 },
      ]);
      expect(await store.readings({ kitId: A, sensor: 'light', ...all })).toEqual([
        { ts: at(420 * SECOND), value: 812.4 },
      ]);
    });

    it('bounds ranges as [from, to)', async () => {
      const points = await store.readings({
        kitId: A,
        sensor: 'temperature',
        from: at(15 * SECOND),
        to: at(185 * SECOND),
      });
      expect(points.map((p) => p.value)).toEqual([22.5, 24.5, 18, 26.5]);
      expect(
        await store.readings({
          kitId: A,
          sensor: 'temperature',
          from: at(186 * SECOND),
          to: at(300 * SECOND),
        }),
      ).toEqual([]);
      expect(
        await store.readings({
          kitId: A,
          sensor: 'temperature',
          from: at(360 * SECOND - 1),
          to: at(360 * SECOND),
        }),
      ).toEqual([{ ts: at(360 * SECOND - 1), value: 29.5 }]);
    });

    it('respects limit, keeping the oldest points', async () => {
      const points = await store.readings({ kitId: A, sensor: 'temperature', ...all, limit: 3 });
      expect(points).toEqual(temperatureA.slice(0, 3));
      const windows = await store.aggregate({
        kitId: A,
        sensor: 'temperature',
        ...all,
        every: MINUTE,
        limit: 2,
      });
      expect(windows.map((w) => w.ts)).toEqual([at(0), at(2 * MINUTE)]);
    });

    it('returns nothing for an unknown kit or sensor', async () => {
      expect(await store.readings({ kitId: kit('nobody'), sensor: 'temperature', ...all })).toEqual([]);
      expect(await store.readings({ kitId: A, sensor: 'pressure', ...all })).toEqual([]);
      expect(await store.aggregate({ kitId: A, sensor: 'pressure', ...all, every: MINUTE })).toEqual([]);
      expect(await store.latest(kit('nobody'))).toEqual({});
      expect(await store.count({ kitId: kit('nobody'), ...all })).toBe(0);
      expect(await store.sequence({ kitId: kit('nobody'), ...all })).toEqual([]);
    });

    it('aggregates in windows aligned to the epoch, leaving empty windows out', async () => {
      const windows = await store.aggregate({ kitId: A, sensor: 'temperature', ...all, every: MINUTE });
      expect(windows).toEqual<WindowPoint[]>([
        { ts: at(0), mean: 22.5, min: 20.5, max: 24.5, count: 3 },
        { ts: at(2 * MINUTE), mean: 22.25, min: 18, max: 26.5, count: 2 },
        { ts: at(3 * MINUTE), mean: -3.5, min: -3.5, max: -3.5, count: 1 },
        { ts: at(5 * MINUTE), mean: 30.5, min: 29.5, max: 31.5, count: 3 },
      ]);
    });

    it('starts windows at epoch multiples of `every`, not at `from`, counting only points in range', async () => {
      // from is 10 s into the first minute and to cuts the last window after one point.
      const windows = await store.aggregate({
        kitId: A,
        sensor: 'temperature',
        from: at(10 * SECOND),
        to: at(301 * SECOND),
        every: MINUTE,
      });
      expect(windows).toEqual<WindowPoint[]>([
        { ts: at(0), mean: 23.5, min: 22.5, max: 24.5, count: 2 },
        { ts: at(2 * MINUTE), mean: 22.25, min: 18, max: 26.5, count: 2 },
        { ts: at(3 * MINUTE), mean: -3.5, min: -3.5, max: -3.5, count: 1 },
        { ts: at(5 * MINUTE), mean: 31.5, min: 31.5, max: 31.5, count: 1 },
      ]);
      // 7-minute windows: T is an epoch multiple of 7 min but not of an hour or a day.
      const sevens = await store.aggregate({
        kitId: A,
        sensor: 'temperature',
        from: at(100 * SECOND),
        to: at(HOUR),
        every: 7 * MINUTE,
      });
      expect(sevens).toHaveLength(1);
      const [window] = sevens;
      expect(window?.ts).toBe(T);
      expect(window?.count).toBe(6);
      expect(window?.min).toBe(-3.5);
      expect(window?.max).toBe(31.5);
      expect(window?.mean).toBeCloseTo((18 + 26.5 - 3.5 + 31.5 + 30.5 + 29.5) / 6, 9);
    });

    it("gives each sensor's latest value with that sensor's own time, without seq", async () => {
      expect(await store.latest(A)).toEqual({
        temperature: { ts: at(360 * SECOND - 1), value: 29.5 },
        humidity: { ts: at(300 * SECOND), value: 48.5 },
        light: { ts: at(420 * SECOND), value: 812.4 },
      });
    });

    it('counts readings of one sensor or of all sensors of a kit, not seq', async () => {
      expect(await store.count({ kitId: A, sensor: 'temperature', ...all })).toBe(9);
      expect(await store.count({ kitId: A, sensor: 'humidity', ...all })).toBe(5);
      expect(await store.count({ kitId: A, sensor: 'pressure', ...all })).toBe(0);
      expect(await store.count({ kitId: A, ...all })).toBe(9 + 5 + 1);
      expect(
        await store.count({ kitId: A, sensor: 'temperature', from: at(15 * SECOND), to: at(185 * SECOND) }),
      ).toBe(4);
      // [40 s, 301 s): temperature 24.5 18 26.5 -3.5 31.5 + humidity 57.3 52 61 48.5
      expect(await store.count({ kitId: A, from: at(40 * SECOND), to: at(301 * SECOND) })).toBe(9);
    });

    it('keeps events and commands as series of their own, outside sensor counts and latest values', async () => {
      const E = kit('events');
      await store.write([
        { kitId: E, ts: at(0), readings: { temperature: 21 } },
        { kitId: E, ts: at(SECOND), readings: { '@event.alarm': 1 } },
        { kitId: E, ts: at(2 * SECOND), readings: { '@command.fan': 0 } },
      ]);
      expect(await store.seriesNames(E)).toEqual(['@command.fan', '@event.alarm', 'temperature']);
      expect(await store.readings({ kitId: E, sensor: '@event.alarm', ...all })).toEqual([
        { ts: at(SECOND), value: 1 },
      ]);
      expect(await store.count({ kitId: E, ...all })).toBe(1);
      expect(Object.keys(await store.latest(E))).toEqual(['temperature']);
      expect(await store.seriesNames(A)).toEqual(
        expect.arrayContaining(['_seq', 'humidity', 'light', 'temperature']),
      );
    });

    it('returns the seq values the kit sent, oldest first', async () => {
      const seqA = kitA.filter((r) => r.seq !== undefined).map((r) => ({ ts: r.ts, value: r.seq }));
      expect(await store.sequence({ kitId: A, ...all })).toEqual(seqA);
      const part = await store.sequence({ kitId: A, from: at(40 * SECOND), to: at(301 * SECOND) });
      expect(part.map((p) => p.value)).toEqual([3, 4, 5, 6, 7, 8]);
    });

    it("keeps kits apart: neither sees the other's readings", async () => {
      expect(await store.readings({ kitId: A, sensor: 'temperature', ...all })).toEqual(temperatureA);
      expect(await store.readings({ kitId: B, sensor: 'temperature', ...all })).toEqual([
        { ts: at(0), value: 101.5 },
        { ts: at(40 * SECOND), value: 99.25 },
        { ts: at(500 * SECOND), value: 97 },
      ]);
      expect(await store.readings({ kitId: A, sensor: 'co2', ...all })).toEqual([]);
      expect(await store.latest(B)).toEqual({
        temperature: { ts: at(500 * SECOND), value: 97 },
        humidity: { ts: at(40 * SECOND), value: 12 },
        co2: { ts: at(500 * SECOND), value: 640 },
      });
      expect(await store.count({ kitId: B, ...all })).toBe(3 + 1 + 2);
      expect((await store.sequence({ kitId: B, ...all })).map((p) => p.value)).toEqual([500, 501, 502]);
      expect(await store.aggregate({ kitId: B, sensor: 'temperature', ...all, every: MINUTE })).toEqual([
        { ts: at(0), mean: 100.375, min: 99.25, max: 101.5, count: 2 },
        { ts: at(8 * MINUTE), mean: 97, min: 97, max: 97, count: 1 },
      ]);
    });

    it('changes no query result when the same batch is written again (a spool replay)', async () => {
      const C = kit('replay');
      const batch: TelemetryRecord[] = Array.from({ length: 40 }, (_, i) => ({
        kitId: C,
        ts: at(i * 7 * SECOND),
        seq: 1000 + i,
        readings: {
          temperature: 19 + ((i * 37) % 23) / 4,
          ...(i % 3 === 0 ? { humidity: 40 + ((i * 11) % 17) } : {}),
        },
      }));
      await store.write(batch);
      const snapshot = async () => ({
        readings: await store.readings({ kitId: C, sensor: 'temperature', ...all }),
        humidity: await store.readings({ kitId: C, sensor: 'humidity', ...all }),
        aggregate: await store.aggregate({ kitId: C, sensor: 'temperature', ...all, every: MINUTE }),
        latest: await store.latest(C),
        count: await store.count({ kitId: C, ...all }),
        countTemperature: await store.count({ kitId: C, sensor: 'temperature', ...all }),
        sequence: await store.sequence({ kitId: C, ...all }),
      });
      const before = await snapshot();
      expect(before.readings).toHaveLength(40);
      expect(before.count).toBe(40 + 14);
      expect(before.aggregate.reduce((sum, w) => sum + w.count, 0)).toBe(40);
      await store.write(batch);
      await store.write([...batch.slice(10, 20)].reverse());
      expect(await snapshot()).toEqual(before);
    });

    it('keeps the later of two readings of one sensor at one instant, within a batch as across batches', async () => {
      // Many series in one batch, so a store that reorders rows to write them faster must keep
      // the order of readings that share a series and a time.
      const D = kit('overwrite');
      const sensors = Array.from({ length: 40 }, (_, i) => `s${i}`);
      const version = (n: number): TelemetryRecord => ({
        kitId: D,
        ts: at(n % 2 === 0 ? 0 : SECOND),
        readings: Object.fromEntries(sensors.map((sensor, i) => [sensor, n * 100 + i])),
      });
      await store.write([version(0), version(1), version(2), version(3), version(4)]);
      await store.write([version(5)]);
      const values = async (sensor: string) =>
        (await store.readings({ kitId: D, sensor, ...all })).map((point) => point.value);
      for (const [i, sensor] of sensors.entries()) expect(await values(sensor)).toEqual([400 + i, 500 + i]);
    });
  });
}
