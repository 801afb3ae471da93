/**
 * Running the platform in this process: the signals that stop it (gracefully, in the lifecycle's
 * order, naming a step that takes long) and the status line a person reads at the terminal.
 */
import type { Logger } from 'pino';
import type { Simulation } from '../firmware-sim/index.ts';
import type { PlatformConfig } from './config.ts';
import type { Lifecycle } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { type Platform, startPlatform } from './platform.ts';

function reportStatus(platform: Platform, logger: Logger, everySeconds: number): NodeJS.Timeout | undefined {
  if (everySeconds <= 0) return undefined;
  let lastReadings = platform.ingest.stats.readings;
  const timer = setInterval(() => {
    const ingest = platform.ingest.stats;
    const writer = platform.writer.stats;
    const rate = (ingest.readings - lastReadings) / everySeconds;
    lastReadings = ingest.readings;
    const kitsOnline = platform.broker.liveKits().filter((kit) => kit.online).length;
    // One line a person can read at a glance; the same numbers as fields for JSON logs.
    logger.info(
      {
        readingsPerSecond: Math.round(rate),
        kitsOnline,
        stored: writer.stored,
        spooled: writer.spooled,
        refusedMessages: ingest.refused,
      },
      `status: ${kitsOnline} ${kitsOnline === 1 ? 'kit' : 'kits'} online · ${Math.round(rate)} readings/s · messages stored ${writer.stored}, spooled ${writer.spooled}, refused ${ingest.refused}`,
    );
  }, everySeconds * 1000);
  timer.unref();
  return timer;
}

/** Signals this close after the first are the same request delivered twice. */
const DUPLICATE_SIGNAL_MS = 1_000;
/** How long a stop runs before it says what it waits for (and again as often while it waits). */
const SLOW_STOP_WARNING_MS = 10_000;

/**
 * Stops gracefully on SIGINT/SIGTERM (every accepted reading is written or spooled) and says
 * "stopped" last; a second signal forces exit.
 */
export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
  waitingFor: () => string | undefined = () => undefined,
): void {
  let stoppingSince: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // One Ctrl-C can arrive twice (a wrapper such as `timeout` passes it on to the process
      // group the terminal already signalled): only a later one is a person asking again.
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_MS) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'stopping: flushing readings to the store');
    // A stop that takes long says what it waits for (nothing is cut short: readings come first).
    const slow = setInterval(() => {
      const step = waitingFor();
      logger.warn(
        { seconds: Math.round((Date.now() - (stoppingSince ?? Date.now())) / 1000) },
        `still stopping: waiting for ${step ?? 'the platform to start'} (Ctrl-C again exits now)`,
      );
    }, SLOW_STOP_WARNING_MS);
    slow.unref();
    stop().then(
      () => {
        clearInterval(slow);
        logger.info('stopped');
        process.exit(0);
      },
      (error: Error) => {
        clearInterval(slow);
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}

/**
 * The simulator's socat processes run in a session of their own (a Ctrl-C must not pull the
 * simulated cables before the gateway lets go of them), so a closed terminal does not reach them:
 * the commands that simulate stop on its hang-up too, and stop socat with everything else.
 */
export const SIMULATING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs the platform (with the demo's simulated kits, stopped after the gateway) until a signal stops it. */
export async function runPlatform(
  settings: PlatformConfig,
  simulation?: Simulation,
): Promise<{ platform: Platform; logger: Logger }> {
  const logger = createLogger(settings.log.level, settings.log.json ? { pretty: false } : {});
  // Signals are heard from the start: a SIGTERM while the platform still starts (Node-RED takes a
  // second or two, and kits may already be publishing) waits for the start, then stops in order.
  let statusTimer: NodeJS.Timeout | undefined;
  const starting = startPlatform(settings, logger);
  let lifecycle: Lifecycle | undefined;
  stopOnSignals(
    logger,
    async () => {
      const platform = await starting;
      lifecycle = platform.lifecycle;
      if (statusTimer) clearInterval(statusTimer);
      // The gateway lets go of its serial ports before simulated boards behind them go away (a
      // planned stop, not an unplug); platform.close() then finds it stopped.
      await lifecycle.run('the serial gateway', () => platform.gateway?.stop());
      await lifecycle.run('the simulated kits', () => simulation?.stop());
      await platform.close();
    },
    simulation ? SIMULATING_SIGNALS : undefined,
    () => lifecycle?.current,
  );
  const platform = await starting;
  logger.info(
    {
      http: platform.ports.http,
      mqtt: platform.ports.mqtt,
      store: platform.store.kind,
      dataDir: settings.dataDir,
      sandbox: settings.mqtt.sandbox,
      gateway: settings.gateway.enabled,
    },
    `platform up: HTTP :${platform.ports.http} (MQTT over WebSocket at /mqtt, API docs at /docs), MQTT :${platform.ports.mqtt}, store ${platform.store.kind}`,
  );
  statusTimer = reportStatus(platform, logger, settings.log.statusIntervalSeconds);
  return { platform, logger };
}
