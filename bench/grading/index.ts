/**
 * Grading benchmark (`npm run bench -- --suite grading`; never part of `npm test`). One JSON line per run:
 * - final: a class of kits (default 50) × 2 h × 8 sensors at 1 Hz (2.88 M readings) written into the
 *   embedded store and a real influxd (untimed, reported apart), then every attempt graded as
 *   the lab API does it — `loadGradingData` + `gradeAttempt` on a 14-criterion rubric — timed per
 *   store; once with the rubric alone, once with the session's other kits as copy-detection peers
 *   (as a batch of the lab API grades a session: each kit read once, `loadKitSeries` over the
 *   session cut to the attempt by `gradingDataOf`). The results must be identical on both stores.
 * - live-evaluation-cost: grading one kit's buffer of 1 min … 2 h from scratch (`gradeLive`, what a
 *   restarted grader does once per attempt), with and without the authenticity criterion;
 * - live-generator: the CPU the record generator and its pacing take alone;
 * - live: a LiveGrader on a lab database with 1,000 running attempts (25 classes, each a running
 *   lab session with 10 teams), fed one record per kit per second through its ingest listener;
 *   the process's CPU time minus that of the record generator alone, as % of one core. The
 *   attempts start with `historyMinutes` of readings already buffered (0: the start of a lab,
 *   when every partial score moves each second; 60: half-way through a 2-hour lab), since what
 *   is kept, published and re-checked depends on it. Measure for a few minutes
 *   (`--grading-live-seconds`): authenticity re-checks and details come in cycles of 15–60 s.
 */
import type { GradingBenchOptions } from './class-data.ts';
import { finalGrading } from './final.ts';
import { liveGrading } from './live.ts';

export async function gradingBench(opts: GradingBenchOptions): Promise<void> {
  if (opts.parts.includes('final')) await finalGrading(opts);
  if (opts.parts.includes('live')) await liveGrading(opts);
}
