import type { KitRegistry } from '../../labdb/index.ts';
import type { DeepPartial, PlatformConfig } from '../config.ts';

/** What every command gets from the program: its settings and the lab's kit registry. */
export interface CliContext {
  /** The settings (config file given with -c, the environment, then `overrides`). */
  config(overrides?: DeepPartial<PlatformConfig>): PlatformConfig;
  /** Runs `work` with the kit registry of the configured lab database. */
  withRegistry<T>(work: (registry: KitRegistry) => Promise<T>): Promise<T>;
}
