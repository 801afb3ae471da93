import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/** Placeholder: filled in by the lab API work on projects. */
export const projectsRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async () => {};
