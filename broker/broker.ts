/**
 * The platform's MQTT broker: Aedes with the platform's policy as its hooks — who connects
 * (identity.ts), what each may publish and subscribe to, kits' messages into ingest, kits' live
 * status and retained online/offline, the sandbox's quota, idle and credential re-checks — on TCP,
 * TLS and WebSocket behind the packet guard, alone or as one instance of a cluster (its shared
 * parts injected: cluster/ builds them on Redis).
 */
import type { IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import {
  Aedes,
  type AedesOptions,
  type AuthenticateError,
  type Client,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import {
  checkStatus,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_SANDBOX_PREFIX,
  KIT_PUBLISH_CHANNELS,
  KIT_SUBSCRIBE_CHANNELS,
  type KitErrorMessage,
  kitTopic,
  type Problem,
  parseKitTopic,
} from '../protocol/index.ts';
import {
  type BrokerOptions,
  KIT_DROP_TOPIC,
  type KitLiveStatus,
  MAX_CONNECT_BYTES,
  type MessageRouting,
  type MqttBroker,
  PACKET_OVERHEAD_BYTES,
  PLATFORM_TOPIC_PREFIX,
} from './api.ts';
import { type Identity, missingScope, REVOKED_STAMP, resolveIdentity } from './identity.ts';
import { PacketGuard, type PacketLimits } from './packet-guard.ts';
import { RetainedQuota } from './retained-quota.ts';

const DISCARD_TOPIC = `${PLATFORM_TOPIC_PREFIX}discard`;
/** Internal: "check this person's connections now" to every instance (payload: the username). */
const PERSON_DROP_TOPIC = `${PLATFORM_TOPIC_PREFIX}person-drop`;

/** How often connections are checked against the idle limit: a tenth of it, within 0.25–30 s. */
const idleCheckEveryMs = (idleLimitMs: number): number => Math.min(30_000, Math.max(250, idleLimitMs / 10));

/** CONNACK return codes the broker refuses with; MQTT 3.1.1 reserves 6–255, which clients show as "unknown error". */
function authError(message: string, returnCode: 2 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function createBroker(options: BrokerOptions): Promise<MqttBroker> {
  const { credentials, ingest } = options;
  const log = options.logger ?? { info() {}, warn() {} };
  const sandboxPrefix = options.sandboxPrefix;
  const identities = new WeakMap<Client, Identity>();
  const statuses = new Map<string, KitLiveStatus>();
  /** The open connections of each online kit; a kit is online while its set is not empty. */
  const kitConnections = new Map<string, Set<Client>>();
  /** Clients that sent an empty client id without a clean session (refused in `authenticate`). */
  const withoutId = new WeakSet<Client>();
  const servers: Server[] = [];
  const packetLimits: PacketLimits = {
    maxConnectBytes: MAX_CONNECT_BYTES,
    maxPacketBytes: (options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES) + PACKET_OVERHEAD_BYTES,
  };
  const idleLimitMs = (options.keepaliveLimit ?? 300) * 1500;
  const sandboxRetained = new RetainedQuota(options.sandboxRetained ?? { maxMessages: 200, maxBytes: 4096 });
  const isSandboxTopic = (topic: string): boolean =>
    sandboxPrefix !== undefined && topic.startsWith(`${sandboxPrefix}/`);

  const identityOf = (client: Client | null): Identity | undefined =>
    client ? identities.get(client) : undefined;

  function publish(topic: string, body: unknown, retain = false): Promise<void> {
    const packet = {
      cmd: 'publish',
      topic,
      payload: Buffer.from(JSON.stringify(body)),
      qos: 0,
      retain,
      dup: false,
    } as PublishPacket;
    return new Promise((resolve, reject) =>
      aedes.publish(packet, (error) => (error ? reject(error) : resolve())),
    );
  }

  function notifyKit(kitId: string, message: KitErrorMessage): void {
    void publish(kitTopic(kitId, 'errors'), message).catch(() => {});
  }

  /** Keeps a refused message from reaching subscribers or the retained store, without dropping the kit. */
  function discard(packet: PublishPacket): void {
    packet.topic = DISCARD_TOPIC;
    packet.retain = false;
  }

  /** A retained message under the sandbox prefix beyond its quota is still delivered, but not kept. */
  function limitSandboxRetained(packet: PublishPacket): void {
    if (
      packet.retain &&
      isSandboxTopic(packet.topic) &&
      !sandboxRetained.admit(packet.topic, packet.payload.length)
    ) {
      packet.retain = false;
    }
  }

  /**
   * A connected kit's status entry. Made when Aedes says the kit's client is ready, or at its
   * first message if that comes first: Aedes takes messages once the CONNACK is out, before it
   * has restored the session (from Redis, in a cluster) and said so.
   */
  function statusOfConnected(kitId: string): KitLiveStatus {
    let status = statuses.get(kitId);
    if (!status) {
      status = {
        kitId,
        online: true,
        connections: kitConnections.get(kitId)?.size ?? 0,
        since: Date.now(),
        lastSeen: null,
        messages: 0,
        refused: 0,
      };
      statuses.set(kitId, status);
    }
    return status;
  }

  function refuse(kitId: string, packet: PublishPacket, problem: Problem): void {
    ingest.report(kitId, packet.topic, problem);
    statusOfConnected(kitId).refused++;
    discard(packet);
  }

  const cluster = options.cluster;
  const clusterOptions: Partial<AedesOptions> = cluster
    ? { mq: cluster.mq, persistence: cluster.persistence }
    : {};
  ingest.addNotifier(notifyKit);
  const aedes = await Aedes.createBroker({
    ...clusterOptions,
    // No `keepaliveLimit`: Aedes refuses with CONNACK 6, a code MQTT 3.1.1 reserves. Keep-alive 0
    // and long ones are accepted, and the idle check below disconnects clients silent for too long.
    maxClientsIdLength: 64,
    // In a cluster, the heartbeat tells the instances who is alive (the wills of a dead one's clients follow).
    heartbeatInterval: cluster?.heartbeatMs ?? 60_000,

    preConnect(client, packet, done) {
      // Aedes gives every empty client id a generated one; MQTT-3.1.3-8 refuses it without a clean session.
      if (packet.clientId === '' && !packet.clean) withoutId.add(client);
      done(null, true);
    },

    authenticate(client, username, password, done) {
      if (withoutId.has(client)) {
        return done(authError('a client without a client id must ask for a clean session', 2), false);
      }
      if (username === undefined || username === '') {
        if (sandboxPrefix !== undefined) {
          identities.set(client, { kind: 'sandbox' });
          return done(null, true);
        }
        log.warn({ clientId: client.id }, 'MQTT connection without credentials refused');
        return done(authError('credentials required', 5), false);
      }
      const secret = password?.toString('utf8') ?? '';
      resolveIdentity(username, secret, credentials, options.people).then(
        (identity) => {
          if (!identity) {
            log.warn(
              { username, clientId: client.id },
              'MQTT login refused: unknown account or wrong secret',
            );
            return done(authError('bad username or password', 4), false);
          }
          identities.set(client, identity);
          // The kit's stored series, for the sensor cap, are read while the CONNECT completes.
          if (identity.kind === 'kit') ingest.prepare(identity.kitId);
          done(null, true);
        },
        (error: Error) => done(authError(`credential check failed: ${error.message}`, 5), false),
      );
    },

    authorizePublish(client, packet, done) {
      // The last will of a client of a dead instance (cluster only): Aedes publishes it with the
      // client of the same id here, if one connected since, else none; the will names its broker.
      const willOf = (packet as PublishPacket & { brokerId?: string }).brokerId;
      if (client === null || (willOf !== undefined && willOf !== aedes.id)) {
        return authorizeOrphanWill(packet, done);
      }
      const identity = identityOf(client);
      if (!identity) return done(new Error('not authenticated'));
      if (identity.kind === 'sandbox') {
        if (!isSandboxTopic(packet.topic)) {
          return done(new Error(`sandbox clients may publish only under ${sandboxPrefix}/`));
        }
        limitSandboxRetained(packet);
        return done(null);
      }
      if (identity.kind === 'user') {
        log.warn(
          { username: identity.person.username, topic: packet.topic },
          'lab users may not publish: message discarded',
        );
        discard(packet);
        return done(null);
      }
      const target = parseKitTopic(packet.topic);
      if (identity.kind === 'kit') {
        const { kitId } = identity;
        if (!target || target.kitId !== kitId || !KIT_PUBLISH_CHANNELS.includes(target.channel)) {
          refuse(kitId, packet, {
            code: 'TOPIC_NOT_ALLOWED',
            severity: 'refused',
            message: `kit ${kitId} may publish only on ${KIT_PUBLISH_CHANNELS.map((c) => kitTopic(kitId, c)).join(', ')}`,
          });
          return done(null);
        }
        const status = statusOfConnected(kitId);
        status.lastSeen = Date.now();
        status.messages++;
        // Acknowledged means stored: a QoS 1 message's PUBACK waits until its readings are durable.
        if (handleKitMessage(kitId, target.channel, packet) && packet.qos > 0) {
          return ingest.whenDurable(() => done(null));
        }
        return done(null);
      }
      // A platform account publishes what its scopes allow; telemetry and events it sends for a
      // kit (a flow smoothing a sensor, raising an alarm) are stored like the kit's own.
      const missing = missingScope(identity, packet.topic);
      if (missing) {
        warnOnce(
          `${identity.name}\u0000${missing}`,
          { service: identity.name, topic: packet.topic, missing },
          missing === 'platform'
            ? 'only the platform publishes here: message discarded'
            : `service account lacks the "${missing}" scope: message discarded`,
        );
        discard(packet);
        return done(null);
      }
      if (target?.channel === 'telemetry' || target?.channel === 'events') {
        const payload = packet.payload as Buffer;
        credentials.kitExists(target.kitId).then(
          (exists) => {
            if (exists) {
              const stored =
                target.channel === 'telemetry'
                  ? ingest.telemetry(target.kitId, packet.topic, payload)
                  : ingest.event(target.kitId, payload) === undefined;
              if (stored && packet.qos > 0) return ingest.whenDurable(() => done(null));
              if (!stored) discard(packet);
            } else {
              log.warn(
                { service: identity.name, topic: packet.topic },
                `${target.channel} for an unknown kit refused`,
              );
              discard(packet);
            }
            done(null);
          },
          (error: Error) => done(error),
        );
        return;
      }
      // Commands to kits are kept with their telemetry: grading checks what followed them.
      if (target?.channel === 'commands') ingest.command(target.kitId, packet.payload as Buffer);
      limitSandboxRetained(packet);
      done(null);
    },

    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      const refused = () => {
        log.warn({ clientId: client.id, topic: subscription.topic }, 'MQTT subscription refused');
        done(null, null);
      };
      // The platform's own topics (between instances: records, drops) are no client's business.
      if (subscription.topic.startsWith(PLATFORM_TOPIC_PREFIX)) return refused();
      if (identity?.kind === 'user') {
        const policy = options.people;
        if (!policy) return refused();
        policy.maySubscribe(identity.person, subscription.topic).then(
          (allowed) => (allowed ? done(null, subscription) : refused()),
          () => refused(),
        );
        return;
      }
      if (identity === undefined || !maySubscribe(identity, subscription)) return refused();
      done(null, subscription);
    },
  }).catch(async (error: unknown) => {
    await cluster?.close();
    throw error;
  });
  /** Which instances hold each kit's connections (cluster mode only; see cluster/broker-parts.ts). */
  const presence = cluster?.presence(aedes.id, (kitIds) => {
    // Held only by an instance that died: "offline", as that instance would have said.
    const now = Date.now();
    for (const kitId of kitIds) {
      if (kitConnections.has(kitId)) continue;
      log.info({ kitId }, 'kit offline: the instance that held it stopped');
      void publish(kitTopic(kitId, 'status'), { state: 'offline', ts: now }, true).catch(() => {});
    }
  });
  // Aedes reports failures of its own background work here (a will it could not publish, …).
  (aedes as unknown as NodeJS.EventEmitter).on('error', (error: Error) =>
    log.warn({ err: error.message }, 'MQTT broker: background work failed'),
  );

  /**
   * The last will of a client whose instance died, published by this one (Aedes does, once the
   * dead instance's heartbeats stop, also when the client has reconnected here since). A kit's
   * status will ("offline") goes out only when no live instance holds the kit: one that
   * reconnected elsewhere in the meantime stays online. Other wills on kit topics are dropped
   * (their sender cannot be checked any more); the wills of platform services and gateways go out
   * as their owners set them.
   */
  function authorizeOrphanWill(packet: PublishPacket, done: (error: Error | null) => void): void {
    const target = parseKitTopic(packet.topic);
    if (!target) {
      done(null);
      return;
    }
    if (target.channel !== 'status' || !presence) {
      discard(packet);
      done(null);
      return;
    }
    presence.heldAnywhere(target.kitId).then(
      (held) => {
        if (held || kitConnections.has(target.kitId)) discard(packet);
        done(null);
      },
      () => {
        discard(packet);
        done(null);
      },
    );
  }

  /** One warning per key for the life of the broker: a flow in a loop must not flood the log. */
  const warned = new Set<string>();
  function warnOnce(key: string, object: object, message: string): void {
    if (warned.has(key) || warned.size > 10_000) return;
    warned.add(key);
    log.warn(object, message);
  }

  function maySubscribe(identity: Identity, subscription: Subscription): boolean {
    const topic = subscription.topic;
    switch (identity.kind) {
      case 'service':
        return identity.scopes.includes('read');
      case 'sandbox':
        return isSandboxTopic(topic);
      case 'user':
        return false;
      case 'kit':
        return KIT_SUBSCRIBE_CHANNELS.some((channel) => topic === kitTopic(identity.kitId, channel));
    }
  }

  /** Handles a kit's own message; true when it gave the writer something to store. */
  function handleKitMessage(kitId: string, channel: string, packet: PublishPacket): boolean {
    const payload = packet.payload as Buffer;
    const maxBytes = options.maxPayloadBytes;
    if (channel === 'telemetry') {
      if (ingest.telemetry(kitId, packet.topic, payload)) return true;
      statusOfConnected(kitId).refused++;
      discard(packet);
      return false;
    }
    if (maxBytes !== undefined && payload.length > maxBytes) {
      refuse(kitId, packet, {
        code: 'PAYLOAD_TOO_LARGE',
        severity: 'refused',
        message: `payload is ${payload.length} bytes; at most ${maxBytes}`,
      });
      return false;
    }
    if (channel === 'status') {
      const verdict = checkStatus(payload);
      if (!verdict.ok) {
        refuse(kitId, packet, verdict.problems[0] as Problem);
        return false;
      }
      if (verdict.value.firmware)
        statusOfConnected(kitId).firmware = String(verdict.value.firmware).slice(0, 64);
      return false;
    }
    if (channel === 'events') {
      const problem = ingest.event(kitId, payload);
      if (!problem) return true;
      refuse(kitId, packet, problem);
    }
    return false;
  }

  aedes.on('clientReady', (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== 'kit') return;
    // A client that closed while its CONNECT was being handled got its clientDisconnect first.
    if (client.closed) return;
    const clients = kitConnections.get(identity.kitId) ?? new Set();
    kitConnections.set(identity.kitId, clients);
    clients.add(client);
    const now = Date.now();
    const status = statuses.get(identity.kitId);
    if (status) {
      if (!status.online) status.since = now;
      status.online = true;
      status.connections = clients.size;
    } else {
      statuses.set(identity.kitId, {
        kitId: identity.kitId,
        online: true,
        connections: clients.size,
        since: now,
        lastSeen: null,
        messages: 0,
        refused: 0,
      });
    }
    log.info({ kitId: identity.kitId, clientId: client.id }, 'kit connected');
    const online = () =>
      void publish(kitTopic(identity.kitId, 'status'), { state: 'online', ts: now }, true).catch(() => {});
    // In a cluster, "online" is published once this instance is registered as holding the kit.
    if (presence && clients.size === 1) presence.connected(identity.kitId).then(online, online);
    else online();
  });

  /** A kit's connection ended: the kit is offline once none is left. */
  function kitConnectionGone(kitId: string, client: Client): void {
    const clients = kitConnections.get(kitId);
    if (!clients?.delete(client)) {
      // Never counted: it closed before it was ready. A message it sent meanwhile made it online.
      const status = statuses.get(kitId);
      if (status?.online && !clients?.size) {
        status.online = false;
        status.since = Date.now();
      }
      return;
    }
    const status = statuses.get(kitId);
    if (status) status.connections = clients.size;
    if (clients.size > 0) return;
    kitConnections.delete(kitId);
    const now = Date.now();
    if (status) {
      status.online = false;
      status.since = now;
    }
    ingest.forget(kitId);
    log.info({ kitId, clientId: client.id }, 'kit disconnected');
    // Kits should set this as their last will; publishing it here covers those that do not.
    const offline = () => {
      if (aedes.closed || kitConnections.has(kitId)) return;
      void publish(kitTopic(kitId, 'status'), { state: 'offline', ts: now }, true).catch(() => {});
    };
    if (!presence) {
      offline();
      return;
    }
    // Cluster rule: the instance whose last connection of the kit ended publishes "offline" only
    // when no other live instance holds one (counted in Redis); otherwise the kit stays "online".
    presence.disconnected(kitId).then(
      (none) => {
        if (none) offline();
      },
      () => offline(),
    );
  }

  aedes.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (identity?.kind === 'kit') kitConnectionGone(identity.kitId, client);
  });

  aedes.on('clientError', (client, error) => {
    log.warn({ clientId: client.id, err: error.message }, 'MQTT client error');
  });

  const connectedClients = (): Client[] =>
    Object.values((aedes as unknown as { clients: Record<string, Client> }).clients);
  const clientsByKit = (kitId: string): Client[] =>
    connectedClients().filter((client) => {
      const identity = identities.get(client);
      return identity?.kind === 'kit' && identity.kitId === kitId;
    });

  // A kit whose secret changed (rotate, revoke) is dropped by every instance at once, not only by
  // the one the change went through: the request goes over the broker's own message routing
  // (Redis in a cluster), on a topic no client may publish to ($ topics are the platform's).
  const routing = (aedes as unknown as { mq: MessageRouting }).mq;
  routing.on(KIT_DROP_TOPIC, (message, done) => {
    const kitId = Buffer.isBuffer(message.payload)
      ? message.payload.toString('utf8')
      : String(message.payload);
    for (const client of clientsByKit(kitId)) client.close();
    done();
  });

  // A person who logged out (or whose account was disabled) loses their connections on every
  // instance at once, not at each one's next re-check: every instance checks that person's
  // connections again and closes those whose login token no longer signs them in (their other
  // logins stay). The username goes over the routing, never a token.
  routing.on(PERSON_DROP_TOPIC, (message, done) => {
    done();
    void dropEndedLogins(
      Buffer.isBuffer(message.payload) ? message.payload.toString('utf8') : String(message.payload),
    );
  });
  async function dropEndedLogins(username: string): Promise<void> {
    const people = options.people;
    if (!people) return;
    const name = username.toLowerCase();
    for (const client of connectedClients()) {
      const identity = identities.get(client);
      if (identity?.kind !== 'user' || identity.person.username.toLowerCase() !== name) continue;
      // A check that fails closes too: the browser reconnects, and its login is checked again then.
      const still = await people
        .authenticate(identity.person.username, identity.token)
        .catch(() => undefined);
      if (!still) {
        log.info(
          { username: identity.person.username, clientId: client.id },
          'logged out: MQTT connection closed',
        );
        client.close();
      }
    }
  }

  /**
   * The platform's idle limit: a client that sent nothing for 1.5 × keepaliveLimit is disconnected
   * (its last will is published), whatever keep-alive it asked for — 0 included. The same round
   * drops any kit connection that closed without Aedes saying so, so no kit stays online for ever.
   */
  const idleCheck = setInterval(() => {
    const now = Date.now();
    for (const client of connectedClients()) {
      const guard = client.conn;
      if (guard instanceof PacketGuard && now - guard.lastPacketAt > idleLimitMs) {
        log.info({ clientId: client.id }, 'MQTT client silent for longer than the idle limit: disconnected');
        client.close();
      }
    }
    for (const [kitId, clients] of kitConnections) {
      for (const client of clients) if (client.closed) kitConnectionGone(kitId, client);
    }
  }, idleCheckEveryMs(idleLimitMs));
  idleCheck.unref();

  /** Hands a client's connection to Aedes behind the packet size limits. */
  function serve(socket: Duplex, request?: IncomingMessage): void {
    const guarded = new PacketGuard(socket, packetLimits, (violation) => {
      const remoteAddress =
        (socket as { remoteAddress?: string }).remoteAddress ?? request?.socket.remoteAddress;
      log.warn({ remoteAddress, ...violation }, 'MQTT packet over the limit: connection closed');
    });
    aedes.handle(guarded, request);
  }

  /**
   * Connections last only as long as their credentials, whoever changed them: a person's login
   * token is checked again (logged out, expired, account disabled), and a kit whose secret was
   * rotated or revoked since the last look — by the CLI, another process — is disconnected (the
   * API disconnects at once; this catches the rest). Through a gateway, only a revoked kit ends.
   */
  let rechecking = false;
  let kitStamps: Map<string, string> | undefined;
  async function recheckCredentials(): Promise<void> {
    const stamps = await credentials.kitSecretStamps?.().catch(() => undefined);
    const previous = kitStamps;
    if (stamps) kitStamps = stamps;
    for (const client of connectedClients()) {
      const identity = identities.get(client);
      if (identity?.kind === 'user' && options.people) {
        const still = await options.people
          .authenticate(identity.person.username, identity.token)
          .catch(() => identity.person);
        if (!still) {
          log.info(
            { username: identity.person.username, clientId: client.id },
            'login ended: MQTT connection closed',
          );
          client.close();
        }
      } else if (identity?.kind === 'kit' && stamps && previous?.has(identity.kitId)) {
        const now = stamps.get(identity.kitId);
        const changed = now !== previous.get(identity.kitId);
        const gone = now === undefined || now === REVOKED_STAMP;
        if (gone || (changed && identity.via === undefined)) {
          log.info(
            { kitId: identity.kitId, clientId: client.id },
            'kit secret changed: MQTT connection closed',
          );
          client.close();
        }
      }
    }
  }
  const recheck = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    void recheckCredentials().finally(() => {
      rechecking = false;
    });
  }, options.credentialRecheckMs ?? 30_000);
  recheck.unref();
  void recheckCredentials(); // the first look at the kits' secrets, to compare later ones with

  return {
    aedes,
    routing,
    async listen({ port, host = '0.0.0.0', tls }) {
      const server = tls
        ? createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => serve(socket))
        : createTcpServer((socket) => serve(socket));
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address();
      return typeof address === 'object' && address ? address.port : port;
    },
    handleStream(stream, request) {
      serve(stream, request);
    },
    kitStatus(kitId) {
      const status = statuses.get(kitId);
      return status ? { ...status } : undefined;
    },
    liveKits() {
      return [...statuses.values()].map((status) => ({ ...status }));
    },
    publishToKit(kitId, channel, body) {
      if (channel === 'commands') ingest.command(kitId, Buffer.from(JSON.stringify(body)));
      return publish(kitTopic(kitId, channel), body);
    },
    disconnectKit(kitId) {
      for (const client of clientsByKit(kitId)) client.close();
      // …and on every other instance of a cluster (the same message routing reaches them).
      routing.emit({ topic: KIT_DROP_TOPIC, payload: Buffer.from(kitId) });
    },
    disconnectPerson(username) {
      // The routing reaches this instance too; should it fail, this instance still checks.
      routing.emit({ topic: PERSON_DROP_TOPIC, payload: Buffer.from(username) }, (error) => {
        if (error) void dropEndedLogins(username);
      });
    },
    async close() {
      clearInterval(recheck);
      clearInterval(idleCheck);
      // Stop accepting first; a server only reports closed once its clients are gone, which aedes.close does.
      const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(closed);
      await cluster?.close();
    },
  };
}

export { DEFAULT_SANDBOX_PREFIX };
