/**
 * `iotlab`: the command line. Each group of commands is a module of cli/commands/; this file holds
 * the program, the settings and kit registry every command shares, and the exit codes.
 */
import { Command } from 'commander';
import { KitRegistry, RegistryError } from '../labdb/index.ts';
import { accountCommands } from './commands/accounts.ts';
import type { CliContext } from './commands/context.ts';
import { platformCommands } from './commands/platform.ts';
import { queryCommands } from './commands/query.ts';
import { ConfigError, type DeepPartial, loadConfig, type PlatformConfig } from './config.ts';
import { openLabDatabaseFor, VERSION } from './platform.ts';

const program = new Command('iotlab')
  .description('IoT Industry College training-lab platform')
  .version(VERSION)
  .option('-c, --config <file>', 'JSON config file (default: $IOTLAB_CONFIG or ./iotlab.config.json)');

function config(overrides: DeepPartial<PlatformConfig> = {}): PlatformConfig {
  const file = program.opts<{ config?: string }>().config;
  return loadConfig({ ...(file ? { file } : {}), overrides });
}

/** Runs `work` with the kit registry of the configured lab database. */
async function withRegistry<T>(work: (registry: KitRegistry) => Promise<T>): Promise<T> {
  const db = await openLabDatabaseFor(config());
  try {
    return await work(new KitRegistry(db));
  } finally {
    await db.close();
  }
}

const cli: CliContext = { config, withRegistry };
platformCommands(program, cli);
accountCommands(program, cli);
queryCommands(program, cli);

program.parseAsync().catch((error: Error) => {
  if (error instanceof ConfigError || error instanceof RegistryError) {
    console.error(`iotlab: ${error.message}`);
    process.exit(2);
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(
      `iotlab: ${error.message} — another program uses that port; set IOTLAB_HTTP_PORT / IOTLAB_MQTT_PORT`,
    );
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
