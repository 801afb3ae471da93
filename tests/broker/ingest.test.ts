/**
 * The ingest step's own bookkeeping, driven directly (the broker tests drive it over MQTT): what
 * reaches the platform log, which the MQTT tests cannot see.
 */
import { describe, expect, it } from 'vitest';
import { Ingest } from '../../broker/index.ts';
import type { ProblemCode } from '../../protocol/index.ts';

describe('the ingest log', () => {
  it('has one line per kit and code, however many different bad sensor names a kit sends', () => {
    const logged: ProblemCode[] = [];
    const ingest = new Ingest({ sink: () => {}, log: ({ problem }) => logged.push(problem.code) });
    for (let message = 0; message < 500; message++) {
      const readings = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`Bad_${message}_${i}`, 1]));
      ingest.telemetry('kit-a', 'iotlab/v1/kits/kit-a/telemetry', Buffer.from(JSON.stringify({ readings })));
    }
    expect(logged.sort()).toEqual(['BAD_SENSOR_NAME', 'NO_READINGS']);
  });
});
