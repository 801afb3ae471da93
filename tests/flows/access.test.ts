/**
 * Who may do what in the flow editor (flows/access.ts): Node-RED permissions per lab role, and
 * which nodes of a deploy a role may not make. The editor suites check the same over HTTP.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editorPermissions, type FlowNode, HOST_NODE_TYPES, refusedNodes } from '../../flows/index.ts';
import { moveLegacySettings, readStudentAccess } from '../../flows/routes.ts';

const node = (id: string, type: string, extra: Partial<FlowNode> = {}): FlowNode => ({
  id,
  type,
  z: 'tab',
  x: 100,
  y: 100,
  wires: [],
  ...extra,
});

describe('editor permissions', () => {
  it('gives admins everything, instructors and mentors the flows but not the node modules, students at most a look', () => {
    expect(editorPermissions('admin', 'none')).toBe('*');
    for (const role of ['instructor', 'mentor'] as const) {
      const permissions = editorPermissions(role, 'none');
      expect(permissions).toEqual(expect.arrayContaining(['flows.write', 'status.read', 'debug.write']));
      expect(permissions).not.toContain('nodes.write');
      expect(permissions).not.toContain('*');
    }
    expect(editorPermissions('student', 'read')).toBe('read');
    expect(editorPermissions('student', 'none')).toBeUndefined();
  });
});

describe('nodes a role may not deploy', () => {
  const curriculum = [
    node('in', 'mqtt in'),
    node('fn', 'function'),
    node('dbg', 'debug'),
    node('db', 'influxdb out'),
  ];

  it('refuses every node that reaches the host to instructors and mentors, and nothing to admins', () => {
    const host = [...HOST_NODE_TYPES].map((type, i) => node(`host-${i}`, type));
    expect(HOST_NODE_TYPES).toEqual(
      new Set(['exec', 'file', 'file in', 'watch', 'tcp in', 'tcp out', 'udp in', 'websocket-listener']),
    );
    for (const role of ['instructor', 'mentor', 'student'] as const) {
      expect(refusedNodes(role, [...curriculum, ...host], []).map((n) => n.type)).toEqual([
        ...HOST_NODE_TYPES,
      ]);
      expect(refusedNodes(role, curriculum, [])).toEqual([]);
    }
    expect(refusedNodes('admin', [...curriculum, ...host], [])).toEqual([]);
  });

  it("keeps an admin's host node when it is deployed again as it is, moved or not, never changed", () => {
    const exec = node('exec', 'exec', { command: 'uptime' });
    expect(refusedNodes('mentor', [exec], [exec])).toEqual([]);
    expect(refusedNodes('mentor', [{ ...exec, x: 400, y: 20 }], [exec])).toEqual([]);
    expect(refusedNodes('mentor', [{ ...exec, command: 'id' }], [exec])).toHaveLength(1);
    expect(refusedNodes('mentor', [{ ...exec, wires: [['other']] }], [exec])).toHaveLength(1);
    expect(refusedNodes('mentor', [{ ...exec, id: 'copy' }], [exec])).toHaveLength(1);
  });
});

describe("the instructors' choice for students", () => {
  it("is moved out of Node-RED's directory, which the flows' process may write", () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotlab-flows-settings-'));
    try {
      const userDir = join(dir, 'node-red');
      mkdirSync(userDir);
      writeFileSync(join(userDir, 'iotlab-flows.json'), '{"studentAccess":"none"}\n');
      const file = join(dir, 'flows-settings.json');
      moveLegacySettings(userDir, file);
      expect(existsSync(join(userDir, 'iotlab-flows.json'))).toBe(false);
      expect(readStudentAccess(file)).toBe('none');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
