/**
 * Who is on an MQTT connection and what a platform service may publish: the identities the broker
 * tells apart by username (a kit, `<kit>@<gateway service>`, `service:<name>`, `user:<name>` for a
 * person's browser, or anyone in the sandbox), the ports that check their credentials, and the
 * topic rules of service scopes.
 */
import { gatewayStatusTopic, parseKitTopic, TOPIC_PREFIX } from '../protocol/index.ts';

/** Who is on the other end of an MQTT connection. */
export type Identity =
  | { kind: 'kit'; kitId: string /** The gateway service that connected it, for USB kits. */; via?: string }
  | { kind: 'service'; name: string; scopes: readonly ServiceScope[] }
  /** A person (a browser dashboard), signed in with their lab login token; subscribe-only. */
  | { kind: 'user'; person: Person; token: string }
  | { kind: 'sandbox' };

/** A signed-in person, as the person access policy describes them (the lab API's `Person`). */
export interface Person {
  id: string;
  username: string;
  role: string;
}

/**
 * Who may read what over MQTT among the lab's people (dashboards in a browser). The broker asks; the
 * lab's data answers (wired in the composition root, so the broker knows nothing of classes or teams).
 */
export interface PersonAccessPolicy {
  /** The person this lab login token belongs to, when it is valid and theirs; undefined otherwise. */
  authenticate(username: string, token: string): Promise<Person | undefined>;
  /** Whether the person may subscribe to this topic filter (people never publish). */
  maySubscribe(person: Person, topicFilter: string): Promise<boolean>;
}

/**
 * What a platform service account may do over MQTT (the registry's scopes): `read` subscribe;
 * `publish` telemetry and events for kits and other non-platform topics; `command` kits;
 * `gateway` connect USB kits as `<kit>@<service>` and publish its own gateway status.
 */
export type ServiceScope = 'read' | 'grade' | 'publish' | 'command' | 'gateway';

/** How the broker checks credentials; the kit registry implements it. */
export interface CredentialChecker {
  verifyKit(kitId: string, secret: string): Promise<boolean>;
  /** The service's scopes when the secret is its own; undefined otherwise. */
  serviceScopes(name: string, secret: string): Promise<readonly ServiceScope[] | undefined>;
  /** Whether a kit exists (for telemetry that platform accounts publish on a kit's behalf). */
  kitExists(kitId: string): Promise<boolean>;
  /** Whether a kit exists and is not revoked (for a gateway connecting it). */
  isKitActive(kitId: string): Promise<boolean>;
  /**
   * A stamp per registered kit that changes whenever its secret does ({@link REVOKED_STAMP} when
   * revoked), so connections can be dropped when another process rotates or revokes a secret.
   */
  kitSecretStamps?(): Promise<Map<string, string>>;
}

/** The secret stamp of a revoked kit. */
export const REVOKED_STAMP = 'revoked';

export const SERVICE_USERNAME_PREFIX = 'service:';
/** Username prefix of people signing in with their login token (usernames of kits cannot contain a colon). */
export const USER_USERNAME_PREFIX = 'user:';
/** Topics only the platform itself publishes on (in-process, not through a client). */
const PLATFORM_TOPICS = [`${TOPIC_PREFIX}/attempts/`, `${TOPIC_PREFIX}/sessions/`];
const GATEWAYS_HEAD = `${TOPIC_PREFIX}/gateways/`;
/** Refused messages are re-routed here: no client can subscribe to it, and `#` never matches `$` topics. */

/**
 * `kitId` + kit secret: the kit itself. `service:name` + service secret: a platform account.
 * `kitId@name` + service secret: a gateway (a service) connecting a USB kit on its behalf; the
 * connection then is that kit in every respect (topics, status), so a gateway machine needs one
 * secret, not one per kit. `user:username` + lab login token: a person's browser (subscribe-only).
 */
export async function resolveIdentity(
  username: string,
  secret: string,
  credentials: CredentialChecker,
  people: PersonAccessPolicy | undefined,
): Promise<Identity | undefined> {
  if (username.startsWith(USER_USERNAME_PREFIX)) {
    const person = await people?.authenticate(username.slice(USER_USERNAME_PREFIX.length), secret);
    return person ? { kind: 'user', person, token: secret } : undefined;
  }
  if (username.startsWith(SERVICE_USERNAME_PREFIX)) {
    const name = username.slice(SERVICE_USERNAME_PREFIX.length);
    const scopes = await credentials.serviceScopes(name, secret);
    return scopes ? { kind: 'service', name, scopes } : undefined;
  }
  const at = username.indexOf('@');
  if (at > 0) {
    const kitId = username.slice(0, at);
    const via = username.slice(at + 1);
    const scopes = await credentials.serviceScopes(via, secret);
    const ok = scopes?.includes('gateway') === true && (await credentials.isKitActive(kitId));
    return ok ? { kind: 'kit', kitId, via } : undefined;
  }
  return (await credentials.verifyKit(username, secret)) ? { kind: 'kit', kitId: username } : undefined;
}

/**
 * The scope a service lacks to publish on this topic, `platform` for topics only the platform
 * itself publishes (live grading, leaderboards, kits' status and error reports), or undefined.
 */
export function missingScope(
  identity: Extract<Identity, { kind: 'service' }>,
  topic: string,
): string | undefined {
  const has = (scope: ServiceScope) => identity.scopes.includes(scope);
  if (topic.startsWith('$') || PLATFORM_TOPICS.some((prefix) => topic.startsWith(prefix))) return 'platform';
  const target = parseKitTopic(topic);
  if (target) {
    if (target.channel === 'commands') return has('command') ? undefined : 'command';
    if (target.channel === 'telemetry' || target.channel === 'events')
      return has('publish') ? undefined : 'publish';
    return 'platform';
  }
  if (topic.startsWith(GATEWAYS_HEAD)) {
    return has('gateway') && topic === gatewayStatusTopic(identity.name) ? undefined : 'gateway';
  }
  return has('publish') ? undefined : 'publish';
}
