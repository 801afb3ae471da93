import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../cli/index.ts';
import { freePort } from '../../harness/index.ts';
import { kitTopic } from '../../protocol/index.ts';
import { connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { announceConnect } from './raw-mqtt.ts';

/**
 * The network address of these tests: 127.0.0.2 is loopback too on Linux, but a listener bound
 * to 127.0.0.1 alone (the plain port when `mqtt.plainPort` is false) does not answer on it.
 */
const NETWORK_HOST = '127.0.0.2';

describe('TLS when a certificate is configured', () => {
  let lab: TestPlatform;
  let dir: string;
  let ca: Buffer;
  let mqttsPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iotlab-tls-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        `subjectAltName=IP:127.0.0.1,IP:${NETWORK_HOST},DNS:localhost`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert);
    mqttsPort = await freePort();
    lab = await startTestPlatform({
      mqtt: { host: NETWORK_HOST, plainPort: false, tlsCert: cert, tlsKey: key, tlsPort: mqttsPort },
    });
  });
  afterAll(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves MQTT over TLS to a kit that trusts the certificate, and stores its readings', async () => {
    const secret = await lab.addKit('tls-kit');
    const kit = await connect(`mqtts://${NETWORK_HOST}:${mqttsPort}`, {
      username: 'tls-kit',
      password: secret,
      ca,
    });
    await kit.publishAsync(kitTopic('tls-kit', 'telemetry'), '{"readings":{"co2":612}}', { qos: 1 });
    await eventually(
      async () => (await lab.platform.store.latest('tls-kit')).co2?.value === 612,
      5_000,
      'the reading',
    );
    await kit.endAsync();
  });

  it('refuses a client that does not trust the certificate', async () => {
    const secret = await lab.addKit('tls-doubter');
    await expect(
      connect(`mqtts://${NETWORK_HOST}:${mqttsPort}`, { username: 'tls-doubter', password: secret }),
    ).rejects.toThrow(/self[- ]signed/i);
  });

  it('serves the HTTP API over HTTPS with the same certificate', async () => {
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(`https://127.0.0.1:${lab.platform.ports.http}/health`, { ca }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });

  it('closes the plain MQTT port to the network when mqtt.plainPort is false', async () => {
    const secret = await lab.addKit('plain-kit');
    const options = { username: 'plain-kit', password: secret };
    await expect(connect(`mqtt://${NETWORK_HOST}:${lab.platform.ports.mqtt}`, options)).rejects.toThrow(
      /ECONNREFUSED/,
    );
    // This machine's own flows and gateway still reach it over loopback.
    const local = await connect(`mqtt://127.0.0.1:${lab.platform.ports.mqtt}`, options);
    await local.endAsync();
  });

  it('refuses mqtt.plainPort false without a certificate: kits would have no MQTT port', () => {
    expect(() => loadConfig({ env: {}, overrides: { mqtt: { plainPort: false } } })).toThrow(ConfigError);
  });

  it('closes a TLS connection announcing a huge CONNECT while the client is still sending it', async () => {
    const socket = tlsConnect({ host: NETWORK_HOST, port: mqttsPort, ca });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    socket.write(announceConnect(250 * 1024 * 1024));
    let sent = 0;
    while (sent < 64 * 1024 * 1024 && !socket.destroyed) {
      const flushed = socket.write(chunk);
      sent += chunk.length;
      if (!flushed) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
    }
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    await closed;
  });
});
