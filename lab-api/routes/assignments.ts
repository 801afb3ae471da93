import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/** Placeholder: filled in by the lab API work on assignments. */
export const assignmentsRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async () => {};
