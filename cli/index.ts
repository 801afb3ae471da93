/**
 * `iotlab` as a library, for the benchmarks and the tests' helpers: the configuration, the
 * composition root (`startPlatform`), the demo lab's seeding and the process's heap settings.
 * The command itself is main.ts, which runs when imported (bin/ starts it); nothing imports it.
 */
export {
  ConfigError,
  ConfigSchema,
  type DeepPartial,
  type LoadConfigOptions,
  loadConfig,
  type PlatformConfig,
} from './config.ts';
export { DEMO_ALARM_KIT, deployDemoFlows, FLOW_TASK_TITLE, seedFlowTask } from './demo-flows.ts';
export { type DemoAccount, demoKitName, seedDemoLab, startDemoSession } from './demo-seed.ts';
export { HEAP_GROWING_PERCENT, tuneHeapForServer } from './heap.ts';
export { openLabDatabaseFor, openStore, type Platform, startPlatform, VERSION } from './platform.ts';
