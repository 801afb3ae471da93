import { SerialPort } from 'serialport';
import type { FirmataPinMap, GatewayPortConfig } from '../gateway/index.ts';
import { sensorSpec } from '../protocol/index.ts';
import { SimulatedEsp32Kit } from './esp32.ts';
import { FirmataBoardEmulator } from './firmata-board.ts';
import { createKitModel } from './kit-model.ts';
import type { KitModel, SimKitSpec } from './model.ts';
import { getProfile } from './physics/index.ts';
import { findSocat, type PtyPair, startPtyPair } from './pty.ts';
import type { Scenario } from './scenario.ts';
import { SimulatedSerialKit } from './serial-kit.ts';

/** Pins the simulated Firmata boards use for actuators, by name (relays, LED, buzzer). */
const ACTUATOR_PINS: Record<string, string> = {
  led: 'D13',
  fan: 'D8',
  pump: 'D9',
  compressor: 'D10',
  buzzer: 'D3',
  relay: 'D12',
};
const DIGITAL_INPUT_PINS = ['D2', 'D4', 'D7'];

interface FirmataPlan {
  pinMap: FirmataPinMap;
  /** A channel → the sensor on it and the unit range its 0–1023 spans. */
  analog: { sensor: string; low: number; high: number }[];
  /** Digital input pin number → sensor. */
  digital: Map<number, string>;
}

/**
 * How a simulated kit of a profile is wired to a StandardFirmata board: analog sensors on A0…,
 * 0/1 sensors on D2/D4/D7, actuators on fixed pins. The gateway gets the same pin map.
 */
export function firmataPlan(profileName: string): FirmataPlan {
  const profile = getProfile(profileName);
  if (!profile) throw new Error(`unknown profile "${profileName}"`);
  const pinMap: FirmataPinMap = {};
  const analog: FirmataPlan['analog'] = [];
  const digital = new Map<number, string>();
  for (const sensor of profile.sensors) {
    if (sensor.binary) {
      const pin = DIGITAL_INPUT_PINS[digital.size];
      if (!pin) continue;
      digital.set(Number(pin.slice(1)), sensor.name);
      pinMap[pin] = { sensor: sensor.name };
    } else if (analog.length < 6) {
      const spec = sensorSpec(sensor.name);
      const low = spec?.min ?? 0;
      const high = spec?.max ?? sensor.nominal * 4;
      pinMap[`A${analog.length}`] = { sensor: sensor.name, scale: [0, 1023, low, high] };
      analog.push({ sensor: sensor.name, low, high });
    }
  }
  for (const actuator of profile.actuators) {
    const pin = ACTUATOR_PINS[actuator];
    if (!pin) continue;
    pinMap[pin] = actuator === 'led' || actuator === 'buzzer' ? { actuator } : { actuator, kind: 'relay' };
  }
  return { pinMap, analog, digital };
}

export interface SimulationStartOptions {
  /** Broker for the Wi-Fi kits, e.g. mqtt://127.0.0.1:1883. */
  brokerUrl: string;
  /** MQTT credentials of a Wi-Fi kit. */
  credentials: (kitId: string) => { username: string; password: string };
}

/**
 * A running scenario: every kit on its real wire. Wi-Fi kits connect to the broker themselves;
 * USB (line-printing and Firmata) kits sit at the far end of socat ptys, whose near ends a gateway
 * opens (`gatewayPorts()`).
 */
export class Simulation {
  readonly scenario: Scenario;
  readonly models = new Map<string, KitModel>();
  readonly #ptys = new Map<string, PtyPair>();
  readonly #stoppers: (() => Promise<unknown>)[] = [];
  readonly #esp32 = new Map<string, SimulatedEsp32Kit>();
  readonly #serial = new Map<string, SimulatedSerialKit>();

  private constructor(scenario: Scenario) {
    this.scenario = scenario;
    for (const spec of scenario.kits) {
      this.models.set(
        spec.id,
        createKitModel(spec, (id) => this.models.get(id)),
      );
    }
  }

  /** Prepares the kits; USB kits get their pty pairs now (needs socat), so a gateway can be pointed at them. */
  static async prepare(scenario: Scenario): Promise<Simulation> {
    const simulation = new Simulation(scenario);
    const usbKits = scenario.kits.filter((spec) => spec.kind !== 'esp32');
    if (usbKits.length > 0 && !findSocat()) {
      throw new Error(
        `scenario ${scenario.name} has ${usbKits.length} USB kits, which need socat (apt-get install socat)`,
      );
    }
    for (const spec of usbKits) simulation.#ptys.set(spec.id, await startPtyPair());
    return simulation;
  }

