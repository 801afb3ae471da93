'use strict';
/**
 * The Node-RED runtime in a process of its own, started by flows/runtime.ts under Node's
 * permission model: no child processes, workers or native addons; files: read node_modules and
 * this file, read and write Node-RED's userDir. Its function nodes run in Node's `vm`, which is
 * no security boundary (a flow can reach this process's `process`); this process is the boundary.
 *
 * It listens on loopback only. The platform serves the editor (`httpAdminRoot`) and the flows'
 * `http in` nodes (`httpNodeRoot`) by forwarding to it, answers sign-ins itself, and states who
 * each editor request is from in a header signed with a key only the two processes know.
 *
 * Plain JavaScript: TypeScript would need a loader, and tsx runs esbuild as a child process.
 * Messages (over the IPC channel), platform → here: `{ kind: 'init', … }`, then
 * `{ kind: 'call', id, method, args }`; here → platform: `{ kind: 'listening', port }`,
 * `{ kind: 'reply', id, result | error }`, `{ kind: 'log', … }`.
 */
const http = require('node:http');
const { createRequire } = require('node:module');
const { timingSafeEqual } = require('node:crypto');

let RED;
let server;
let started = false;

function send(message) {
  if (process.connected) process.send(message);
}

/** The person a request is from, when the platform's signed statement says so. */
function statedUser(value, key) {
  if (typeof value !== 'string') return null;
  const dot = value.indexOf('.');
  const given = Buffer.from(value.slice(0, dot));
  if (dot < 0 || given.length !== key.length || !timingSafeEqual(given, key)) return null;
  try {
    const { username, permissions } = JSON.parse(Buffer.from(value.slice(dot + 1), 'base64url').toString());
    return typeof username === 'string' ? { username, permissions } : null;
  } catch {
    return null;
  }
}

function init({ nodeRedPath, settings, userHeader, userKey }) {
  const key = Buffer.from(userKey);
  RED = require(nodeRedPath);
  const express = createRequire(nodeRedPath)('express');
  const app = express();
  app.disable('x-powered-by');
  server = http.createServer(app);
  RED.init(server, {
    ...settings,
    adminAuth: {
      type: 'credentials',
      // No user list and no passwords here: the platform answers `auth/token` itself.
      users: async () => null,
      authenticate: async () => null,
      tokenHeader: userHeader,
      tokens: async (value) => statedUser(value, key),
    },
    logging: {
      console: { level: 'off' },
      iotlab: {
        level: 'info',
        audit: true,
        metrics: false,
        handler: () => (entry) =>
          send({
            kind: 'log',
            level: entry.level,
            msg: typeof entry.msg === 'string' ? entry.msg : JSON.stringify(entry.msg ?? ''),
            type: entry.type,
            id: entry.id,
            event: entry.event,
          }),
      },
    },
  });
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  // Whatever Node-RED leaves unanswered is answered: 404.
  app.use((_req, res) => res.status(404).json({ code: 'not_found', message: 'no such path' }));
  server.listen(0, '127.0.0.1', () => send({ kind: 'listening', port: server.address().port }));
}

/** Resolves once `check(event)` holds for a runtime event; false after `timeoutMs`. */
function untilEvent(name, check, timeoutMs) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (!check(event)) return;
      clearTimeout(timer);
      RED.events.removeListener(name, listener);
      resolve(true);
    };
    const timer = setTimeout(() => {
      RED.events.removeListener(name, listener);
      resolve(false);
    }, timeoutMs);
    RED.events.on(name, listener);
  });
}

const calls = {
  /** Starts the runtime; true once the saved flows were loaded (in safe mode: not started). */
  async start() {
    const settled = untilEvent(
      'runtime-event',
      (event) => event?.id === 'runtime-state' && ['safe', 'stop'].includes(event.payload?.state),
      15_000,
    );
    await RED.start();
    started = true;
    return settled;
  },
  async flows() {
    return (await RED.runtime.flows.getFlows({}))?.flows ?? [];
  },
  /** Deploys a full configuration; true once its flows started. */
  async deploy({ flows }) {
    const running = untilEvent('flows:started', () => true, 15_000);
    await RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
    return running;
  },
  hasNodeType({ type }) {
    return Boolean(RED.nodes.getType(type));
  },
  async stop() {
    if (started) await RED.stop();
    server.close();
    server.closeAllConnections();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', (message) => {
  if (message?.kind === 'init') return init(message);
  if (message?.kind !== 'call') return;
  const { id, method, args } = message;
  Promise.resolve()
    .then(() => calls[method](args ?? {}))
    .then(
      (result) => send({ kind: 'reply', id, result }),
      (error) => send({ kind: 'reply', id, error: String(error?.stack ?? error) }),
    );
});
// The platform is gone (or closed the channel): so are the flows.
process.on('disconnect', () => process.exit(0));
