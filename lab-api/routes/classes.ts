import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/** Placeholder: filled in by the lab API work on classes. */
export const classesRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async () => {};
