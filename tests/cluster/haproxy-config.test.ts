/**
 * The HAProxy example an operator copies (deploy/haproxy.cfg, shown whole in the README) is the
 * file the cluster tests run, and HAProxy accepts it as written for real machines.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { findServerBinary, haproxyOnLoopback } from '../../harness/index.ts';
import { describeWithServer } from '../helpers/suites.ts';

const ROOT = join(import.meta.dirname, '../..');
const config = readFileSync(join(ROOT, 'deploy/haproxy.cfg'), 'utf8');

it('is shown whole in the README', () => {
  expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`\`\`\`haproxy\n${config}\`\`\``);
});

it('moves onto loopback with only the instances given, each MQTT server checked on its HTTP port', () => {
  const moved = haproxyOnLoopback(
    config,
    [
      { name: 'a', mqttPort: 21883, httpPort: 28080 },
      { name: 'b', mqttPort: 21884, httpPort: 28081 },
    ],
    { mqtt: 20001, http: 20002 },
  );
  expect(moved).toContain('bind 127.0.0.1:20001');
  expect(moved).toContain('bind 127.0.0.1:20002');
  expect(moved).toContain('server a 127.0.0.1:21883 port 28080');
  expect(moved).toContain('server b 127.0.0.1:28081');
  const settings = moved.split('\n').filter((line) => !line.startsWith('#'));
  expect(settings.filter((line) => /^\s*server c /.test(line))).toEqual([]);
  expect(settings.filter((line) => /10\.0\.0\./.test(line))).toEqual([]);
});

describeWithServer('haproxy', 'deploy/haproxy.cfg', () => {
  it('passes `haproxy -c`', async () => {
    const { stdout } = await promisify(execFile)(findServerBinary('haproxy') as string, [
      '-c',
      '-f',
      join(ROOT, 'deploy/haproxy.cfg'),
    ]);
    expect(stdout).toContain('Configuration file is valid');
  });
});
