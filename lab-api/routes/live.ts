import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/** Placeholder: filled in by the live grading work (event stream, competition leaderboard). */
export const liveRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async () => {};
