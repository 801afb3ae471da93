import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/** Placeholder: filled in by the grading work (grades, review, overrides, export, statistics). */
export const gradesRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async () => {};
