/**
 * `npm run demo` as a person runs it: in a terminal (a pty from `script`, so the logs are the
 * human-readable ones), reading what it prints, trying the lines it suggests, then Ctrl-C.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, eventually } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-demo-'));
const env = {
  ...process.env,
  IOTLAB_DATA_DIR: dataDir,
  IOTLAB_HTTP_HOST: '127.0.0.1',
  IOTLAB_HTTP_PORT: '0',
  IOTLAB_MQTT_HOST: '127.0.0.1',
  IOTLAB_MQTT_PORT: '0',
  IOTLAB_LOG_STATUS_INTERVAL_SECONDS: '1',
  IOTLAB_LOG_JSON: 'false', // the terminal's lines, whatever the caller's setting
};

/** What the terminal shows, as text (no colours, no carriage returns). */
function screen(raw: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences begin with ESC (\x1b)
  return raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

describeWithServer('socat', '`npm run demo` in a terminal', () => {
  let demo: ChildProcess;
  let raw = '';
  let exited: Promise<number | null>;
  const text = () => screen(raw);
  /** The printed line that contains `marker`, without its leading spaces and trailing comment. */
  const printed = (marker: string) => {
    const line = text()
      .split('\n')
      .find((l) => l.includes(marker));
    if (!line) throw new Error(`the demo printed no line with "${marker}":\n${text()}`);
    return line.trim().replace(/\s+#.*$/, '');
  };

  beforeAll(async () => {
    // Under `timeout`, as the trial ran it (and so it cannot outlive the test): a wrapper that
    // passes the terminal's Ctrl-C on to the demo, which so hears it twice. `script` runs the line
    // with $SHELL; `exec` and `--foreground` keep the demo in the terminal's foreground process
    // group whichever shell that is (dash forks, and a plain `timeout` moves itself and the demo
    // into a group of their own that a Ctrl-C never reaches).
    demo = spawn(
      'script',
      ['-qefc', `exec timeout --foreground 300 ${process.execPath} bin/iotlab-dev.js demo`, '/dev/null'],
      {
        env: { ...env, SHELL: '/bin/sh' },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    demo.stdout?.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    demo.stderr?.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => text().includes('/leaderboard'), 90_000, "the demo's guide");
      // Two status reports after the guide (one a second here; every 10 s by default).
      await eventually(
        () =>
          (
            text()
              .split('/leaderboard')[1]
              ?.match(/readings\/s/g) ?? []
          ).length >= 2,
        20_000,
        'two status reports',
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; the terminal shows:\n${text()}`);
    }
  }, 120_000);

  afterAll(async () => {
    if (demo.exitCode === null && demo.signalCode === null) {
      demo.stdin?.write('\x03');
      const timer = setTimeout(() => demo.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('prints one line per event: a compact status line, no field lines, no warning for its own kits', () => {
    const lines = text().split('\n');
    expect(
      lines.filter((line) => /^ {4}\w+: /.test(line)),
      text(),
    ).toEqual([]);
    expect(
      lines.filter((line) => /\b(WARN|ERROR)\b/.test(line)),
      text(),
    ).toEqual([]);
    const status = lines.filter((line) => line.includes('INFO: status:'));
    for (const line of status) {
      expect(line).toMatch(
        /^\[\d\d:\d\d:\d\d\] INFO: status: \d+ kits? online · \d+ readings\/s · messages stored \d+, spooled \d+, refused \d+$/,
      );
    }
    expect(status.at(-1)).toContain('status: 4 kits online');
  });

  it('prints a kit id and secret, and the line it prints publishes as that kit', async () => {
    const line = printed('mqtt pub');
    expect(line).toMatch(
      /^npx mqtt pub -h 127\.0\.0\.1 -p \d+ .*-u demo-01 --password=\S+ .*-t iotlab\/v1\/kits\/demo-01\/telemetry -m '\{"readings":/,
    );
    const viewerSecret = /-u demo-viewer:(\S+)/.exec(printed("/api/v1/kits'"))?.[1] as string;
    const port = Number(/-p (\d+)/.exec(line)?.[1]);
    const watcher = await connect(`mqtt://127.0.0.1:${port}`, {
      username: 'service:demo-viewer',
      password: viewerSecret,
    });
    const seen: string[] = [];
    watcher.on('message', (_topic, payload) => seen.push(payload.toString()));
    await watcher.subscribeAsync('iotlab/v1/kits/demo-01/telemetry', { qos: 1 });
    const payload = /-m '(.*)'$/.exec(line)?.[1] as string;
    await run('sh', ['-c', line], { env: process.env });
    await eventually(() => seen.includes(payload), 10_000, `${payload} on the kit's topic`);
    await watcher.endAsync();
  }, 30_000);

  it('streams a live grading as server-sent events with the curl -N line, and serves the leaderboard', async () => {
    const live = printed('curl -N');
    expect(live).toMatch(
      /^curl -N -u demo-viewer:\S+ 'http:\/\/127\.0\.0\.1:\d+\/api\/v1\/attempts\/[\w-]+\/live'$/,
    );
    const [, credentials, url] = /-u (\S+) '([^']+)'/.exec(live) ?? [];
    const authorization = `Basic ${Buffer.from(credentials as string).toString('base64')}`;
    const controller = new AbortController();
    const response = await fetch(url as string, { headers: { authorization }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let events = '';
    while (!events.includes('event: grading')) {
      const { value, done } = await reader.read();
      if (done) break;
      events += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    expect(events).toContain('event: grading');

    const board = printed('/leaderboard');
    const [, boardCredentials, boardUrl] = /-u (\S+) '([^']+)'/.exec(board) ?? [];
    const ranking = await fetch(boardUrl as string, {
      headers: { authorization: `Basic ${Buffer.from(boardCredentials as string).toString('base64')}` },
    });
    expect(ranking.status).toBe(200);
    expect(((await ranking.json()) as { teams: unknown[] }).teams).toHaveLength(10);
  }, 30_000);

  it('stops on Ctrl-C with one "stopped" line last and no warnings; its kits have Chinese names', async () => {
    const before = text().length;
    demo.stdin?.write('\x03');
    // A stop that hangs fails with what the demo printed (it names the step it waits for).
    const hung = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`the demo did not stop in 20 s:\n${text().slice(before)}`)),
        20_000,
      ).unref(),
    );
    expect(await Promise.race([exited, hung])).toBe(0);
    const atStop = text()
      .slice(before)
      .split('\n')
      .filter((line) => /^\[\d\d:\d\d:\d\d\] /.test(line));
    expect(atStop.filter((line) => /\b(WARN|ERROR)\b/.test(line))).toEqual([]);
    expect(atStop.map((line) => line.replace(/^\[[\d:]+\] /, '')).at(-1)).toBe('INFO: stopped');
    expect(atStop.filter((line) => line.includes('unplugged'))).toEqual([]);

    const { stdout } = await run(process.execPath, ['bin/iotlab-dev.js', 'kits', 'list'], { env });
    expect(stdout).toMatch(/demo-01\s+esp32\s+active\s+温室1号工位/);
    expect(stdout).toMatch(/demo-03\s+arduino\s+active\s+温室3号工位/);
  }, 30_000);
});
