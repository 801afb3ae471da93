/** Telemetry storage: one store interface, InfluxDB and embedded adapters, and the spooling writer. */
export * from './embedded.ts';
export * from './influxdb.ts';
export * from './store.ts';
export * from './writer.ts';
