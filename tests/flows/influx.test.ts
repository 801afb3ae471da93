/**
 * When the platform stores in InfluxDB and the InfluxDB nodes are installed, the flows get an
 * `iotlab-influxdb` config node set from the store settings. node-red-contrib-influxdb is not a
 * platform dependency, so a stand-in node of the same type and credentials records what it got.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowsEditor, INFLUX_NODE_ID } from '../../flows/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const silent = { info() {}, warn() {}, error() {}, debug() {} };
let dir: string;
let editor: FlowsEditor;
const app = Fastify();
const logged: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iotlab-flows-influx-'));
  editor = await FlowsEditor.mount({
    app,
    userDir: dir,
    nodesDir: join(here, 'fixtures', 'influxdb-stub'),
    settingsRoutes: false,
    accounts: {
      signIn: async () => undefined,
      byUsername: async () => undefined,
      byToken: async () => undefined,
    },
    studentAccess: 'none',
    log: { ...silent, info: (_object: object, message: string) => logged.push(message) },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  await editor.start({ host: '127.0.0.1', port: 1, username: 'service:node-red', password: 'x' });
});
afterAll(async () => {
  await editor?.stop();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('InfluxDB nodes from the store settings', () => {
  it('gives the flows an InfluxDB 1.x connection with the store database and user', async () => {
    const deployed = await editor.configureInflux({
      url: 'http://127.0.0.1:8086',
      apiVersion: 1,
      database: 'iotlab',
      username: 'lab',
      password: 'secret-1',
      token: '',
    });
    expect(deployed).toBe(true);
    const stub = (
      globalThis as { __iotlabInfluxStub?: { config: Record<string, unknown>; credentials: object } }
    ).__iotlabInfluxStub;
    expect(stub?.config).toMatchObject({
      id: INFLUX_NODE_ID,
      hostname: '127.0.0.1',
      port: '8086',
      protocol: 'http',
      database: 'iotlab',
      influxdbVersion: '1.x',
    });
    expect(stub?.credentials).toMatchObject({ username: 'lab', password: 'secret-1' });
  });

  it('uses the token for InfluxDB 2.x and 3.x, and keeps a single config node', async () => {
    await editor.configureInflux({
      url: 'https://influx.lab.example:8443',
      apiVersion: 2,
      database: '',
      username: '',
      password: '',
      token: 'tok-2',
    });
    const stub = (
      globalThis as { __iotlabInfluxStub?: { config: Record<string, unknown>; credentials: object } }
    ).__iotlabInfluxStub;
    expect(stub?.config).toMatchObject({
      influxdbVersion: '2.0',
      url: 'https://influx.lab.example:8443',
      usetls: true,
    });
    expect(stub?.credentials).toMatchObject({ token: 'tok-2' });
    expect((await editor.flows()).filter((node) => node.type === 'influxdb')).toHaveLength(1);
  });
});
