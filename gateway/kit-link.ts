import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type KitCommand, kitTopic, type TelemetryPayload } from '../protocol/index.ts';
import { Spool } from '../spool/index.ts';

export interface KitCredentials {
  username: string;
  password: string;
}

export interface KitLinkOptions {
  kitId: string;
  brokerUrl: string;
  credentials: KitCredentials;
  /** The gateway's outbox directory; each kit gets a folder in it. */
  outboxDir: string;
  firmware?: string;
  onCommand: (command: KitCommand) => void;
  onError: (error: Error) => void;
  /** TLS: CA of the broker's certificate. */
  ca?: Buffer;
}

const PUMP_INTERVAL_MS = 50;

/**
 * A USB kit's presence on the broker: one MQTT connection as that kit (last will: offline),
 * its commands coming down, and its readings going up through an on-disk outbox. A reading
 * leaves the outbox only after the broker acknowledged it (QoS 1), so a broker restart or a cut
 * network loses nothing; what is resent after a gateway crash overwrites (same kit and time).
 */
export class KitLink {
  readonly kitId: string;
  readonly #options: KitLinkOptions;
  readonly #outbox: Spool<TelemetryPayload>;
  #client: MqttClient | undefined;
  #pumpTimer: NodeJS.Timeout | undefined;
  #pumping: Promise<void> | undefined;
  #sent = 0;
  #closed = false;

  constructor(options: KitLinkOptions) {
    this.kitId = options.kitId;
    this.#options = options;
    // No fsync per line: the outbox guards against broker and network outages, and the page
    // cache keeps it across a crash of this process; only a power cut can lose the last lines.
    this.#outbox = new Spool<TelemetryPayload>(join(options.outboxDir, options.kitId), { sync: false });
  }

  /** Readings acknowledged by the broker. */
  get delivered(): number {
    return this.#sent;
  }

  /** Readings waiting in the outbox. */
  get pending(): number {
    return this.#outbox.pendingRecords;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  start(): void {
    const { kitId, brokerUrl, credentials } = this.#options;
    const client = mqtt.connect(brokerUrl, {
      clientId: `gw-${kitId}`.slice(0, 64),
      username: credentials.username,
      password: credentials.password,
      keepalive: 30,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      will: {
        topic: kitTopic(kitId, 'status'),
        payload: Buffer.from('{"state":"offline"}'),
        qos: 1,
        retain: true,
      },
      ...(this.#options.ca ? { ca: this.#options.ca } : {}),
    });
    this.#client = client;
    client.on('connect', () => {
      const status = {
        state: 'online',
        via: 'usb',
        ...(this.#options.firmware ? { firmware: this.#options.firmware } : {}),
      };
      client.publish(kitTopic(kitId, 'status'), JSON.stringify(status), { qos: 1, retain: true });
      client.subscribe(kitTopic(kitId, 'commands'), { qos: 1 });
    });
    client.on('message', (_topic, payload) => {
      try {
        this.#options.onCommand(JSON.parse(payload.toString('utf8')) as KitCommand);
      } catch {
        this.#options.onError(new Error(`kit ${kitId}: a command that is not JSON was ignored`));
      }
    });
    client.on('error', (error) => this.#options.onError(error));
    this.#pumpTimer = setInterval(() => this.#pump(), PUMP_INTERVAL_MS);
  }

  /** Queues a reading set for the broker. */
  send(payload: TelemetryPayload): void {
    this.#outbox.append([payload]);
  }

  setFirmware(firmware: string): void {
    this.#options.firmware = firmware;
    if (this.#client?.connected) {
      const status = { state: 'online', via: 'usb', firmware };
      this.#client.publish(kitTopic(this.kitId, 'status'), JSON.stringify(status), { qos: 1, retain: true });
    }
  }

  /**
   * Stops: waits (up to `drainMs`) for the outbox to be delivered, marks the kit offline, and
   * disconnects. Undelivered readings stay in the outbox for the next start.
   */
  async stop(drainMs = 5_000): Promise<void> {
    const deadline = Date.now() + drainMs;
    while (this.#outbox.pendingRecords > 0 && this.connected && Date.now() < deadline) {
      this.#pump();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.#closed = true;
    if (this.#pumpTimer) clearInterval(this.#pumpTimer);
    const client = this.#client;
    if (client) {
      if (client.connected) {
        await client
          .publishAsync(kitTopic(this.kitId, 'status'), '{"state":"offline"}', { qos: 1, retain: true })
          .catch(() => {});
      }
      await client.endAsync(true);
    }
    this.#outbox.close();
  }

  #pump(): void {
    const client = this.#client;
    if (this.#pumping || this.#closed || !client?.connected || this.#outbox.isEmpty) return;
    const topic = kitTopic(this.kitId, 'telemetry');
    this.#pumping = this.#outbox
      .replay(async (batch) => {
        await Promise.all(
          batch.map((payload) => client.publishAsync(topic, JSON.stringify(payload), { qos: 1 })),
        );
        this.#sent += batch.length;
      })
      .then(
        () => undefined,
        () => undefined, // disconnected mid-batch: the batch stays in the outbox and goes again
      )
      .finally(() => {
        this.#pumping = undefined;
      });
  }
}
