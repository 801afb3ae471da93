import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPorts, LineSplitter, matchUsbSerial } from '../../gateway/index.ts';

describe('USB board recognition', () => {
  it('knows the boards and USB-serial chips of the training base by vendor and product id', () => {
    expect(matchUsbSerial('2341', '0043')).toBe('Arduino'); // Uno R3
    expect(matchUsbSerial('1A86', '7523')).toBe('CH340 / CH9102'); // case-insensitive
    expect(matchUsbSerial('10c4', 'ea60')).toBe('Silicon Labs CP210x');
    expect(matchUsbSerial('0403', '6001')).toBe('FTDI');
    expect(matchUsbSerial('303a', '1001')).toBe('Espressif (ESP32 native USB)');
    expect(matchUsbSerial('1a86', '0001')).toBeUndefined(); // a CH340 vendor id, but not a serial chip
    expect(matchUsbSerial('046d', 'c52b')).toBeUndefined(); // a mouse receiver
    expect(matchUsbSerial(undefined, undefined)).toBeUndefined();
  });

  it('watches configured paths that exist, whether or not USB discovery works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-ports-'));
    const present = join(dir, 'ttyACM0');
    writeFileSync(present, '');
    const found = await findPorts([present, join(dir, 'ttyACM1')], true);
    expect(found).toEqual([{ path: present, configured: true }]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('line splitting', () => {
  it('splits CRLF and LF lines across chunks, and drops an over-long line up to its newline', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 16);
    splitter.push(Buffer.from('temp:2'));
    splitter.push(Buffer.from('1\r\nhum:5'));
    splitter.push(Buffer.from('0\n'));
    splitter.push(Buffer.from(`${'x'.repeat(40)}`));
    splitter.push(Buffer.from(`${'y'.repeat(40)}\r\nok:1\r\n`));
    expect(lines).toEqual(['temp:21', 'hum:50', 'ok:1']);
    expect(splitter.counts).toEqual({ overlong: 1, droppedBytes: 81 }); // 80 characters and the \r
  });
});
