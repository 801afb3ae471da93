/**
 * Pseudo-terminal pairs from socat (Debian package `socat`): the gateway opens one end exactly as
 * a USB serial port, a simulated kit the other. Stopping socat makes both ends disappear, as
 * unplugging a cable does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Path of one end (a symlink to /dev/pts/N). */
  a: string;
  b: string;
  pid: number;
  /** Kills socat (both ends vanish, as when a USB cable is pulled); the same paths can be plugged again. */
  unplug(): Promise<void>;
  /** Unplugs and removes the temporary directory. */
  stop(): Promise<void>;
}

// socat outlives a process that dies without stopping it; kill what is left when this process exits.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startPtyPair(options: { linkA?: string; linkB?: string } = {}): Promise<PtyPair> {
  const socat = findSocat();
  if (!socat)
    throw new Error('socat not found on PATH: install the Debian package "socat" to simulate USB kits');
  const dir = options.linkA ? undefined : mkdtempSync(join(tmpdir(), 'iotlab-pty-'));
  const a = options.linkA ?? join(dir as string, 'gateway-side');
  const b = options.linkB ?? join(dir as string, 'kit-side');
  const child: ChildProcess = spawn(socat, [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C in the terminal signals the demo, which stops in order (the
    // gateway lets go of the port first); it must not unplug the simulated cable underneath it.
    detached: true,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5_000;
  while (!(exists(a) && exists(b))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`socat did not create the pty pair: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const unplug = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    a,
    b,
    pid: child.pid as number,
    unplug,
    async stop() {
      await unplug();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** socat's path, or undefined when it is not installed. */
export function findSocat(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && exists(join(dir, 'socat'))) return join(dir, 'socat');
  }
  return undefined;
}
