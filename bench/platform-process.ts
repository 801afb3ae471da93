import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A part of the platform as its own process (as in production), so its CPU and memory can be read from /proc. */
export interface PlatformProcess {
  pid: number;
  httpUrl: string;
  mqttUrl: string;
  usage(): Usage;
  stop(): Promise<number | null>;
}

export interface Usage {
  cpuSeconds: number;
  rssMB: number;
  peakRssMB: number;
}

export function processUsage(pid: number): Usage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuSeconds, rssMB: Math.round(kb('VmRSS') / 1024), peakRssMB: Math.round(kb('VmHWM') / 1024) };
}

/** Runs `iotlab <command>` as a child process with the given environment. */
export function spawnIotlab(
  command: string,
  env: Record<string, string>,
): { child: ChildProcess; exited: Promise<number | null> } {
  // IOTLAB_BENCH_PROFILE=<dir> writes a V8 CPU profile of the process there (for `--cpu-prof` analysis).
  const profile = process.env.IOTLAB_BENCH_PROFILE;
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, 'bin/iotlab.js', command], {
    env: {
      ...process.env,
      IOTLAB_HTTP_HOST: '127.0.0.1',
      IOTLAB_MQTT_HOST: '127.0.0.1',
      IOTLAB_LOG_LEVEL: 'warn',
      IOTLAB_LOG_JSON: 'true',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

export async function stopProcess(
  child: ChildProcess,
  exited: Promise<number | null>,
): Promise<number | null> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

const TICKS_PER_SECOND = 100;

export async function startPlatformProcess(env: Record<string, string>): Promise<PlatformProcess> {
  const httpPort = env.IOTLAB_HTTP_PORT as string;
  const mqttPort = env.IOTLAB_MQTT_PORT as string;
  const { child, exited } = spawnIotlab('start', env);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`platform exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${httpPort}/health`)
      .then((r) => r.status < 600)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('platform did not start within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid as number;
  return {
    pid,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    usage: () => processUsage(pid),
    stop: () => stopProcess(child, exited),
  };
}
