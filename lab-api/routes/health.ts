import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

export const healthRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (app, { ctx }) => {
  const { deps } = ctx;
  const started = Date.now();
  app.get('/health', { config: { access: 'public' } }, async (_request, reply) => {
    const reachable = await deps.store.ping().catch(() => false);
    const { ingest, writer } = deps.stats();
    // Degraded, not down: readings still arrive and wait in the spool while the store is away.
    const status = reachable ? 'ok' : 'degraded';
    void reply.status(reachable ? 200 : 503);
    return {
      status,
      version: deps.version,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      store: { kind: deps.store.kind, reachable },
      writer,
      ingest,
    };
  });
};
