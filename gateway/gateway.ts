import mqtt, { type MqttClient } from 'mqtt';
import {
  gatewayStatusTopic,
  isValidKitId,
  type KitCommand,
  type TelemetryPayload,
} from '../protocol/index.ts';
import { type FoundPort, findPorts } from './discovery.ts';
import { FirmataKit, type FirmataPinMap } from './firmata/index.ts';
import { type KitCredentials, KitLink } from './kit-link.ts';
import { newPortStats, type PortStats, SerialKitPort } from './serial-kit-port.ts';

export interface GatewayPortConfig {
  /** e.g. /dev/ttyACM0, /dev/ttyUSB1, or a pty path. */
  path: string;
  /** The kit on this port, when its sketch does not say (`# kit=…`); required for Firmata boards. */
  kitId?: string;
  baudRate?: number;
  /** `lines` (default): the sketch prints readings. `firmata`: a StandardFirmata board read through johnny-five. */
  mode?: 'lines' | 'firmata';
  /** Firmata: which pin carries which sensor or actuator, e.g. {"A0": {"sensor": "light"}, "D13": {"actuator": "led"}}. */
  pinMap?: FirmataPinMap;
  /** Firmata: time between published samples (default 1000 ms). */
  sampleIntervalMs?: number;
}

/** What the gateway reads a kit through: a line-printing sketch or a Firmata board. */
interface KitSource {
  readonly stats: PortStats;
  readonly overlongLines: number;
  command(command: KitCommand): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface GatewayOptions {
  /** The gateway's service account: it connects USB kits as `kitId@name` and publishes its status. */
  service: { name: string; secret: string };
  brokerUrl: string;
  /** Ports to watch besides USB discovery. */
  ports: readonly GatewayPortConfig[];
  /** USB serial number → kit id (the registry's bindings). */
  usbSerials?: Readonly<Record<string, string>>;
  /** Kits that connect with their own secret instead of through the gateway's account. */
  kitSecrets?: Readonly<Record<string, string>>;
  /** Also open USB ports of known boards (needs udevadm). */
  scanUsb: boolean;
  baudRate: number;
  outboxDir: string;
  scanIntervalMs?: number;
  /** How long a port may send lines without saying which kit it is before it is reported. */
  identifyTimeoutMs?: number;
  /** Status publishing period. */
  statusIntervalMs?: number;
  logger?: GatewayLogger;
  ca?: Buffer;
}

type IdentifiedBy = 'metadata' | 'usb-serial' | 'config';

interface AttachedPort {
  found: FoundPort;
  /** Undefined while the port is opening. */
  port?: KitSource;
  kitId?: string;
  identifiedBy?: IdentifiedBy;
  firmware?: string;
  /** Readings that arrived before the kit said who it is (kept, then sent once it does). */
  waiting: TelemetryPayload[];
  /** Readings dropped because the port stayed unidentified past the waiting room. */
  unidentifiedDropped: number;
  identifyTimer?: NodeJS.Timeout;
  reportedUnknown: boolean;
}

export interface GatewayStatus {
  name: string;
  state: 'online' | 'offline';
  ts: number;
  ports: (PortStats & {
    kitId: string | null;
    identifiedBy: IdentifiedBy | null;
    chip: string | null;
    firmware: string | null;
    unidentifiedDropped: number;
  })[];
  kits: { kitId: string; connected: boolean; delivered: number; pending: number }[];
}

const WAITING_ROOM = 200;

/**
 * The serial gateway: watches for USB kits, reads their lines, and puts their readings on the
 * broker as those kits. It knows MQTT and the wire contract, nothing of the store.
 */
export class SerialGateway {
  readonly #options: GatewayOptions;
  readonly #log: GatewayLogger;
  readonly #ports = new Map<string, AttachedPort>();
  readonly #links = new Map<string, KitLink>();
  readonly #lastStamp = new Map<string, number>();
  #statusClient: MqttClient | undefined;
  #scanTimer: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #scanning = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #usbSerials: Readonly<Record<string, string>>;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#log = options.logger ?? { info() {}, warn() {} };
    this.#usbSerials = options.usbSerials ?? {};
  }

