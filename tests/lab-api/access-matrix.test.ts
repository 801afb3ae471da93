/**
 * The whole role × route matrix, walked from the routes the app really has: every /api route
 * declares who may call it; anonymous callers get 401; every role (and service accounts) it does
 * not list gets 403 ROLE_NOT_ALLOWED; the roles it lists get past access control.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Access, ROLES, type Role, routeAccessTable } from '../../lab-api/index.ts';
import { startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
let serviceAuth: string;
beforeAll(async () => {
  lab = await startTestLab({
    beforeReady(app) {
      // A route someone forgot to declare.
      app.get('/api/v1/forgotten', async () => ({ secret: 'should never be served' }));
    },
  });
  const { secret } = await lab.registry.addService('matrix-service');
  serviceAuth = `Basic ${Buffer.from(`matrix-service:${secret}`).toString('base64')}`;
}, 60_000);
afterAll(async () => {
  await lab.close();
});

/** A concrete URL for a route pattern: ids that exist nowhere (the guard runs before any lookup). */
function concrete(url: string): string {
  return url.replace(/:kitId/g, 'no-such-kit').replace(/:[a-zA-Z]+/g, '00000000-0000-4000-8000-000000000000');
}

function allowed(access: Access, who: Role | 'service'): boolean {
  if (access === 'public') return true;
  return who === 'service' ? access.services === true : access.roles.includes(who);
}

describe('role × route matrix', () => {
  it('covers a real set of routes, each declaring its access', () => {
    const routes = routeAccessTable(lab.app);
    expect(routes.length).toBeGreaterThan(15);
    const undeclared = routes
      .filter((route) => route.access === undefined)
      .map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual(['GET /api/v1/forgotten']);
  });

  it('closes a route that declares no access to everyone, admins and services included', async () => {
    for (const authorization of [undefined, `Bearer ${lab.users.admin.token}`, serviceAuth]) {
      const response = await lab.app.inject({
        method: 'GET',
        url: '/api/v1/forgotten',
        headers: authorization ? { authorization } : {},
      });
      expect(response.statusCode).toBe(403);
      expect(response.body).not.toContain('should never be served');
    }
  });

  it('lists every route in the OpenAPI document, with a summary', () => {
    const spec = (
      lab.app as unknown as { swagger(): { paths: Record<string, Record<string, { summary?: string }>> } }
    ).swagger();
    const missing: string[] = [];
    for (const route of routeAccessTable(lab.app).filter(
      (r) => r.url.startsWith('/api/') && r.url !== '/api/v1/forgotten',
    )) {
      const path = route.url.replace(/:([a-zA-Z]+)/g, '{$1}');
      const operation = spec.paths[path]?.[route.method.toLowerCase()];
      if (!operation?.summary) missing.push(`${route.method} ${route.url}`);
    }
    expect(missing).toEqual([]);
  });

  it('answers each caller as the route declares', async () => {
    const failures: string[] = [];
    // Logging out ends the callers' sessions, so it goes last.
    const routes = routeAccessTable(lab.app)
      .filter((route) => route.url.startsWith('/api/') && route.url !== '/api/v1/forgotten')
      .sort((a, b) => Number(a.url.endsWith('/logout')) - Number(b.url.endsWith('/logout')));
    for (const route of routes) {
      const access = route.access as Access;
      const url = concrete(route.url);
      const payload = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
      const request = (authorization?: string) =>
        lab.app.inject({
          method: route.method as 'GET',
          url,
          ...(payload ? { payload } : {}),
          headers: authorization ? { authorization } : {},
        });
      if (access !== 'public') {
        const anonymous = await request();
        if (anonymous.statusCode !== 401)
          failures.push(`${route.method} ${route.url} anonymous → ${anonymous.statusCode}`);
      }
      const callers: [Role | 'service', string][] = [
        ...ROLES.map((role): [Role, string] => [role, `Bearer ${lab.users[role].token}`]),
        ['service', serviceAuth],
      ];
      for (const [who, authorization] of callers) {
        const response = await request(authorization);
        const refused = response.statusCode === 403 && response.json().code === 'ROLE_NOT_ALLOWED';
        if (allowed(access, who) ? refused || response.statusCode === 401 : !refused) {
          failures.push(
            `${route.method} ${route.url} as ${who} → ${response.statusCode} ${response.body.slice(0, 80)}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
