/** The lab's relational database: migrations, the query layer, and the kit registry. */
export * from './db.ts';
export * from './kits.ts';
export { hashSecret, newSecret, verifySecret } from './secrets.ts';
