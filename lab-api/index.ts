/** The lab API: the fastify application (routes, schemas, errors), built without listening. */
export { type AppDeps, buildApp, type KitConnection } from './app.ts';
export { ApiError, type ErrorBody } from './errors.ts';
