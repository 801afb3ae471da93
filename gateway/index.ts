/** The serial gateway: USB serial (and Firmata) kits → MQTT, commands back down. */
export * from './discovery.ts';
export * from './firmata/index.ts';
export * from './gateway.ts';
export { LineSplitter } from './lines.ts';
