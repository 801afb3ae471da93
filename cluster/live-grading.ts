/**
 * Live grading across the instances of a cluster. An attempt is graded by the instance that holds
 * its partition (leases.ts), but its kit may publish through any instance, and its viewers may
 * follow it through any other:
 * - the instance that accepts a reading of a kit in a running attempt forwards the record on the
 *   routing topic `$iotlab/records/<kitId>` (every instance hears it, itself included, and the one
 *   grading the attempt takes it: the same record the ingest accepted, stamped once);
 * - the grading instance publishes states retained on `iotlab/v1/attempts/<id>/grading`, as alone;
 *   every instance relays them to its event streams and leaderboards (`LiveGrader.relay`).
 * Readings of kits in no running attempt are not forwarded (a kit's attempt is known to every
 * instance within a poll of its start; readings before that reach the grader from the store).
 */

import {
  type Ingest,
  type MessageRouting,
  PLATFORM_TOPIC_PREFIX,
  type RoutedListener,
} from '../broker/index.ts';
import type { LiveGrader } from '../grading/index.ts';
import type { TelemetryRecord } from '../protocol/index.ts';
import { attemptGradingTopic } from '../protocol/index.ts';

const RECORDS_TOPIC = `${PLATFORM_TOPIC_PREFIX}records/`;
const STATES = attemptGradingTopic('+');
/** `iotlab/v1/attempts/<id>/grading` → the id (the topic's fourth level). */
const attemptOf = (topic: string) => topic.split('/')[3] as string;

export interface SharedLiveGrading {
  /** Stops listening on the routing (before the broker closes). */
  close(): Promise<void>;
}

const asBuffer = (payload: unknown): Buffer =>
  Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload ?? ''), 'utf8');

export async function shareLiveGrading(
  grader: LiveGrader,
  routing: MessageRouting,
  ingest: Ingest,
  log: { warn(object: object, message: string): void },
): Promise<SharedLiveGrading> {
  ingest.addListener((record) => {
    if (!grader.followsKit(record.kitId)) return;
    routing.emit(
      { topic: `${RECORDS_TOPIC}${record.kitId}`, payload: Buffer.from(JSON.stringify(record)) },
      (error) => {
        if (error)
          log.warn(
            { kitId: record.kitId, err: error.message },
            'cluster: forwarding a record to live grading failed',
          );
      },
    );
  });
  const onRecord: RoutedListener = (message, done) => {
    try {
      grader.record(JSON.parse(asBuffer(message.payload).toString('utf8')) as TelemetryRecord);
    } catch (error) {
      log.warn(
        { topic: message.topic, err: (error as Error).message },
        'cluster: unreadable forwarded record',
      );
    }
    done();
  };
  const onState: RoutedListener = (message, done) => {
    grader.relay(attemptOf(message.topic), asBuffer(message.payload));
    done();
  };
  const listen = (topic: string, listener: RoutedListener) =>
    new Promise<void>((resolve) => routing.on(topic, listener, resolve));
  await Promise.all([listen(`${RECORDS_TOPIC}+`, onRecord), listen(STATES, onState)]);
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      const stop = (topic: string, listener: RoutedListener) =>
        new Promise<void>((resolve) => routing.removeListener(topic, listener, resolve));
      await Promise.all([stop(`${RECORDS_TOPIC}+`, onRecord), stop(STATES, onState)]);
    },
  };
}
