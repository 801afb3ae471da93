import { existsSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { DASHBOARDS_DIST } from './build.ts';

/**
 * The web app loads only its own files (no inline scripts: Vite emits none), talks only to this
 * origin (the API, MQTT over WebSocket), and may not be framed. Inline styles stay allowed: the
 * charts' tooltips are HTML with style attributes.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // mqtt.js keeps its keep-alive timer in a worker made from a blob (background tabs throttle timers).
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the platform, never to the web app (`/flows` and `/flows-api` are embedded Node-RED's). */
export const RESERVED_PREFIXES = ['/api', '/docs', '/mqtt', '/flows', '/flows-api', '/health'];

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>IoT Lab</title>
<p>仪表盘尚未构建：请运行 <code>npm run build:dashboards</code>。<br>
The dashboards are not built yet: run <code>npm run build:dashboards</code>.</p>`;

/**
 * Serves the built web app at `/`: files of `dist/` (hashed assets cached for a year), and
 * `index.html` for every other path outside the reserved prefixes, so the app's routes survive a
 * reload. Reads the directory on each request, so a rebuild is served without a restart.
 */
export async function serveDashboards(app: FastifyInstance, root = DASHBOARDS_DIST): Promise<void> {
  await app.register(fastifyStatic, { root, serve: false });
  const isFile = (path: string) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };
  app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, (request, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    } catch {
      return reply.callNotFound();
    }
    if (RESERVED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) {
      return reply.callNotFound();
    }
    void reply.header('content-security-policy', DASHBOARD_CSP);
    if (!existsSync(join(root, 'index.html'))) {
      return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    const file = normalize(path).replace(/^[/\\]+/, '');
    if (file !== '' && !file.startsWith('..') && isFile(join(root, file))) {
      const hashed = file.startsWith('assets/');
      return reply.sendFile(file, {
        cacheControl: true,
        maxAge: hashed ? 365 * 86_400_000 : 0,
        immutable: hashed,
      });
    }
    void reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { cacheControl: false });
  });
}
