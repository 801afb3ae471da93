/** A durable first-in first-out queue of batches on disk (telemetry spool, gateway outbox). */
export { Spool, type SpoolOptions } from './spool.ts';
