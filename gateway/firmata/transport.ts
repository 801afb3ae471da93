/**
 * The stream a Firmata kit talks over: a serial port it opens itself, or any duplex stream it is
 * given (a serialport `SerialPort`, a TCP socket to a serial bridge, one end of an in-memory pair).
 */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { FirmataKitError } from './errors.ts';

/** Opens a serial port; a failure says what usually causes it (FIRMATA_PORT). */
export async function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  try {
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  } catch (error) {
    const message = (error as Error).message;
    const hint = /permission denied/i.test(message)
      ? ' (add the user to the "dialout" group, then log in again)'
      : /no such file|ENOENT/i.test(message)
        ? ' (is the board plugged in? `iotlab kits` lists the ports)'
        : /busy|lock/i.test(message)
          ? ' (another program — the Serial Monitor, another gateway — has it open)'
          : '';
    throw new FirmataKitError('FIRMATA_PORT', `cannot open ${path}: ${message}${hint}`);
  }
  return port;
}

/** The stream's serialport side, when it is a `SerialPort` (a plain stream has none of it). */
function asSerialPort(transport: Duplex): Partial<SerialPort> {
  return transport as Partial<SerialPort>;
}

/** How the kit names the transport in messages: the port's path, or "stream". */
export function transportLabel(transport: Duplex): string {
  return asSerialPort(transport).path ?? 'stream';
}

/** A serial port still opening: it will emit `open` itself. Anything else will not (see johnny-five.ts). */
export function isOpening(transport: Duplex): boolean {
  const port = asSerialPort(transport);
  return typeof port.isOpen === 'boolean' && !port.isOpen && !transport.destroyed;
}

/** Whether writes can still reach the board. */
export function isWritable(transport: Duplex): boolean {
  return !transport.destroyed && asSerialPort(transport).isOpen !== false;
}

/** How long a close waits for the pending writes to leave (57,600 baud: a few KB, well under it). */
const DRAIN_WAIT_MS = 2_000;

/** Closes the transport after the pending writes (the switch-offs) reached the board. */
export async function closeTransport(transport: Duplex): Promise<void> {
  const port = asSerialPort(transport);
  if (
    typeof port.isOpen === 'boolean' &&
    typeof port.close === 'function' &&
    typeof port.drain === 'function'
  ) {
    if (!port.isOpen) {
      if (!transport.destroyed) transport.destroy();
      return;
    }
    // A board that stopped reading (a hung USB adapter) must not hold the stop: wait so long only.
    await new Promise<void>((resolve) => {
      setTimeout(resolve, DRAIN_WAIT_MS).unref();
      (port.drain as (cb: () => void) => void)(() => resolve());
    });
    await new Promise<void>((resolve) => (port.close as (cb: () => void) => void)(() => resolve()));
    return;
  }
  if (transport.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    transport.once('close', done);
    transport.once('error', done);
    transport.end(() => transport.destroy());
    setTimeout(() => {
      transport.destroy();
      resolve();
    }, 1_000).unref();
  });
}