  /** Replaces the USB serial number → kit bindings (the registry changed); open ports follow them. */
  setUsbSerials(bindings: Readonly<Record<string, string>>): void {
    this.#usbSerials = bindings;
    for (const attached of this.#ports.values()) {
      const serial = attached.found.usbSerialNumber;
      const bound = serial ? bindings[serial] : undefined;
      if (bound && attached.identifiedBy !== 'metadata' && attached.kitId !== bound) {
        this.#identify(attached, bound, 'usb-serial');
      }
    }
  }

  async start(): Promise<void> {
    const { service, brokerUrl } = this.#options;
    this.#statusClient = await mqtt.connectAsync(brokerUrl, {
      clientId: `gateway-${service.name}`,
      username: `service:${service.name}`,
      password: service.secret,
      reconnectPeriod: 1_000,
      will: {
        topic: gatewayStatusTopic(service.name),
        payload: Buffer.from(JSON.stringify({ name: service.name, state: 'offline' })),
        qos: 1,
        retain: true,
      },
      ...(this.#options.ca ? { ca: this.#options.ca } : {}),
    });
    await this.#scan();
    this.#scanTimer = setInterval(() => void this.#scan(), this.#options.scanIntervalMs ?? 500);
    this.#statusTimer = setInterval(() => this.#publishStatus(), this.#options.statusIntervalMs ?? 5_000);
    this.#publishStatus();
  }

  status(): GatewayStatus {
    return {
      name: this.#options.service.name,
      state: this.#stopped ? 'offline' : 'online',
      ts: Date.now(),
      // Ports still opening (a Firmata board takes seconds to answer) are left out until they are open.
      ports: [...this.#ports.values()].flatMap(({ port, ...attached }) =>
        port
          ? [
              {
                ...port.stats,
                linesBad: port.stats.linesBad + port.overlongLines,
                kitId: attached.kitId ?? null,
                identifiedBy: attached.identifiedBy ?? null,
                chip: attached.found.chip ?? null,
                firmware: attached.firmware ?? null,
                unidentifiedDropped: attached.unidentifiedDropped,
              },
            ]
          : [],
      ),
      kits: [...this.#links.values()].map((link) => ({
        kitId: link.kitId,
        connected: link.connected,
        delivered: link.delivered,
        pending: link.pending,
      })),
    };
  }

  /** The link of a kit (tests and the status use it). */
  link(kitId: string): KitLink | undefined {
    return this.#links.get(kitId);
  }

  /** Closes the ports and the kits' connections; a planned stop, so nothing is reported as unplugged. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    if (this.#scanTimer) clearInterval(this.#scanTimer);
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    for (const attached of this.#ports.values()) {
      if (attached.identifyTimer) clearTimeout(attached.identifyTimer);
      await attached.port?.close();
    }
    this.#ports.clear();
    await Promise.all([...this.#links.values()].map((link) => link.stop()));
    this.#links.clear();
    const client = this.#statusClient;
    if (client) {
      await client
        .publishAsync(gatewayStatusTopic(this.#options.service.name), JSON.stringify(this.status()), {
          qos: 1,
          retain: true,
        })
        .catch(() => {});
      await client.endAsync();
    }
  }

  async #scan(): Promise<void> {
    if (this.#scanning || this.#stopped) return;
    this.#scanning = true;
    try {
      const configured = this.#options.ports.map((port) => port.path);
      for (const found of await findPorts(configured, this.#options.scanUsb)) {
        // Not awaited: a Firmata board can take seconds to answer, and other ports must not wait for it.
        if (!this.#ports.has(found.path)) void this.#attach(found);
      }
    } finally {
      this.#scanning = false;
    }
  }

  async #attach(found: FoundPort): Promise<void> {
    const config = this.#options.ports.find((port) => port.path === found.path);
    const attached: AttachedPort = {
      found,
      waiting: [],
      unidentifiedDropped: 0,
      reportedUnknown: false,
    };
    this.#ports.set(found.path, attached);
    try {
      attached.port =
        config?.mode === 'firmata'
          ? await this.#openFirmata(attached, config)
          : await this.#openLines(attached, config?.baudRate ?? this.#options.baudRate);
    } catch (error) {
      this.#ports.delete(found.path);
      this.#log.warn(
        { path: found.path, err: (error as Error).message },
        'cannot open serial port; will retry',
      );
      return;
    }
    if (this.#stopped) {
      await attached.port.close(); // stopped while the port was opening
      return;
    }
    this.#log.info(
      {
        path: found.path,
        chip: found.chip,
        usbSerialNumber: found.usbSerialNumber,
        mode: config?.mode ?? 'lines',
      },
      'serial port opened',
    );
    const bound = found.usbSerialNumber ? this.#usbSerials[found.usbSerialNumber] : undefined;
    if (bound) this.#identify(attached, bound, 'usb-serial');
    else if (config?.kitId) this.#identify(attached, config.kitId, 'config');
    else {
      attached.identifyTimer = setTimeout(
        () => this.#reportUnknown(attached),
        this.#options.identifyTimeoutMs ?? 5_000,
      );
    }
    this.#publishStatus();
  }

  async #openLines(attached: AttachedPort, baudRate: number): Promise<KitSource> {
    const port = new SerialKitPort({
      path: attached.found.path,
      baudRate,
      ...(attached.found.usbSerialNumber ? { usbSerialNumber: attached.found.usbSerialNumber } : {}),
      onLine: (line, receivedAt) => {
        if (line.kind === 'meta') this.#meta(attached, line.meta);
        else if (line.kind === 'telemetry') this.#readings(attached, line.value, receivedAt);
      },
      onClose: (error) => void this.#detach(attached, error),
    });
    await port.open();
    return {
      stats: port.stats,
      get overlongLines() {
        return port.overlongLines;
      },
      command: (command) => port.write(JSON.stringify(command)),
      close: () => port.close(),
    };
  }

  async #openFirmata(attached: AttachedPort, config: GatewayPortConfig): Promise<KitSource> {
    const baudRate = config.baudRate ?? 57_600;
    const stats = newPortStats(attached.found.path, baudRate);
    const board = await FirmataKit.open({
      path: attached.found.path,
      baudRate,
      pinMap: config.pinMap ?? {},
      sampleIntervalMs: config.sampleIntervalMs ?? 1_000,
      onReadings: (readings) => {
        const now = Date.now();
        stats.linesGood++; // one sample of the board counts as one line
        stats.lastLineAt = now;
        if (Object.keys(readings).length > 0) this.#readings(attached, { readings }, now);
      },
      onError: (error) => {
        // A board that went away is reported once, by onClose; a stop closes boards on purpose.
        if (error.code === 'FIRMATA_DISCONNECTED' || this.#stopped) return;
        this.#log.warn({ path: attached.found.path, err: error.message }, 'Firmata board problem');
      },
      onClose: (error) => {
        stats.state = 'closed';
        void this.#detach(attached, error);
      },
    });
    stats.state = 'open';
    stats.openedAt = Date.now();
    attached.firmware = board.firmware;
    return {
      stats,
      overlongLines: 0,
      command: async (command) => {
        const result = board.command(command);
        if (!result.ok) {
          this.#log.warn(
            { kitId: attached.kitId, command, code: result.code },
            `command not applied: ${result.error}`,
          );
        }
      },
      close: () => board.close(),
    };
  }

  async #detach(attached: AttachedPort, error?: Error): Promise<void> {
    if (this.#ports.get(attached.found.path) !== attached) return;
    this.#ports.delete(attached.found.path);
    if (attached.identifyTimer) clearTimeout(attached.identifyTimer);
    if (this.#stopped) return; // closed by stop(), not unplugged
    this.#log.info(
      { path: attached.found.path, kitId: attached.kitId, err: error?.message },
      'serial port closed (unplugged?)',
    );
    const kitId = attached.kitId;
    const stillPlugged = [...this.#ports.values()].some((other) => other.kitId === kitId);
    if (kitId && !stillPlugged) {
      const link = this.#links.get(kitId);
      this.#links.delete(kitId);
      await link?.stop(2_000);
    }
    this.#publishStatus();
  }

  #meta(attached: AttachedPort, meta: Record<string, string>): void {
    const firmware = meta.fw ?? meta.firmware;
    if (firmware) {
      attached.firmware = firmware.slice(0, 64);
      if (attached.kitId) this.#links.get(attached.kitId)?.setFirmware(attached.firmware);
    }
    const kitId = meta.kit?.toLowerCase();
    if (kitId === undefined || kitId === attached.kitId) return;
    if (!isValidKitId(kitId)) {
      this.#log.warn(
        { path: attached.found.path, kit: meta.kit },
        'the sketch names a kit id that is not valid',
      );
      return;
    }
    if (attached.kitId) {
      this.#log.warn(
        { path: attached.found.path, was: attached.kitId, now: kitId },
        'the sketch says it is another kit than the binding; following the sketch',
      );
    }
    this.#identify(attached, kitId, 'metadata');
  }

  #identify(attached: AttachedPort, kitId: string, by: IdentifiedBy): void {
    const previous = attached.kitId;
    attached.kitId = kitId;
    attached.identifiedBy = by;
    if (attached.identifyTimer) clearTimeout(attached.identifyTimer);
    if (previous && previous !== kitId) void this.#releaseKit(previous);
    const link = this.#linkFor(kitId, attached);
    for (const payload of attached.waiting.splice(0)) link.send(payload);
    this.#log.info({ path: attached.found.path, kitId, by }, 'kit identified');
    this.#publishStatus();
  }

  async #releaseKit(kitId: string): Promise<void> {
    if ([...this.#ports.values()].some((other) => other.kitId === kitId)) return;
    const link = this.#links.get(kitId);
    this.#links.delete(kitId);
    await link?.stop(2_000);
  }

  #linkFor(kitId: string, attached: AttachedPort): KitLink {
    let link = this.#links.get(kitId);
    if (!link) {
      const { service, brokerUrl, outboxDir, kitSecrets, ca } = this.#options;
      const secret = kitSecrets?.[kitId];
      const credentials: KitCredentials = secret
        ? { username: kitId, password: secret }
        : { username: `${kitId}@${service.name}`, password: service.secret };
      link = new KitLink({
        kitId,
        brokerUrl,
        credentials,
        outboxDir,
        ...(attached.firmware ? { firmware: attached.firmware } : {}),
        ...(ca ? { ca } : {}),
        onCommand: (command) => void this.#command(kitId, command),
        onError: (error) => this.#log.warn({ kitId, err: error.message }, 'kit connection problem'),
      });
      link.start();
      this.#links.set(kitId, link);
    }
    return link;
  }

  #readings(attached: AttachedPort, payload: TelemetryPayload, receivedAt: number): void {
    const kitId = attached.kitId;
    const stamped: TelemetryPayload = { ...payload, ts: payload.ts ?? receivedAt };
    if (!kitId) {
      if (attached.waiting.length < WAITING_ROOM) attached.waiting.push(stamped);
      else attached.unidentifiedDropped++;
      return;
    }
    // Gateway stamps never repeat for one kit: the store identifies a reading by kit and time.
    if (payload.ts === undefined) {
      const last = this.#lastStamp.get(kitId) ?? 0;
      if (stamped.ts !== undefined && stamped.ts <= last) stamped.ts = last + 1;
      this.#lastStamp.set(kitId, stamped.ts as number);
    }
    this.#links.get(kitId)?.send(stamped);
  }

  async #command(kitId: string, command: KitCommand): Promise<void> {
    const ports = [...this.#ports.values()].filter((attached) => attached.kitId === kitId);
    for (const attached of ports) {
      await attached.port?.command(command).catch((error: Error) => {
        this.#log.warn({ kitId, err: error.message }, 'could not send a command down to the kit');
      });
    }
  }

  #reportUnknown(attached: AttachedPort): void {
    if (attached.kitId || attached.reportedUnknown) return;
    attached.reportedUnknown = true;
    this.#log.warn(
      {
        path: attached.found.path,
        usbSerialNumber: attached.found.usbSerialNumber,
        chip: attached.found.chip,
      },
      'unknown board: it has not said which kit it is (print "# kit=<id>" at boot, or bind its USB serial number or port)',
    );
    this.#publishStatus();
  }

  #publishStatus(): void {
    const client = this.#statusClient;
    if (!client?.connected || this.#stopped) return;
    client.publish(gatewayStatusTopic(this.#options.service.name), JSON.stringify(this.status()), {
      qos: 0,
      retain: true,
    });
  }
}
