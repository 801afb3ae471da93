/**
 * The physical world of a simulated kit: the parts students wire (DHT22, LDR, soil probe,
 * HC-SR04, PIR, MQ-2), the room or greenhouse they measure, and the actuators acting on it.
 *
 * Everything is deterministic given a seed, and independent of how often it is read:
 * - the environment advances on a fixed grid of `TICK_MS` from the kit's start, drawing its
 *   randomness (drift, clouds, visitors, doors, leaks) from seeded streams in time order;
 * - sensor noise is a function of (seed, sensor, instant), so an extra read never shifts the
 *   random numbers of later reads.
 * Actuators act through first-order lags (`firstOrder`), so "fan on" is visible within ~30 s.
 *
 * random.ts (seeded randomness) · processes.ts (day, lags, drift, episodes) · parts.ts (the
 * sensors' parts) · profile.ts and environment.ts (what a kit has, how its world advances) ·
 * greenhouse.ts, cold-chain.ts, security.ts, air-quality.ts (each family's profile and room) ·
 * profiles.ts (all of them). The simulator's own entry is firmware-sim/index.ts.
 */
export * from './air-quality.ts';
export * from './cold-chain.ts';
export type { Environment, EnvironmentEvent, EnvironmentOptions } from './environment.ts';
export { TICK_MS } from './environment.ts';
export * from './greenhouse.ts';
export * from './parts.ts';
export * from './processes.ts';
export * from './profile.ts';
export * from './profiles.ts';
export * from './random.ts';
export * from './security.ts';
