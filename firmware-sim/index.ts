/** Simulated kits that speak exactly what real kits speak, on the real wire. */
export * from './duplex-pair.ts';
export * from './esp32.ts';
export * from './firmata-board.ts';
export * from './kit-model.ts';
export * from './model.ts';
export { getProfile, PROFILE_NAMES } from './physics/index.ts';
export * from './pty.ts';
export * from './scenario.ts';
export * from './serial-kit.ts';
export * from './simulation.ts';
