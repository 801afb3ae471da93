/** The lab's relational database: migrations, the query layer (SQLite or PostgreSQL), and the kit registry. */
export * from './db.ts';
export * from './kits.ts';
export * from './open.ts';
export { LabDbConnectError, openPostgresLabDb, type PostgresOptions, redactUrl } from './postgres.ts';
export { hashSecret, newSecret, verifySecret } from './secrets.ts';
