import mqtt, { type MqttClient } from 'mqtt';
import { kitTopic, type TelemetryPayload } from '../protocol/index.ts';

export interface SimulatedKitOptions {
  kitId: string;
  secret: string;
  /** mqtt://host:1883 or ws://host:8080/mqtt */
  url: string;
  /** Time between telemetry messages. */
  intervalMs?: number;
  /** QoS of telemetry (0 or 1). */
  qos?: 0 | 1;
  /** Produces the readings of one message; defaults to a greenhouse kit. */
  readings?: (now: number, seq: number) => Record<string, number>;
  firmware?: string;
}

/** A greenhouse kit: DHT22, LDR and soil moisture, with slow drift and sensor noise. */
export function greenhouseReadings(kitIndex: number): (now: number, seq: number) => Record<string, number> {
  const phase = kitIndex * 0.7;
  const noise = (scale: number) => (Math.random() - 0.5) * scale;
  return (now) => {
    const hours = now / 3_600_000;
    const daylight = Math.max(0, Math.sin(((hours % 24) / 24) * 2 * Math.PI - Math.PI / 2 + phase));
    return {
      temperature: round(24 + 3 * Math.sin(now / 600_000 + phase) + noise(0.2), 1),
      humidity: round(60 - 8 * Math.sin(now / 900_000 + phase) + noise(1), 1),
      light: round(200 + 800 * daylight + noise(20), 0),
      soil_moisture: round(45 + 10 * Math.cos(now / 1_800_000 + phase) + noise(0.5), 1),
    };
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * An ESP32 kit on Wi-Fi, speaking exactly what the reference sketch speaks: it connects with
 * its id and secret, sets its last will, announces itself online (retained) and publishes
 * telemetry with a sequence number.
 */
export class SimulatedEsp32Kit {
  readonly kitId: string;
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  readonly #options: SimulatedKitOptions;
  #sent = 0;

  constructor(options: SimulatedKitOptions) {
    this.kitId = options.kitId;
    this.#options = options;
  }

  /** Messages published so far. */
  get sent(): number {
    return this.#sent;
  }

  async start(): Promise<void> {
    const { kitId, secret, url } = this.#options;
    this.#client = await mqtt.connectAsync(url, {
      clientId: kitId,
      username: kitId,
      password: secret,
      keepalive: 30,
      reconnectPeriod: 2_000,
      will: {
        topic: kitTopic(kitId, 'status'),
        payload: Buffer.from('{"state":"offline"}'),
        qos: 1,
        retain: true,
      },
    });
    await this.#client.publishAsync(
      kitTopic(kitId, 'status'),
      JSON.stringify({ state: 'online', firmware: this.#options.firmware ?? 'iotlab-sim/0.1' }),
      { qos: 1, retain: true },
    );
    const interval = this.#options.intervalMs ?? 1_000;
    this.#timer = setInterval(() => this.publishOnce(), interval);
  }

  /** Publishes one telemetry message now. */
  publishOnce(): void {
    const client = this.#client;
    if (!client) return;
    const now = Date.now();
    const readings = (this.#options.readings ?? greenhouseReadings(0))(now, this.#seq);
    const payload: TelemetryPayload = { seq: this.#seq++, readings };
    client.publish(kitTopic(this.kitId, 'telemetry'), JSON.stringify(payload), {
      qos: this.#options.qos ?? 0,
    });
    this.#sent++;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#client?.endAsync();
  }
}
