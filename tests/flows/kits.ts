import type { MqttClient } from 'mqtt';
import { createKitModel, type KitModel, SimulatedEsp32Kit } from '../../firmware-sim/index.ts';
import type { KitCommand } from '../../protocol/index.ts';
import { connect, eventually } from '../helpers/platform.ts';

/**
 * A kit driven by the test: connects with its own credentials and a last will, publishes the
 * telemetry it is told to (with its actuators' states, as the reference sketch does), and obeys
 * commands (records them and switches its actuators).
 */
export class ScriptedKit {
  readonly commands: KitCommand[] = [];
  readonly actuators: Record<string, number> = {};
  #client!: MqttClient;
  #seq = 0;

  private constructor(readonly kitId: string) {}

  static async connect(url: string, kitId: string, secret: string): Promise<ScriptedKit> {
    const kit = new ScriptedKit(kitId);
    const status = `iotlab/v1/kits/${kitId}/status`;
    kit.#client = await connect(url, {
      clientId: kitId,
      username: kitId,
      password: secret,
      will: { topic: status, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    kit.#client.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as KitCommand;
      kit.commands.push(command);
      if (typeof command.value === 'number' || typeof command.value === 'boolean')
        kit.actuators[command.command] = Number(command.value);
    });
    await kit.#client.subscribeAsync(`iotlab/v1/kits/${kitId}/commands`, { qos: 1 });
    await kit.#client.publishAsync(status, '{"state":"online","firmware":"scripted"}', {
      qos: 1,
      retain: true,
    });
    return kit;
  }

  /** Publishes one telemetry message (its actuators' states added) and returns its ts. */
  async send(readings: Record<string, number>, ts = Date.now()): Promise<number> {
    await this.#client.publishAsync(
      `iotlab/v1/kits/${this.kitId}/telemetry`,
      JSON.stringify({ ts, seq: this.#seq++, readings: { ...readings, ...this.actuators } }),
      { qos: 1 },
    );
    return ts;
  }

  /** Waits until a command matching `match` has arrived. */
  async commandArrives(match: (command: KitCommand) => boolean, what: string): Promise<KitCommand> {
    await eventually(() => this.commands.some(match), 10_000, what);
    return this.commands.find(match) as KitCommand;
  }

  close(): Promise<void> {
    return this.#client.endAsync();
  }
}

/**
 * A simulated ESP32 kit (firmware-sim: physics, sensors, actuators obeying commands) with some
 * readings pinned by the test, e.g. the soil made dry without waiting hours for it.
 */
export function pinnedSimKit(
  url: string,
  kitId: string,
  secret: string,
  profile = 'greenhouse',
): { kit: SimulatedEsp32Kit; model: KitModel; pin: Record<string, number>; commands: KitCommand[] } {
  const real = createKitModel({ id: kitId, kind: 'esp32', profile, intervalMs: 200, faults: [], seed: 7 });
  const pin: Record<string, number> = {};
  const commands: KitCommand[] = [];
  const model: KitModel = {
    spec: real.spec,
    sensors: real.sensors,
    sample: (now) => ({ ...real.sample(now), ...pin }),
    events: (now) => real.events(now),
    transport: (now) => real.transport(now),
    command: (command) => {
      commands.push(command);
      real.command(command);
    },
    actuators: () => real.actuators(),
  };
  const kit = new SimulatedEsp32Kit({ model, url, username: kitId, password: secret });
  return { kit, model, pin, commands };
}
