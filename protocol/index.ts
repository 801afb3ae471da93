/** The wire contract shared by broker, gateway, simulator and dashboards. Imports nothing of ours. */
export * from './events.ts';
export * from './problems.ts';
export * from './sensors.ts';
export * from './serial.ts';
export * from './telemetry.ts';
export * from './topics.ts';
