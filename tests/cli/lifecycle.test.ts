/**
 * The platform's parts start in one order and stop in its reverse: a start that fails half-way
 * (the HTTP port taken) lets go of what had started, so the operator can free the port and start
 * again without a process left holding the MQTT port or the lab database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig, startPlatform } from '../../cli/index.ts';
import { Lifecycle } from '../../cli/lifecycle.ts';

async function listening(port = 0): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}
const portOf = (server: Server) => (server.address() as { port: number }).port;
const closed = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('the platform lifecycle', () => {
  it('stops what had started when a start fails, and starts once the port is free', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-lifecycle-'));
    const taken = await listening();
    const probe = await listening();
    const mqttPort = portOf(probe);
    await closed(probe);
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir,
        http: { host: '127.0.0.1', port: portOf(taken) },
        mqtt: { host: '127.0.0.1', port: mqttPort },
        log: { level: 'silent', statusIntervalSeconds: 0 },
        flows: { enabled: false },
      },
    });
    await expect(startPlatform(config, pino({ level: 'silent' }))).rejects.toThrow(/EADDRINUSE/);
    // The broker had listened on the MQTT port: it let go of it.
    await closed(await listening(mqttPort));

    await closed(taken);
    const platform = await startPlatform(config, pino({ level: 'silent' }));
    expect(platform.ports.mqtt).toBe(mqttPort);
    await platform.close();
    await closed(await listening(mqttPort));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops last-started first, every part even when one fails, and names the step that runs', async () => {
    const lifecycle = new Lifecycle();
    const stopped: string[] = [];
    let release = () => {};
    lifecycle.started('the lab database', () => void stopped.push('db'));
    lifecycle.started('the MQTT broker', () => {
      stopped.push('broker');
      throw new Error('socket already closed');
    });
    lifecycle.started('the serial gateway', () => new Promise<void>((resolve) => (release = resolve)));
    const stopping = lifecycle.stop();
    await Promise.resolve();
    expect(lifecycle.current).toBe('the serial gateway');
    release();
    await expect(stopping).rejects.toThrow('socket already closed');
    expect(stopped).toEqual(['broker', 'db']);
    expect(lifecycle.current).toBeUndefined();
    expect(lifecycle.stop()).toBe(stopping);
    await stopping.catch(() => {});
  });
});
