import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kitTopic } from '../../protocol/index.ts';
import { freePort } from '../harness/servers.ts';
import { connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

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
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert);
    mqttsPort = await freePort();
    lab = await startTestPlatform({ mqtt: { tlsCert: cert, tlsKey: key, tlsPort: mqttsPort } });
  });
  afterAll(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves MQTT over TLS to a kit that trusts the certificate, and stores its readings', async () => {
    const secret = await lab.addKit('tls-kit');
    const kit = await connect(`mqtts://127.0.0.1:${mqttsPort}`, {
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
      connect(`mqtts://127.0.0.1:${mqttsPort}`, { username: 'tls-doubter', password: secret }),
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
});
