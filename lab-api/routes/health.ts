import type { FastifyPluginAsync } from 'fastify';
import type { LabContext } from '../app.ts';

/**
 * How long /health waits for the store: a load balancer or an operator asking "is it up?" wants
 * an answer in seconds, also while the store hangs (its own client waits far longer).
 */
export const HEALTH_STORE_WAIT_MS = 2_000;

export const healthRoutes: FastifyPluginAsync<{ ctx: LabContext }> = async (app, { ctx }) => {
  const { deps } = ctx;
  const started = Date.now();
  app.get('/health', { config: { access: 'public' } }, async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const reachable = await Promise.race([
      deps.store.ping().catch(() => false),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), HEALTH_STORE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    const { ingest, writer } = deps.stats();
    // Degraded, not down: readings still arrive and wait in the spool while the store is away.
    const status = reachable ? 'ok' : 'degraded';
    void reply.status(reachable ? 200 : 503);
    return {
      status,
      version: deps.version,
      ...(deps.clusterInstance ? { instance: deps.clusterInstance } : {}),
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      store: { kind: deps.store.kind, reachable },
      writer,
      ingest,
    };
  });
};
