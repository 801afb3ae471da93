import { readFileSync } from 'node:fs';
import { type IotlabProcess, spawnIotlab, untilHealthy } from '../harness/index.ts';

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

/** `iotlab <command>` built, its output shown; IOTLAB_BENCH_PROFILE=<dir> writes a V8 CPU profile of it there. */
export function spawnBenchIotlab(command: string, env: Record<string, string>): IotlabProcess {
  const profile = process.env.IOTLAB_BENCH_PROFILE;
  return spawnIotlab({
    command,
    env,
    output: 'inherit',
    ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}`] } : {}),
  });
}

const TICKS_PER_SECOND = 100;

export async function startPlatformProcess(env: Record<string, string>): Promise<PlatformProcess> {
  const httpPort = env.IOTLAB_HTTP_PORT as string;
  const mqttPort = env.IOTLAB_MQTT_PORT as string;
  const platform = spawnBenchIotlab('start', env);
  await untilHealthy(platform, Number(httpPort), { timeoutMs: 30_000, anyAnswer: true });
  return {
    pid: platform.pid,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    usage: () => processUsage(platform.pid),
    stop: () => platform.stop(),
  };
}
