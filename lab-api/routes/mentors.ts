import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/** Placeholder: filled in by the lab API work on mentors. */
export const mentorsRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async () => {};
