/**
 * The role × route matrix again, over a real socket, with every path written the ways an attacker
 * writes it: percent-encoded, doubled slashes, dot segments, other letter case, absolute-form
 * request targets, trailing slashes. Whatever route the router makes of it, that route's access
 * applies: a caller the route does not allow never reaches its handler.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Access, ROLES, type Role, routeAccessTable } from '../../lab-api/index.ts';
import { startTestLab, type TestLab } from '../helpers/lab.ts';

let lab: TestLab;
let port: number;
/** Probe id → the route whose handling went past access control (validation, then the handler), and for whom. */
const passed = new Map<string, { method: string; url: string; who: string }>();
beforeAll(async () => {
  lab = await startTestLab({
    beforeReady(app) {
      app.addHook('preValidation', async (request) => {
        const probe = request.headers['x-probe'];
        if (typeof probe !== 'string') return;
        const principal = request.principal;
        const who = !principal ? 'anonymous' : principal.kind === 'service' ? 'service' : principal.role;
        passed.set(probe, { method: request.method, url: request.routeOptions.url ?? '', who });
      });
    },
  });
  await lab.app.listen({ port: 0, host: '127.0.0.1' });
  const address = lab.app.server.address();
  port = typeof address === 'object' && address ? address.port : 0;
}, 60_000);
afterAll(async () => {
  await lab.close();
});

/** One HTTP/1.1 request with the request target exactly as given (no client normalises it). */
let probes = 0;
function rawRequest(
  method: string,
  target: string,
  authorization?: string,
  json = '{}',
): Promise<{ status: number; body: string; probe: string }> {
  const probe = String(++probes);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const body = ['POST', 'PUT', 'PATCH'].includes(method) ? json : '';
    socket.write(
      `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\nX-Probe: ${probe}\r\n` +
        (authorization ? `Authorization: ${authorization}\r\n` : '') +
        (body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : '') +
        `\r\n${body}`,
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4), probe });
    });
  });
}

function concrete(url: string): string {
  return url.replace(/:kitId/g, 'no-such-kit').replace(/:[a-zA-Z]+/g, '00000000-0000-4000-8000-000000000000');
}

/** The same path written in the forms that reach (or might reach) the same route. */
function variants(path: string): string[] {
  const encodeFirst = path.replace(
    /\/([a-z])/g,
    (_, letter: string) => `/%${letter.charCodeAt(0).toString(16)}`,
  );
  const encodeAll = path.replace(/[a-z0-9]/g, (char) => `%${char.charCodeAt(0).toString(16)}`);
  return [
    encodeFirst,
    encodeAll,
    `/${path}`,
    path.replaceAll('/', '//'),
    path.replace('/api/', '/api/./'),
    `/x/..${path}`,
    path.replace('/v1/', '/v1/../v1/'),
    path.replace('/api/', '/API/'),
    path.replace('/api/', '/Api/'),
    `${path}/`,
    path.replace('/api/v1/', '/api%2Fv1%2F'),
    `${path};x=1`,
    `http://127.0.0.1:${port}${path}`,
    `http://127.0.0.1:${port}${encodeFirst}`,
  ];
}

function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { code?: string }).code ?? '';
  } catch {
    return '';
  }
}

function allows(access: Access, who: Role | 'service'): boolean {
  if (access === 'public') return true;
  return who === 'service' ? access.services === true : access.roles.includes(who);
}

describe('access does not depend on how a path is written', () => {
  it('lets no caller past the access check of a route it is not allowed on, in any form of any path', async () => {
    const { secret } = await lab.registry.addService('url-forms');
    const service = `Basic ${Buffer.from(`url-forms:${secret}`).toString('base64')}`;
    const callers: [Role | 'service' | 'anonymous', string | undefined][] = [
      ['anonymous', undefined],
      ...ROLES.map((role): [Role, string] => [role, `Bearer ${lab.users[role].token}`]),
      ['service', service],
    ];
    const table = routeAccessTable(lab.app);
    const accessOf = (method: string, url: string) =>
      table.find((route) => route.url === url && route.method === (method === 'HEAD' ? 'GET' : method))
        ?.access;
    const wrong: string[] = [];
    let refused = 0;
    // Logging out would end the callers' sessions: it goes last.
    const routes = table
      .filter((route) => route.url.startsWith('/api/') && route.access !== 'public')
      .sort((a, b) => Number(a.url.endsWith('/logout')) - Number(b.url.endsWith('/logout')));
    for (const route of routes) {
      for (const target of variants(concrete(route.url))) {
        for (const [who, authorization] of callers) {
          if (who !== 'anonymous' && allows(route.access as Access, who)) continue;
          const response = await rawRequest(route.method, target, authorization);
          const past = passed.get(response.probe);
          // No route at all (url ''): the not-found handler answered.
          if (!past || past.url === '') {
            refused++;
            continue;
          }
          // It got past access control: only ever on a route that lets this caller in.
          const access = accessOf(past.method, past.url);
          if (
            !access ||
            past.who !== who ||
            (access !== 'public' && (who === 'anonymous' || !allows(access, who)))
          )
            wrong.push(
              `${who} ${route.method} ${target} → handled as ${past.method} ${past.url} (${response.status})`,
            );
        }
      }
    }
    expect(refused).toBeGreaterThan(1000);
    expect(wrong).toEqual([]);
  }, 180_000);

  it('answers the plain attack forms with 401 and 403, as the plain path', async () => {
    // The forms of the reported attack, which the router takes to the /users route.
    for (const target of [
      '/%61pi/v1/users',
      '/%61%70%69/v1/users',
      `http://127.0.0.1:${port}/api/v1/users`,
    ]) {
      expect((await rawRequest('GET', target)).status, target).toBe(401);
      const student = await rawRequest('GET', target, `Bearer ${lab.users.student.token}`);
      expect([student.status, errorCode(student.body)], target).toEqual([403, 'ROLE_NOT_ALLOWED']);
    }
  });

  it('lets no form of a path create an admin for a student', async () => {
    const count = async () =>
      (await lab.call({ method: 'GET', url: '/api/v1/users?limit=200', as: lab.users.admin })).json()
        .total as number;
    const before = await count();
    for (const [n, target] of variants('/api/v1/users').entries()) {
      const admin = {
        username: `intruder${n}`,
        displayName: 'x',
        role: 'admin',
        password: 'long-enough-pass',
      };
      const response = await rawRequest(
        'POST',
        target,
        `Bearer ${lab.users.student.token}`,
        JSON.stringify(admin),
      );
      expect(response.status, target).not.toBe(201);
    }
    expect(await count()).toBe(before);
  });
});
