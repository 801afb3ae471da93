/** Simulated kits that speak exactly what real kits speak, on the real wire. */
export * from './esp32.ts';
