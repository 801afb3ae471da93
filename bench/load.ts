import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { KitRegistry, type LabDb } from '../labdb/index.ts';
import { kitTopic } from '../protocol/index.ts';
import type { TelemetryStore } from '../telemetry/index.ts';

/** Eight sensors, as a full greenhouse kit sends them. */
export const SENSORS_PER_MESSAGE = 8;

export function payload(seq: number): string {
  const wobble = (seq % 100) / 100;
  return JSON.stringify({
    seq,
    readings: {
      temperature: 22 + wobble,
      humidity: 55 + wobble,
      light: 640 + (seq % 50),
      soil_moisture: 41 + wobble,
      distance: 120 + (seq % 7),
      motion: seq % 2,
      gas: 380 + (seq % 30),
      pressure: 1009 + wobble,
    },
  });
}

export interface LoadKit {
  kitId: string;
  client: MqttClient;
  /** Messages the broker acknowledged (QoS 1). */
  acked: number;
  sent: number;
  /** Publish time of each seq (latency probes only). */
  publishedAt: Map<number, number>;
}

export async function connectKits(
  url: string,
  kits: { kitId: string; secret?: string }[],
  options: IClientOptions = {},
): Promise<LoadKit[]> {
  return Promise.all(
    kits.map(async ({ kitId, secret }) => ({
      kitId,
      client: await mqtt.connectAsync(url, {
        clientId: kitId,
        reconnectPeriod: 0,
        ...(secret ? { username: kitId, password: secret } : {}),
        ...options,
      }),
      acked: 0,
      sent: 0,
      publishedAt: new Map<number, number>(),
    })),
  );
}

/** Each kit publishes QoS 1 as fast as the broker acknowledges, keeping `window` messages in flight. */
export async function flood(kits: LoadKit[], seconds: number, window = 32): Promise<void> {
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    kits.map(
      (kit) =>
        new Promise<void>((resolve) => {
          let inFlight = 0;
          const pump = () => {
            while (inFlight < window && Date.now() < until) {
              inFlight++;
              const seq = kit.sent++;
              kit.client.publish(kitTopic(kit.kitId, 'telemetry'), payload(seq), { qos: 1 }, (error) => {
                inFlight--;
                if (!error) kit.acked++;
                if (Date.now() < until) setImmediate(pump);
                else if (inFlight === 0) resolve();
              });
            }
            if (inFlight === 0 && Date.now() >= until) resolve();
          };
          pump();
        }),
    ),
  );
}

/** Publishes at a steady total rate (messages/s) spread over the kits, for `seconds`. */
export async function steady(kits: LoadKit[], messagesPerSecond: number, seconds: number): Promise<void> {
  const tickMs = 20;
  const perTick = (messagesPerSecond * tickMs) / 1000;
  let owed = 0;
  let next = 0;
  const start = Date.now();
  while (Date.now() - start < seconds * 1000) {
    owed += perTick;
    while (owed >= 1) {
      owed--;
      const kit = kits[next++ % kits.length] as LoadKit;
      const seq = kit.sent++;
      kit.publishedAt.set(seq, Date.now());
      kit.client.publish(kitTopic(kit.kitId, 'telemetry'), payload(seq), { qos: 1 }, (error) => {
        if (!error) kit.acked++;
      });
    }
    const wait = start + Math.ceil((Date.now() - start + 1) / tickMs) * tickMs - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
}

export async function disconnect(kits: LoadKit[]): Promise<void> {
  await Promise.all(kits.map((kit) => kit.client.endAsync()));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Registers `count` kits `<prefix>-0000`… in the lab database (closed afterwards); returns their secrets. */
export async function registerKits(
  db: LabDb,
  prefix: string,
  count: number,
): Promise<{ kitId: string; secret: string }[]> {
  const registry = new KitRegistry(db);
  const kits = [];
  try {
    for (let i = 0; i < count; i++) {
      const kitId = `${prefix}-${String(i).padStart(4, '0')}`;
      kits.push({ kitId, secret: (await registry.addKit({ id: kitId })).secret });
    }
  } finally {
    await db.close();
  }
  return kits;
}

const DAY = 86_400_000;

/** Readings the store holds of these kits (within a day of now). */
export async function totalStored(store: TelemetryStore, kitIds: readonly string[]): Promise<number> {
  let total = 0;
  const range = { from: Date.now() - DAY, to: Date.now() + DAY };
  for (const kitId of kitIds) total += await store.count({ kitId, ...range });
  return total;
}
