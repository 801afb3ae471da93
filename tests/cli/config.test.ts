import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envName, loadConfig } from '../../cli/config.ts';

describe('configuration', () => {
  it('has embedded defaults that run without any file or variable', () => {
    const config = loadConfig({ env: {} });
    expect(config.http.port).toBe(8080);
    expect(config.mqtt.port).toBe(1883);
    expect(config.mqtt.sandbox).toBe(false);
    expect(config.store.influx.url).toBe('');
  });

  it('reads a file and lets the environment override each key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-config-'));
    const file = join(dir, 'iotlab.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        http: { port: 9000 },
        store: { influx: { url: 'http://influx:8086', apiVersion: 1 } },
      }),
    );
    const config = loadConfig({
      file,
      env: { IOTLAB_HTTP_PORT: '9100', IOTLAB_STORE_INFLUX_DATABASE: 'lab', IOTLAB_MQTT_SANDBOX: 'true' },
    });
    expect(config.http.port).toBe(9100);
    expect(config.store.influx).toMatchObject({ url: 'http://influx:8086', apiVersion: 1, database: 'lab' });
    expect(config.mqtt.sandbox).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the bad key and its variable', () => {
    expect(() => loadConfig({ env: { IOTLAB_HTTP_PORT: '70000' } })).toThrow(
      /http\.port \(env IOTLAB_HTTP_PORT\).*70000/,
    );
    expect(() => loadConfig({ env: { IOTLAB_MQTT_PORT: 'eighteen' } })).toThrow(
      /IOTLAB_MQTT_PORT="eighteen" must be a number/,
    );
    expect(() => loadConfig({ env: { IOTLAB_MQTT_SANDBOX: 'yes please' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, overrides: { http: { prot: 1 } as never } })).toThrow(
      /http\.prot.*Unexpected property/,
    );
    expect(() => loadConfig({ env: { IOTLAB_STORE_INFLUX_URL: 'http://x:8086' } })).toThrow(
      /store\.influx\.token/,
    );
    expect(() => loadConfig({ file: '/nonexistent/iotlab.json', env: {} })).toThrow(
      /cannot read config file/,
    );
  });

  it('takes automatic grading from the settings, and refuses to grade before the last readings are stored', () => {
    expect(loadConfig({ env: {} }).grading).toEqual({ sweepSeconds: 10, settleMs: 2_000 });
    expect(loadConfig({ env: { IOTLAB_GRADING_SWEEP_SECONDS: '0' } }).grading.sweepSeconds).toBe(0);
    expect(() => loadConfig({ env: { IOTLAB_GRADING_SETTLE_MS: '150' } })).toThrow(
      /grading\.settleMs \(env IOTLAB_GRADING_SETTLE_MS\) 150 must be more than ingest\.flushIntervalMs .* 200/,
    );
    expect(() =>
      loadConfig({ env: { IOTLAB_INGEST_FLUSH_INTERVAL_MS: '2500', IOTLAB_GRADING_SETTLE_MS: '2000' } }),
    ).toThrow(/must be more than ingest\.flushIntervalMs/);
    expect(loadConfig({ env: { IOTLAB_LOG_JSON: 'true' } }).log.json).toBe(true);
  });

  it('derives variable names from keys', () => {
    expect(envName(['store', 'influx', 'apiVersion'])).toBe('IOTLAB_STORE_INFLUX_API_VERSION');
    expect(envName(['dataDir'])).toBe('IOTLAB_DATA_DIR');
  });
});
