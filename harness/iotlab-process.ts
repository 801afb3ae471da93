import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What a process's error message quotes of its output. */
const OUTPUT_KEPT = 8_000;

export interface IotlabProcessOptions {
  /** `start`, `gateway`, … */
  command: string;
  /** Added to this process's environment (IOTLAB_* settings, IOTLAB_CONFIG). */
  env?: Record<string, string>;
  /** Run the TypeScript sources through tsx (tests) instead of the build (benchmarks). */
  fromSources?: boolean;
  /** Options for node itself (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Show its output, or keep the end of it for error messages (default). */
  output?: 'inherit' | 'keep';
}

export interface IotlabProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** The end of its output (empty when shown instead). */
  output(): string;
  /** SIGTERM (SIGKILL after 30 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `iotlab <command>` in a process of its own, on loopback and logging warnings as JSON unless `env` says otherwise. */
export function spawnIotlab(options: IotlabProcessOptions): IotlabProcess {
  const entry = options.fromSources ? ['--import', 'tsx', 'cli/main.ts'] : ['bin/iotlab.js'];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry, options.command], {
    cwd: ROOT,
    env: {
      ...process.env,
      IOTLAB_HTTP_HOST: '127.0.0.1',
      IOTLAB_MQTT_HOST: '127.0.0.1',
      IOTLAB_LOG_LEVEL: 'warn',
      IOTLAB_LOG_JSON: 'true',
      ...options.env,
    },
    stdio: [
      'ignore',
      options.output === 'inherit' ? 'inherit' : 'pipe',
      options.output === 'inherit' ? 'inherit' : 'pipe',
    ],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid as number,
    exited,
    output: () => tail,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * Waits until the process answers GET /health on `httpPort` with 200 (or, with `anyAnswer`, at
 * all); returns the answer's JSON. Kills the process and throws, quoting its output, if it exits
 * or does not answer in time.
 */
export async function untilHealthy(
  platform: IotlabProcess,
  httpPort: number,
  options: { timeoutMs?: number; anyAnswer?: boolean } = {},
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last = 'no answer';
  for (;;) {
    if (platform.child.exitCode !== null) {
      throw new Error(`iotlab exited with ${platform.child.exitCode}:\n${platform.output()}`);
    }
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`).catch(() => undefined);
    if (health) {
      const text = await health.text();
      last = `${health.status} ${text}`;
      if (health.status === 200 || options.anyAnswer)
        return JSON.parse(text || '{}') as Record<string, unknown>;
    }
    if (Date.now() > deadline) {
      platform.child.kill('SIGKILL');
      throw new Error(
        `iotlab did not answer /health in time (last answer: ${last}); its output:\n${platform.output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
