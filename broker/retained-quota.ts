/**
 * A quota on the retained messages under one topic prefix (the sandbox, where anyone may publish
 * without credentials): at most `maxMessages` topics keep one, each at most `maxBytes` of topic and
 * payload together. It mirrors the broker's retained store, which starts empty with the process.
 */
export class RetainedQuota {
  /** Size (topic + payload bytes) of the retained message kept on each topic. */
  readonly #kept = new Map<string, number>();

  constructor(readonly limits: { maxMessages: number; maxBytes: number }) {}

  /**
   * Whether a retained message may be kept; counts it when it may. An empty payload clears the
   * topic's retained message (MQTT 3.1.1 §3.3.1.3), which is always allowed.
   */
  admit(topic: string, payloadBytes: number): boolean {
    if (payloadBytes === 0) {
      this.#kept.delete(topic);
      return true;
    }
    const size = Buffer.byteLength(topic) + payloadBytes;
    if (size > this.limits.maxBytes) return false;
    if (!this.#kept.has(topic) && this.#kept.size >= this.limits.maxMessages) return false;
    this.#kept.set(topic, size);
    return true;
  }
}
