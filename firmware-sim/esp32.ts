import mqtt, { type MqttClient } from 'mqtt';
import { type KitCommand, kitTopic, type TelemetryPayload } from '../protocol/index.ts';
import type { KitModel } from './model.ts';

export interface SimulatedEsp32Options {
  model: KitModel;
  /** mqtt://host:1883 or ws://host:8080/mqtt */
  url: string;
  username: string;
  password: string;
  firmware?: string;
  /** Whether the kit sends its own clock as `ts` (an ESP32 with NTP does). Default true. */
  sendsTime?: boolean;
}

/**
 * An ESP32 kit on Wi-Fi, speaking exactly what the reference sketch speaks: it connects with its
 * credentials and a last will, announces itself online (retained), publishes telemetry with a
 * sequence number and its actuators' states, raises events, and obeys commands. A Wi-Fi drop
 * cuts the connection without a goodbye; readings measured meanwhile are lost, as on the board.
 */
export class SimulatedEsp32Kit {
  readonly kitId: string;
  readonly #options: SimulatedEsp32Options;
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #sent = 0;
  #stopped = false;
  #connecting: Promise<void> | undefined;

  constructor(options: SimulatedEsp32Options) {
    this.kitId = options.model.spec.id;
    this.#options = options;
  }

  /** Telemetry messages published so far. */
  get sent(): number {
    return this.#sent;
  }

  async start(): Promise<void> {
    await this.#connect();
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#connecting?.catch(() => {});
    await this.#client?.endAsync();
  }

  #connect(): Promise<void> {
    const { url, username, password } = this.#options;
    const topic = (channel: 'status' | 'commands') => kitTopic(this.kitId, channel);
    this.#connecting = mqtt
      .connectAsync(url, {
        clientId: this.kitId,
        username,
        password,
        keepalive: 30,
        reconnectPeriod: 0, // the sketch's loop() reconnects; here the tick does
        will: { topic: topic('status'), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
      })
      .then(async (client) => {
        this.#client = client;
        client.on('message', (_topic, payload) => {
          try {
            this.#options.model.command(JSON.parse(payload.toString('utf8')) as KitCommand);
          } catch {
            // the sketch ignores what it cannot parse
          }
        });
        await client.subscribeAsync(topic('commands'), { qos: 1 });
        const firmware = this.#options.firmware ?? 'iotlab-sim-esp32/0.2';
        await client.publishAsync(topic('status'), JSON.stringify({ state: 'online', firmware }), {
          qos: 1,
          retain: true,
        });
      })
      .finally(() => {
        this.#connecting = undefined;
      });
    return this.#connecting;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(), delayMs);
  }

  #tick(): void {
    const { model } = this.#options;
    const now = Date.now();
    const transport = model.transport(now);
    const readings = { ...model.sample(now), ...model.actuators() };
    const events = model.events(now);
    const client = this.#client;
    if (!transport.connected) {
      if (client?.connected) {
        client.stream.destroy(); // Wi-Fi gone: no DISCONNECT, the broker publishes the last will
        client.end(true);
      }
    } else if (!client?.connected) {
      if (!this.#connecting) void this.#connect().catch(() => {});
    } else {
      const payload: TelemetryPayload & { readings: Record<string, number | null> } = {
        seq: this.#seq,
        readings: readings as Record<string, number>,
      };
      if (this.#options.sendsTime !== false) payload.ts = now + transport.clockSkewMs;
      client.publish(kitTopic(this.kitId, 'telemetry'), JSON.stringify(payload), { qos: 1 });
      for (const event of events) {
        client.publish(
          kitTopic(this.kitId, 'events'),
          JSON.stringify({ ...event, ts: now + transport.clockSkewMs }),
          {
            qos: 1,
          },
        );
      }
      this.#sent++;
    }
    this.#seq++; // the counter runs on while offline: the gap shows the loss
    this.#schedule(transport.intervalMs);
  }
}
