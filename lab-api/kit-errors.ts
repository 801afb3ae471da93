/**
 * The last error reports the platform sent each kit (its `errors` topic), kept in memory so a
 * student who opens the dashboard after the fact still sees why their readings were refused.
 */
import type { KitErrorMessage } from '../protocol/index.ts';

export class RecentKitErrors {
  readonly #byKit = new Map<string, KitErrorMessage[]>();
  readonly #perKit: number;

  constructor(perKit = 20) {
    this.#perKit = perKit;
  }

  /** For `ingest.addNotifier`. */
  readonly add = (kitId: string, message: KitErrorMessage): void => {
    const list = this.#byKit.get(kitId) ?? [];
    list.unshift(message);
    if (list.length > this.#perKit) list.length = this.#perKit;
    this.#byKit.set(kitId, list);
  };

  /** Newest first. */
  of(kitId: string): readonly KitErrorMessage[] {
    return this.#byKit.get(kitId) ?? [];
  }
}
