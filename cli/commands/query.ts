/**
 * `iotlab query` and `doctor`: reading what the platform stored, and checking a machine before a
 * start.
 */
import type { Command } from 'commander';
import { KitRegistry } from '../../labdb/index.ts';
import type { TelemetryStore } from '../../telemetry/index.ts';
import { ConfigError, type PlatformConfig } from '../config.ts';
import { runDoctor } from '../doctor.ts';
import { openLabDatabaseFor, openStore } from '../platform.ts';
import type { CliContext } from './context.ts';

async function checkQuery(
  settings: PlatformConfig,
  store: TelemetryStore,
  kitId: string,
  sensor: string,
): Promise<void> {
  const sensors = [...(await store.seriesNames(kitId))].sort();
  if (sensors.includes(sensor)) return;
  if (sensors.length === 0) {
    const db = await openLabDatabaseFor(settings);
    const registered = await new KitRegistry(db).kitExists(kitId).finally(() => db.close());
    const lower = kitId.toLowerCase();
    const hint =
      lower !== kitId && (await store.seriesNames(lower)).length > 0
        ? ` (kit ids are lower case: did you mean "${lower}"?)`
        : '';
    throw new ConfigError(
      registered
        ? `kit ${kitId} has not sent any readings yet, so it has no sensor "${sensor}"`
        : `no kit "${kitId}" in the registry or the store${hint}: iotlab kits list shows the registered kits`,
    );
  }
  const lower = sensor.toLowerCase();
  const hint =
    lower !== sensor && sensors.includes(lower)
      ? ` (sensor names are lower case: did you mean "${lower}"?)`
      : '';
  throw new ConfigError(`kit ${kitId} has no sensor "${sensor}"${hint}; its sensors: ${sensors.join(', ')}`);
}

export function queryCommands(program: Command, { config }: CliContext): void {
  program
    .command('query <kitId> <sensor>')
    .description("print a kit's readings of one sensor from the configured store")
    .option('--from <time>', 'start: ISO time or minutes ago (e.g. 30m)', '60m')
    .option('--to <time>', 'end: ISO time (default now)')
    .option('--every <ms>', 'aggregate in windows of this many ms')
    .option('--limit <n>', 'most points', '1000')
    .action(
      async (
        kitId: string,
        sensor: string,
        options: { from: string; to?: string; every?: string; limit: string },
      ) => {
        const settings = config();
        const to = options.to ? Date.parse(options.to) : Date.now();
        const minutesAgo = /^(\d+)m$/.exec(options.from);
        const from = minutesAgo ? to - Number(minutesAgo[1]) * 60_000 : Date.parse(options.from);
        if (!Number.isFinite(from) || !Number.isFinite(to))
          throw new ConfigError('--from/--to must be ISO times (or --from 30m)');
        const store = openStore(settings);
        try {
          await checkQuery(settings, store, kitId, sensor);
          const query = { kitId, sensor, from, to, limit: Number(options.limit) };
          let printed = 0;
          if (options.every) {
            for (const w of await store.aggregate({ ...query, every: Number(options.every) })) {
              console.log(
                `${new Date(w.ts).toISOString()}  mean ${w.mean.toFixed(2)}  min ${w.min}  max ${w.max}  n ${w.count}`,
              );
              printed++;
            }
          } else {
            for (const point of await store.readings(query)) {
              console.log(`${new Date(point.ts).toISOString()}  ${point.value}`);
              printed++;
            }
          }
          if (printed === 0) {
            console.error(
              `no ${sensor} readings from ${kitId} between ${new Date(from).toISOString()} and ${new Date(to).toISOString()} (look further back with --from, e.g. --from 1440m)`,
            );
          }
        } finally {
          await store.close();
        }
      },
    );

  program
    .command('doctor')
    .description(
      'check this machine for the platform: Node.js, data directory, ports, store, TLS files, socat',
    )
    .action(async () => {
      const checks = await runDoctor(config());
      const marks = { ok: '✓', warn: '!', fail: '✗' } as const;
      for (const check of checks) console.log(`${marks[check.status]} ${check.subject}: ${check.detail}`);
      const failed = checks.filter((check) => check.status === 'fail').length;
      console.log(failed ? `${failed} problem(s) to fix before \`iotlab start\`` : 'ready to start');
      if (failed) process.exitCode = 1;
    });
}
