/**
 * The platform's parts in one start and stop order. Each part is registered once it has started,
 * with how to stop it; a stop runs them last-started-first (the gateway before the broker it
 * publishes to, the writer's last flush before the store closes), and a start that fails half-way
 * stops what had started. The step that runs is what an operator needs when a stop takes long
 * (a serial port that does not drain, a client that does not let go): the signal handler names it.
 */
export class Lifecycle {
  readonly #parts: { name: string; stop: () => unknown }[] = [];
  #current: string | undefined;
  #stopping: Promise<void> | undefined;

  /** The step running now, if any (e.g. "the serial gateway"). */
  get current(): string | undefined {
    return this.#current;
  }

  /** A part that has started: it stops before every part registered earlier. */
  started(name: string, stop: () => unknown): void {
    this.#parts.push({ name, stop });
  }

  /** Runs one named step (a stop outside the registered parts, such as the demo's simulated kits). */
  async run<T>(name: string, work: () => Promise<T> | T): Promise<T> {
    this.#current = name;
    try {
      return await work();
    } finally {
      this.#current = undefined;
    }
  }

  /**
   * Stops every part, last started first, once (later calls wait for the same stop). A part that
   * fails to stop does not keep the others running: the first error is thrown after all stopped.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      let failure: unknown;
      for (const part of this.#parts.splice(0).reverse()) {
        try {
          await this.run(part.name, part.stop);
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== undefined) throw failure;
    })();
    return this.#stopping;
  }
}
