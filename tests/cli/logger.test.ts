/**
 * What a person watching `npm run demo` or `iotlab start` in a terminal reads: one line per event,
 * with the fields the message does not already say appended to it.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../cli/logger.ts';

function terminal() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const logger = createLogger('info', { pretty: true, destination: out });
  return { logger, lines: () => text.split('\n').filter((line) => line !== '') };
}

describe('the terminal log', () => {
  it('prints an event with fields on one line, and does not repeat what the message says', () => {
    const { logger, lines } = terminal();
    logger
      .child({ module: 'gateway' })
      .info({ path: '/tmp/iotlab-pty-x/gateway-side', kitId: 'demo-03', by: 'metadata' }, 'kit identified');
    logger.info(
      { readingsPerSecond: 14, kitsOnline: 4, stored: 59, spooled: 0, refusedMessages: 0 },
      'status: 4 kits online · 14 readings/s · stored 59, spooled 0, refused 0',
    );
    logger
      .child({ module: 'broker' })
      .info({ kitId: 'demo-01', clientId: 'demo-01' }, 'kit demo-01 connected');
    logger.warn({ err: new Error('bad file descriptor'), path: '/dev/ttyACM0' }, 'cannot open serial port');
    expect(lines()).toHaveLength(4);
    const [identified, status, connected, warning] = lines();
    expect(identified).toMatch(
      /^\[\d\d:\d\d:\d\d\] INFO: \[gateway\] kit identified {2}path=\/tmp\/iotlab-pty-x\/gateway-side kitId=demo-03 by=metadata$/,
    );
    expect(status).toMatch(
      /^\[\d\d:\d\d:\d\d\] INFO: status: 4 kits online · 14 readings\/s · stored 59, spooled 0, refused 0$/,
    );
    expect(connected).toMatch(/INFO: \[broker\] kit demo-01 connected$/);
    expect(warning).toMatch(
      /WARN: cannot open serial port {2}err="bad file descriptor" path=\/dev\/ttyACM0$/,
    );
  });

  it('writes JSON, one object a line, when it is not pretty', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    createLogger('info', { pretty: false, destination: out }).info({ kitsOnline: 4 }, 'status');
    expect(JSON.parse(text.trim())).toMatchObject({ level: 30, kitsOnline: 4, msg: 'status' });
  });
});
