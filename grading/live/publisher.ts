/**
 * Where live states go: retained on MQTT (through the broker's aedes, QoS 0), and to the
 * subscribers of each attempt (the HTTP event streams). Also keeps the final state of ended
 * attempts for `endedRetentionMs`, for late viewers and the leaderboards, and clears their
 * retained message when it expires.
 */
import type { Aedes, PublishPacket } from 'aedes';
import { attemptGradingTopic } from '../../protocol/index.ts';
import type { PublishedState } from './state.ts';

export type LiveUpdate =
  | { type: 'grading'; published: PublishedState }
  /** The attempt ended: its final state; nothing follows. */
  | { type: 'end'; published: PublishedState }
  /** Live grading stops (the platform shuts down). */
  | { type: 'closed' };

export type LiveListener = (update: LiveUpdate) => void;

export interface LiveLog {
  warn(object: object, message: string): void;
}

export interface PublisherOptions {
  aedes: Pick<Aedes, 'publish'> | undefined;
  log: LiveLog;
  now: () => number;
  retentionMs: number;
  maxEndedKept: number;
}

interface EndedEntry {
  published: PublishedState;
  expiresAt: number;
  /** Its state is retained on the broker (cleared when it expires). */
  retained: boolean;
}

export class LivePublisher {
  readonly #aedes: Pick<Aedes, 'publish'> | undefined;
  readonly #log: LiveLog;
  readonly #now: () => number;
  readonly #retentionMs: number;
  readonly #maxEndedKept: number;
  readonly #listeners = new Map<string, Set<LiveListener>>();
  readonly #ended = new Map<string, EndedEntry>();
  #closed = false;

  constructor(options: PublisherOptions) {
    this.#aedes = options.aedes;
    this.#log = options.log;
    this.#now = options.now;
    this.#retentionMs = options.retentionMs;
    this.#maxEndedKept = options.maxEndedKept;
  }

  /** Publishes retained at QoS 0: JSON bytes, or an object as JSON; `null` clears the retained message. */
  publish(topic: string, body: Buffer | object | null): void {
    if (!this.#aedes || this.#closed) return;
    const packet = {
      cmd: 'publish',
      topic,
      payload:
        body === null ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
      qos: 0,
      retain: true,
      dup: false,
    } as PublishPacket;
    this.#aedes.publish(packet, (error) => {
      if (error) this.#log.warn({ topic, err: error.message }, 'live grading: publishing failed');
    });
  }

  /** A new state of a running attempt: to MQTT and its subscribers. */
  state(attemptId: string, published: PublishedState): void {
    this.publish(attemptGradingTopic(attemptId), published.json);
    this.#notify(attemptId, published);
  }

  /**
   * A state another instance of a cluster published (it is on MQTT already): to this instance's
   * subscribers, who are let go when it is the final one.
   */
  relayed(attemptId: string, published: PublishedState): void {
    if (!this.#closed) this.#notify(attemptId, published);
  }

  #notify(attemptId: string, published: PublishedState): void {
    const listeners = this.#listeners.get(attemptId);
    if (!listeners) return;
    if (published.ended) this.#listeners.delete(attemptId);
    const type = published.ended ? 'end' : 'grading';
    for (const listener of listeners) this.#call(listener, { type, published });
  }

  /** The final state of an attempt: kept, to MQTT, and `end` to its subscribers (who are let go). */
  end(attemptId: string, published: PublishedState): void {
    this.remember(attemptId, published, true);
    this.publish(attemptGradingTopic(attemptId), published.json);
    this.#notify(attemptId, published);
  }

  /** Keeps an ended attempt's final state for the retention time (`retained`: it is on MQTT too). */
  remember(attemptId: string, published: PublishedState, retained: boolean): void {
    this.#ended.delete(attemptId);
    this.#ended.set(attemptId, { published, expiresAt: this.#now() + this.#retentionMs, retained });
    while (this.#ended.size > this.#maxEndedKept) {
      const oldest = this.#ended.keys().next().value as string;
      const entry = this.#ended.get(oldest);
      if (entry?.retained) this.publish(attemptGradingTopic(oldest), null);
      this.#ended.delete(oldest);
    }
  }

  /** The kept final state of an ended attempt. */
  ended(attemptId: string): PublishedState | undefined {
    return this.#ended.get(attemptId)?.published;
  }

  /**
   * Follows an attempt: `current` is its state now when it is followed (undefined: it is not, or
   * has no state yet). The listener gets it at once, then every new state, then `end` (or
   * `closed`); an attempt that ended (and is not followed again) gives `end` at once. Returns the
   * function that stops following.
   */
  subscribe(
    attemptId: string,
    listener: LiveListener,
    followed: { tracked: boolean; published: PublishedState | undefined },
  ): () => void {
    if (this.#closed) {
      this.#call(listener, { type: 'closed' });
      return () => {};
    }
    const ended = this.#ended.get(attemptId);
    if (ended && !followed.tracked) {
      this.#call(listener, { type: 'end', published: ended.published });
      return () => {};
    }
    let listeners = this.#listeners.get(attemptId);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(attemptId, listeners);
    }
    listeners.add(listener);
    if (followed.published) this.#call(listener, { type: 'grading', published: followed.published });
    return () => {
      const set = this.#listeners.get(attemptId);
      set?.delete(listener);
      if (set?.size === 0) this.#listeners.delete(attemptId);
    };
  }

  /** Forgets the final states that expired, clearing their retained messages. */
  sweep(now: number): void {
    for (const [id, entry] of this.#ended) {
      if (entry.expiresAt > now) continue;
      if (entry.retained) this.publish(attemptGradingTopic(id), null);
      this.#ended.delete(id);
    }
  }

  /** Stops: subscribers get `closed`; nothing is published any more. Retained messages stay. */
  close(): void {
    this.#closed = true;
    for (const listeners of this.#listeners.values()) {
      for (const listener of listeners) this.#call(listener, { type: 'closed' });
    }
    this.#listeners.clear();
  }

  #call(listener: LiveListener, update: LiveUpdate): void {
    try {
      listener(update);
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'live grading: a subscriber failed');
    }
  }
}
