/**
 * The lab API's contract: a TypeBox schema for every request and answer. The routes validate,
 * serialize and document (OpenAPI) with these schemas; their types (`Static<>`, exported under the
 * same names) type the server's handlers and domain objects, the dashboards (`import type`: nothing
 * of it reaches the browser bundle) and the tests. It imports nothing but TypeBox and protocol/.
 */
export * from './assignments.ts';
export * from './audit.ts';
export * from './classes.ts';
export * from './dashboard.ts';
export * from './grades.ts';
export * from './kits.ts';
export * from './live.ts';
export * from './people.ts';
export * from './primitives.ts';
export * from './projects.ts';
export * from './rubric.ts';
export * from './tasks.ts';
