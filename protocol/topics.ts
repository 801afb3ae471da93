/** MQTT topic names of the wire contract. Every topic a kit uses lives under one versioned prefix. */

export const TOPIC_PREFIX = 'iotlab/v1';

/** What a kit may publish, and what the platform sends down to it. */
export type KitChannel = 'telemetry' | 'status' | 'events' | 'commands' | 'errors';

/** Channels a kit publishes on; `commands` and `errors` flow the other way. */
export const KIT_PUBLISH_CHANNELS: readonly KitChannel[] = ['telemetry', 'status', 'events'];
/** Channels a kit subscribes to. */
export const KIT_SUBSCRIBE_CHANNELS: readonly KitChannel[] = ['commands', 'errors'];

/** Kit ids are lower-case, topic-safe and short enough for a label on the box. */
export const KIT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{1,47}$/;

export function isValidKitId(id: string): boolean {
  return KIT_ID_PATTERN.test(id);
}

export function kitTopic(kitId: string, channel: KitChannel): string {
  return `${TOPIC_PREFIX}/kits/${kitId}/${channel}`;
}

/** Wildcard for one channel of every kit (platform accounts only). */
export function allKitsTopic(channel: KitChannel): string {
  return `${TOPIC_PREFIX}/kits/+/${channel}`;
}

export interface ParsedKitTopic {
  kitId: string;
  channel: KitChannel;
}

const CHANNELS = new Set<string>(['telemetry', 'status', 'events', 'commands', 'errors']);
const KIT_TOPIC_HEAD = `${TOPIC_PREFIX}/kits/`;

/** Splits `iotlab/v1/kits/<id>/<channel>`; anything else gives `undefined`. */
export function parseKitTopic(topic: string): ParsedKitTopic | undefined {
  if (!topic.startsWith(KIT_TOPIC_HEAD)) return undefined;
  const rest = topic.slice(KIT_TOPIC_HEAD.length).split('/');
  if (rest.length !== 2) return undefined;
  const [kitId, channel] = rest as [string, string];
  if (!isValidKitId(kitId) || !CHANNELS.has(channel)) return undefined;
  return { kitId, channel: channel as KitChannel };
}

/** Default prefix of the optional sandbox: anyone may use it, nothing under it is stored. */
export const DEFAULT_SANDBOX_PREFIX = 'sandbox';

/** Where a serial gateway publishes its own status (retained): ports, kits, line counts. */
export function gatewayStatusTopic(gatewayName: string): string {
  return `${TOPIC_PREFIX}/gateways/${gatewayName}/status`;
}

/**
 * Where live grading publishes an attempt's criteria as telemetry arrives (retained, QoS 0):
 * `iotlab/v1/attempts/<attemptId>/grading`. Platform accounts (dashboards) subscribe.
 */
export function attemptGradingTopic(attemptId: string): string {
  return `${TOPIC_PREFIX}/attempts/${attemptId}/grading`;
}

/** Where competition mode publishes a lab session's leaderboard when it changes (retained, QoS 0). */
export function sessionLeaderboardTopic(sessionId: string): string {
  return `${TOPIC_PREFIX}/sessions/${sessionId}/leaderboard`;
}
