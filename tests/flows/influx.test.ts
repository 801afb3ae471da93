/**
 * When the platform stores in InfluxDB, the flows get an `iotlab-influxdb` connection for the
 * InfluxDB nodes (node-red-contrib-influxdb) set from the store settings: a student's flow with an
 * "influxdb out" node writes into the platform's own database, on a real influxd.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FlowsEditor, INFLUX_NODE_ID } from '../../flows/index.ts';
import { createInfluxDatabase, type RunningServer, startInfluxd } from '../../harness/index.ts';
import { eventually } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

describeWithServer('influxd', 'InfluxDB nodes from the store settings', () => {
  let dir: string;
  let editor: FlowsEditor;
  let influx: RunningServer;
  const app = Fastify();

  beforeAll(async () => {
    influx = await startInfluxd();
    await createInfluxDatabase(influx.url, 'iotlab');
    dir = mkdtempSync(join(tmpdir(), 'iotlab-flows-influx-'));
    editor = await FlowsEditor.mount({
      app,
      userDir: dir,
      settingsRoutes: false,
      labSignIn: {
        signIn: async () => ({ ok: false, reason: 'wrong' }),
        byUsername: async () => undefined,
        byToken: async () => undefined,
        issueToken: async () => {
          throw new Error('nobody signs in here');
        },
        revokeToken: async () => {},
        deviceFromCookies: () => undefined,
        deviceCookie: () => '',
      },
      studentAccess: 'none',
      log: silent,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    await editor.start({ host: '127.0.0.1', port: 1, username: 'service:node-red', password: 'x' });
  }, 60_000);

  afterAll(async () => {
    await editor?.stop();
    await app.close();
    await influx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lets a flow's InfluxDB node write into the platform's database without any setup", async () => {
    const deployed = await editor.configureInflux({
      url: influx.url,
      apiVersion: 1,
      database: 'iotlab',
      username: '',
      password: '',
      token: '',
    });
    expect(deployed).toBe(true);
    // A student's flow: a reading, cleaned, into the store through the preconfigured connection.
    await editor.upsert([
      { id: 'influx-check-tab', type: 'tab', label: 'InfluxDB check' },
      {
        id: 'influx-check-inject',
        type: 'inject',
        z: 'influx-check-tab',
        once: true,
        onceDelay: 0.1,
        repeat: '',
        payloadType: 'json',
        payload: '{"temperature_smooth":21.5}',
        topic: '',
        props: [{ p: 'payload' }],
        wires: [['influx-check-out']],
      },
      {
        id: 'influx-check-out',
        type: 'influxdb out',
        z: 'influx-check-tab',
        influxdb: INFLUX_NODE_ID,
        measurement: 'flow_check',
        precision: '',
        retentionPolicy: '',
        database: 'iotlab',
        wires: [],
      },
    ]);
    const query = async () => {
      const url = `${influx.url}/query?db=iotlab&q=${encodeURIComponent('SELECT * FROM flow_check')}`;
      const body = (await (await fetch(url)).json()) as {
        results: { series?: { columns: string[]; values: unknown[][] }[] }[];
      };
      return body.results[0]?.series?.[0];
    };
    await eventually(async () => (await query()) !== undefined, 15_000, 'the point written by the flow');
    const series = await query();
    expect(series?.columns).toContain('temperature_smooth');
    expect(series?.values[0]?.[series.columns.indexOf('temperature_smooth')]).toBe(21.5);
  });

  it('uses the token for InfluxDB 2.x and 3.x, and keeps a single connection', async () => {
    await editor.configureInflux({
      url: 'https://influx.lab.example:8443',
      apiVersion: 2,
      database: '',
      username: '',
      password: '',
      token: 'tok-2',
    });
    const connections = (await editor.flows()).filter((node) => node.id === INFLUX_NODE_ID);
    expect(connections).toEqual([
      expect.objectContaining({
        influxdbVersion: '2.0',
        url: 'https://influx.lab.example:8443',
        protocol: 'https',
        port: '8443',
      }),
    ]);
  });
});
