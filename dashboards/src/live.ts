/**
 * Live data over MQTT on the platform's WebSocket (`/mqtt`), signed in as the person
 * (`user:<username>` + their login token): subscribe-only, each topic allowed by the broker's ACL.
 * One connection per tab; topics are reference-counted, so views come and go freely.
 */
import type { MqttClient } from 'mqtt';
import type { Session } from './api.ts';

export type LiveState = 'connecting' | 'online' | 'offline';
type Handler = (payload: unknown, topic: string) => void;

let client: MqttClient | null = null;
let clientToken: string | null = null;
let state: LiveState = 'offline';
const handlers = new Map<string, Set<Handler>>();
/** The last message of each followed topic, handed to a view that starts following it later. */
const last = new Map<string, unknown>();
const stateListeners = new Set<(state: LiveState) => void>();
/** Subscriptions the broker refused (not this user's kit or attempt). */
export const refusedTopics = new Set<string>();

function setState(next: LiveState): void {
  state = next;
  for (const listener of stateListeners) listener(next);
}

export function liveState(): LiveState {
  return state;
}

export function onLiveState(listener: (state: LiveState) => void): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

/**
 * One SUBSCRIBE per topic: mqtt.js fails a whole SUBACK when the broker refuses any topic in it
 * (0x80), so each topic stands alone and a refused one (not this person's) leaves the others be.
 */
function subscribeTopics(topics: string[]): void {
  const current = client;
  if (!current) return;
  for (const topic of topics) {
    current.subscribe(topic, { qos: 0 }, (error) => {
      if (error) refusedTopics.add(topic);
      else refusedTopics.delete(topic);
    });
  }
}

/** Connects (or reconnects with a new token); disconnects when the session is null. */
export function connectLive(session: Session | null): void {
  if (session?.token === clientToken && client) return;
  client?.end(true);
  client = null;
  clientToken = null;
  if (!session) {
    setState('offline');
    return;
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  clientToken = session.token;
  setState('connecting');
  const token = session.token;
  // mqtt.js is loaded on demand: the sign-in page does not wait for it.
  void import('mqtt').then(({ default: mqtt }) => {
    if (clientToken !== token || client) return; // signed out or in again meanwhile
    open(
      mqtt.connect(`${scheme}://${location.host}/mqtt`, {
        protocolVersion: 4,
        clientId: `web-${session.user.username.replace(/[^a-zA-Z0-9._-]/g, '')}-${Math.random().toString(36).slice(2, 10)}`,
        username: `user:${session.user.username}`,
        password: token,
        keepalive: 30,
        reconnectPeriod: 3_000,
        connectTimeout: 10_000,
        clean: true,
      }),
    );
  });
}

function open(next: MqttClient): void {
  client = next;
  next.on('connect', () => {
    if (client !== next) return;
    setState('online');
    subscribeTopics([...handlers.keys()]);
  });
  next.on('close', () => {
    if (client === next) setState('offline');
  });
  next.on('error', () => {
    if (client === next) setState('offline');
  });
  next.on('message', (topic, payload) => {
    const set = handlers.get(topic);
    if (!set || payload.length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return;
    }
    last.set(topic, parsed);
    for (const handler of set) handler(parsed, topic);
  });
}

/** Follows exact topics (no wildcards); the returned function stops. */
export function follow(topics: readonly string[], handler: Handler): () => void {
  const fresh: string[] = [];
  for (const topic of topics) {
    let set = handlers.get(topic);
    if (!set) {
      set = new Set();
      handlers.set(topic, set);
      fresh.push(topic);
    } else if (last.has(topic)) {
      const value = last.get(topic);
      queueMicrotask(() => {
        if (handlers.get(topic)?.has(handler)) handler(value, topic);
      });
    }
    set.add(handler);
  }
  if (client?.connected) subscribeTopics(fresh);
  return () => {
    const gone: string[] = [];
    for (const topic of topics) {
      const set = handlers.get(topic);
      if (!set) continue;
      set.delete(handler);
      if (set.size === 0) {
        handlers.delete(topic);
        last.delete(topic);
        gone.push(topic);
      }
    }
    if (client?.connected && gone.length > 0) client.unsubscribe(gone);
  };
}

export const topics = {
  kit: (kitId: string, channel: 'telemetry' | 'status' | 'errors' | 'events') =>
    `iotlab/v1/kits/${kitId}/${channel}`,
  grading: (attemptId: string) => `iotlab/v1/attempts/${attemptId}/grading`,
  leaderboard: (sessionId: string) => `iotlab/v1/sessions/${sessionId}/leaderboard`,
};
