/**
 * Which platform instance grades which running attempts, when several share one lab (a cluster):
 * live grading asks through this port, the cluster implements it with leases (cluster/leases.ts)
 * and the composition root hands it to the {@link LiveGrader}. Alone, an instance grades them all.
 *
 * An attempt's partition is its lab session (an attempt without one is its own partition), so a
 * session's attempts and its leaderboard are graded by one instance. An instance holds a
 * partition's lease while it polls (every second); when it stops polling — it crashed — the lease
 * expires and another instance takes the partition over, rebuilding the attempts' states from the
 * store. A partition may also be handed over while its holder runs (an instance joined): the
 * holder's next poll no longer names it, and it stops grading those attempts.
 */
import type { RunningAttempt } from './source.ts';

export interface LivePartitions {
  /**
   * Of these partitions (those with running attempts), the ones this instance grades now: it
   * renews the leases it holds and claims free ones that fall to it.
   */
  hold(keys: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * Lets go of these partitions at once and takes no more (a stopping instance), so another
   * takes them over.
   */
  release(keys: readonly string[]): Promise<void>;
}

/** The partition a running attempt is graded in. */
export function partitionOf(attempt: Pick<RunningAttempt, 'id' | 'sessionId'>): string {
  return attempt.sessionId === null ? `attempt:${attempt.id}` : `session:${attempt.sessionId}`;
}
