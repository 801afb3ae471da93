/** The MQTT broker (Aedes with kit auth, topic ACL and the ingest hook) and the external-broker ingest. */
export * from './api.ts';
export * from './broker.ts';
export * from './external.ts';
export * from './identity.ts';
export * from './ingest.ts';