  /** The ports a gateway must watch for the USB kits, each bound to its kit (Firmata boards with their pin maps). */
  gatewayPorts(): GatewayPortConfig[] {
    return this.scenario.kits
      .filter((spec) => this.#ptys.has(spec.id))
      .map((spec) => {
        const path = (this.#ptys.get(spec.id) as PtyPair).a;
        return spec.kind === 'firmata'
          ? {
              path,
              mode: 'firmata',
              kitId: spec.id,
              pinMap: firmataPlan(spec.profile).pinMap,
              sampleIntervalMs: spec.intervalMs,
            }
          : // The simulator knows which kit is on the port: bound, the gateway never has to wait for
            // the sketch's `# kit=` line (and never calls a kit that starts late an unknown board).
            { path, kitId: spec.id };
      });
  }

  /** Telemetry messages (or lines) each kit has sent so far; Firmata boards are sampled by the gateway. */
  sent(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [id, kit] of this.#esp32) counts[id] = kit.sent;
    for (const [id, kit] of this.#serial) counts[id] = kit.sent;
    return counts;
  }

  async start(options: SimulationStartOptions): Promise<void> {
    for (const spec of this.scenario.kits) {
      const model = this.models.get(spec.id) as KitModel;
      if (spec.kind === 'esp32') await this.#startEsp32(spec, model, options);
      else if (spec.kind === 'arduino') await this.#startArduino(spec, model);
      else await this.#startFirmata(spec, model);
    }
  }

  async stop(): Promise<void> {
    for (const stop of this.#stoppers.splice(0).reverse()) await stop().catch(() => {});
    for (const pair of this.#ptys.values()) await pair.stop();
    this.#ptys.clear();
  }

  async #startEsp32(spec: SimKitSpec, model: KitModel, options: SimulationStartOptions): Promise<void> {
    const kit = new SimulatedEsp32Kit({ model, url: options.brokerUrl, ...options.credentials(spec.id) });
    await kit.start();
    this.#esp32.set(spec.id, kit);
    this.#stoppers.push(() => kit.stop());
  }

  async #startArduino(spec: SimKitSpec, model: KitModel): Promise<void> {
    const pair = this.#ptys.get(spec.id) as PtyPair;
    // Kits alternate between the sketches' two line formats, as a class would.
    const format = spec.seed % 2 === 0 ? 'json' : 'plotter';
    const kit = new SimulatedSerialKit({
      kitId: spec.id,
      path: pair.b,
      model,
      format,
      intervalMs: spec.intervalMs,
    });
    await kit.start();
    this.#serial.set(spec.id, kit);
    this.#stoppers.push(() => kit.stop());
  }

  async #startFirmata(spec: SimKitSpec, model: KitModel): Promise<void> {
    const pair = this.#ptys.get(spec.id) as PtyPair;
    const plan = firmataPlan(spec.profile);
    const port = new SerialPort({ path: pair.b, baudRate: 57_600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    let latest: Record<string, number | null> = {};
    // The board's inputs follow the model; the gateway samples them at its own rate.
    const timer = setInterval(() => {
      const now = Date.now();
      latest = model.sample(now);
      if (model.transport(now).garbage) port.write(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80]));
    }, 100);
    const board = new FirmataBoardEmulator(port, {
      analogValue: (channel) => {
        const wiring = plan.analog[channel];
        const value = wiring ? latest[wiring.sensor] : undefined;
        // An unplugged analog pin floats: it reads noise.
        if (!wiring || value === null || value === undefined) return Math.floor(Math.random() * 1024);
        return Math.round(((value - wiring.low) / (wiring.high - wiring.low)) * 1023);
      },
      digitalValue: (pin) => (latest[plan.digital.get(pin) ?? ''] ? 1 : 0),
      onWrite: (pin, _mode, value) => {
        const actuator = Object.entries(ACTUATOR_PINS).find(([, name]) => name === `D${pin}`)?.[0];
        if (actuator) model.command({ command: actuator, value });
      },
    });
    this.#stoppers.push(async () => {
      clearInterval(timer);
      board.close();
      if (port.isOpen) await new Promise((resolve) => port.close(resolve));
    });
  }
}
