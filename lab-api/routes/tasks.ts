import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/** Placeholder: filled in by the lab API work on tasks. */
export const tasksRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async () => {};
