import mqtt, { type MqttClient } from 'mqtt';
import { allKitsTopic, type KitErrorMessage, kitTopic, parseKitTopic } from '../protocol/index.ts';
import type { Ingest } from './ingest.ts';

export interface ExternalIngestOptions {
  /** e.g. mqtt://mosquitto.lab:1883 */
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  ingest: Ingest;
  /** Only telemetry of registered kits is stored; the rest is refused with UNKNOWN_KIT. */
  kitExists: (kitId: string) => Promise<boolean>;
}

export interface ExternalIngest {
  readonly client: MqttClient;
  close(): Promise<void>;
}

/**
 * Ingest for sites that already run a broker (e.g. Mosquitto): subscribe to every kit's
 * telemetry, events and commands there and feed the same ingest. A persistent session (clean: false, QoS 1) keeps
 * the external broker queueing telemetry while the platform restarts.
 */
export async function startExternalIngest(options: ExternalIngestOptions): Promise<ExternalIngest> {
  const { ingest } = options;
  const client = await mqtt.connectAsync(options.url, {
    clientId: options.clientId ?? 'iotlab-ingest',
    clean: false,
    reconnectPeriod: 1_000,
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
  });
  const notify = (kitId: string, message: KitErrorMessage): void => {
    client.publish(kitTopic(kitId, 'errors'), JSON.stringify(message), { qos: 0 });
  };
  ingest.addNotifier(notify);
  // Messages are handled one after another so the kit lookup cannot reorder a kit's readings.
  let chain = Promise.resolve();
  client.on('message', (topic, payload) => {
    chain = chain.then(async () => {
      const target = parseKitTopic(topic);
      if (!target) return;
      if (await options.kitExists(target.kitId)) {
        if (target.channel === 'telemetry') ingest.telemetry(target.kitId, topic, payload);
        else if (target.channel === 'events') {
          const problem = ingest.event(target.kitId, payload);
          if (problem) ingest.report(target.kitId, topic, problem);
        } else if (target.channel === 'commands') ingest.command(target.kitId, payload);
      } else if (target.channel === 'telemetry') {
        ingest.report(target.kitId, topic, {
          code: 'UNKNOWN_KIT',
          severity: 'refused',
          message: `kit "${target.kitId}" is not registered on the platform; ask your instructor to add it`,
        });
      }
    });
  });
  await client.subscribeAsync(
    ['telemetry', 'events', 'commands'].map((channel) => allKitsTopic(channel as 'telemetry')),
    { qos: 1 },
  );
  return {
    client,
    async close() {
      await chain;
      await client.endAsync();
    },
  };
}
