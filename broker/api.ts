/**
 * The broker's public face: what the composition root gives it (options, the logger) and what it
 * gives back (the broker, each kit's live status), and the packet limits a client must respect.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Aedes, AedesOptions } from 'aedes';
import type { CredentialChecker, PersonAccessPolicy } from './identity.ts';
import type { Ingest } from './ingest.ts';

export interface BrokerOptions {
  credentials: CredentialChecker;
  ingest: Ingest;
  /** People (`user:<username>` + their lab login token), subscribe-only; refused when absent. */
  people?: PersonAccessPolicy;
  /**
   * How often connections are checked against the current credentials (default 30 s): people's
   * login tokens, and kit secrets changed by another process.
   */
  credentialRecheckMs?: number;
  /** Anonymous clients may use topics under this prefix only, never stored. Off when undefined. */
  sandboxPrefix?: string;
  /**
   * Retained messages under the sandbox prefix, whoever publishes them: at most `maxMessages`
   * topics, each at most `maxBytes` (topic + payload). One over the quota is delivered, not retained.
   * Default 200 × 4096 bytes.
   */
  sandboxRetained?: { maxMessages: number; maxBytes: number };
  /**
   * Largest payload on any kit topic, in bytes (default 16 KiB). Any packet larger than this plus
   * {@link PACKET_OVERHEAD_BYTES} closes the connection as soon as its header arrives.
   */
  maxPayloadBytes?: number;
  /**
   * The longest a client may stay silent, in seconds, whatever keep-alive it asked for (0 and any
   * value are accepted, as MQTT allows): one silent for more than 1.5 × this is disconnected and its
   * last will published. Default 300.
   */
  keepaliveLimit?: number;
  /**
   * Cluster mode: this broker is one of several sharing message routing, retained messages, wills,
   * persistent sessions and kit presence (cluster/ builds them on Redis). The broker ends them
   * when it closes.
   */
  cluster?: BrokerClusterParts;
  logger?: BrokerLogger;
}

export interface BrokerLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** Live view of a kit's connection, for the status API and dashboards. */
export interface KitLiveStatus {
  kitId: string;
  online: boolean;
  connections: number;
  since: number;
  lastSeen: number | null;
  messages: number;
  refused: number;
  firmware?: string;
}

/** Username prefix of platform accounts (kit ids cannot contain a colon). */
/** Largest CONNECT (client id, username, password and last will together), after its fixed header. */
export const MAX_CONNECT_BYTES = 4096;
/**
 * What a packet may carry besides a full-size payload: a topic of up to about 1 KB (services and
 * flows publish on topics of their own), its length and a packet id.
 */
export const PACKET_OVERHEAD_BYTES = 1024 + 4;

/** Where the kits' connections are, across the instances of a cluster. */
export interface KitPresence {
  /** This instance holds its first connection of the kit. */
  connected(kitId: string): Promise<void>;
  /**
   * This instance's last connection of the kit ended; resolves true when no other live instance
   * holds one (the kit is then offline).
   */
  disconnected(kitId: string): Promise<boolean>;
  /** Whether a live instance (this one included) holds a connection of the kit. */
  heldAnywhere(kitId: string): Promise<boolean>;
}

/** What a broker shares with the other instances of a cluster. */
export interface BrokerClusterParts {
  mq: NonNullable<AedesOptions['mq']>;
  persistence: NonNullable<AedesOptions['persistence']>;
  /**
   * How often the brokers tell each other they are alive (Aedes's heartbeat): the last wills of a
   * crashed instance's clients are published 3–7 × this after it stopped.
   */
  heartbeatMs: number;
  /**
   * Needs the broker's id: called once the broker exists. `kitsGone` hears of kits that were held
   * only by an instance that died (the broker publishes their "offline").
   */
  presence(brokerId: string, kitsGone: (kitIds: string[]) => void): KitPresence;
  /** After the broker closed (which closes `mq`): ends presence, the persistence and the connections. */
  close(): Promise<void>;
}

/** The platform's own topics (between its parts and instances): no client may publish or subscribe to them. */
export const PLATFORM_TOPIC_PREFIX = '$iotlab/';
/** "Drop this kit's connections" to every instance of a cluster (payload: the kit id). */
export const KIT_DROP_TOPIC = `${PLATFORM_TOPIC_PREFIX}kit-drop`;

/**
 * Aedes's message routing (an mqemitter; mqemitter-redis in a cluster, where what is emitted on one
 * instance reaches every instance, itself included). Topics under `$iotlab/` are the platform's
 * own: no client may publish to them.
 */
export interface MessageRouting {
  on(topic: string, listener: RoutedListener, callback?: () => void): void;
  removeListener(topic: string, listener: RoutedListener, callback?: () => void): void;
  emit(message: { topic: string; payload: unknown }, callback?: (error?: Error) => void): void;
}
export type RoutedListener = (message: { topic: string; payload: unknown }, done: () => void) => void;

export interface MqttBroker {
  readonly aedes: Aedes;
  /** The broker's message routing, for the platform's own messages between instances. */
  readonly routing: MessageRouting;
  /** Listens for MQTT over TCP (or TLS when `tls` is given); resolves with the bound port. */
  listen(options: { port: number; host?: string; tls?: { key: Buffer; cert: Buffer } }): Promise<number>;
  /** Serves one MQTT-over-WebSocket connection (the HTTP server hands it over). */
  handleStream(stream: Duplex, request?: IncomingMessage): void;
  kitStatus(kitId: string): KitLiveStatus | undefined;
  liveKits(): KitLiveStatus[];
  /** Publishes a command down to a kit. */
  publishToKit(kitId: string, channel: 'commands' | 'errors', body: unknown): Promise<void>;
  /** Drops a kit's connections (after its secret was rotated or revoked). */
  disconnectKit(kitId: string): void;
  /**
   * Closes a person's connections (`user:<username>`) whose login ended — logged out, account
   * disabled, password changed — on every instance at once, instead of at the next credential
   * re-check. Connections of their other, still valid logins stay open.
   */
  disconnectPerson(username: string): void;
  /** Stops listening and disconnects every client. */
  close(): Promise<void>;
}
