import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { People, verifyPassword } from '../../lab-api/index.ts';
import { KitRegistry, openLabDb } from '../../labdb/index.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-cli-'));
const iotlab = (...args: string[]) =>
  run(process.execPath, ['bin/iotlab-dev.js', ...args], {
    env: { ...process.env, IOTLAB_DATA_DIR: dataDir },
  });

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function verify(kitId: string, secret: string): Promise<boolean> {
  const db = openLabDb(join(dataDir, 'lab.sqlite'));
  try {
    return await new KitRegistry(db).verifyKit(kitId, secret);
  } finally {
    await db.close();
  }
}

describe('iotlab services', () => {
  it('creates read-only services unless scopes are given, and changes scopes', async () => {
    const viewer = await iotlab('services', 'add', 'wall-screen');
    expect(viewer.stdout).toContain('scopes: read.');
    const flow = await iotlab('services', 'add', 'flow-runner', '--scopes', 'read,publish,command');
    expect(flow.stdout).toContain('scopes: read, publish, command.');
    await expect(iotlab('services', 'add', 'bad-scope', '--scopes', 'read,root')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown scope "root"'),
    });
    await iotlab('services', 'scopes', 'wall-screen', 'read,grade');
    expect((await iotlab('services', 'list')).stdout).toMatch(/wall-screen\s+read,grade/);
  });

  it('explains text longer than the database takes, with exit code 2 (PostgreSQL would refuse it)', async () => {
    await expect(iotlab('services', 'add', 'wordy', '--description', 'd'.repeat(250))).rejects.toMatchObject({
      code: 2,
      stderr: 'iotlab: service description is 250 characters; at most 200\n',
    });
    await expect(iotlab('kits', 'add', 'wordy-kit', '--name', 'n'.repeat(201))).rejects.toMatchObject({
      code: 2,
      stderr: 'iotlab: kit name is 201 characters; at most 200\n',
    });
    await expect(
      iotlab('users', 'add', 'wordy.user', '--role', 'instructor', '--name', '名'.repeat(101)),
    ).rejects.toMatchObject({
      code: 2,
      stderr: 'iotlab: display name is 101 characters; at most 100\n',
    });
    expect((await iotlab('services', 'list')).stdout).not.toContain('wordy');
  });
});

describe('iotlab kits', () => {
  it('adds a kit and prints a secret that works, once; rotate replaces it; remove deletes it', async () => {
    const added = await iotlab(
      'kits',
      'add',
      'greenhouse-07',
      '--name',
      'Greenhouse bench 7',
      '--kind',
      'arduino',
    );
    const secret = /password \(shown once\): (\S+)/.exec(added.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(await verify('greenhouse-07', secret as string)).toBe(true);

    const listed = await iotlab('kits', 'list');
    expect(listed.stdout).toMatch(/greenhouse-07\s+arduino\s+active\s+Greenhouse bench 7/);
    expect(listed.stdout).not.toContain(secret);

    const rotated = await iotlab('kits', 'rotate', 'greenhouse-07');
    const next = /\(shown once\): (\S+)/.exec(rotated.stdout)?.[1] as string;
    expect(await verify('greenhouse-07', secret as string)).toBe(false);
    expect(await verify('greenhouse-07', next)).toBe(true);

    await iotlab('kits', 'remove', 'greenhouse-07');
    expect((await iotlab('kits', 'list')).stdout).toContain('no kits yet');
  });

  it('explains a bad id, a duplicate and an unknown kit, with exit code 2', async () => {
    await expect(iotlab('kits', 'add', 'Bad/Id')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('is not valid'),
    });
    await iotlab('kits', 'add', 'twice');
    await expect(iotlab('kits', 'add', 'twice')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('already exists'),
    });
    await expect(iotlab('kits', 'rotate', 'ghost')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('no kit "ghost"'),
    });
  });
});

describe('iotlab kits bind-usb', () => {
  it('binds a kit to a USB serial number once, and refuses a second kit on the same board', async () => {
    await iotlab('kits', 'add', 'uno-bound', '--kind', 'arduino');
    await iotlab('kits', 'add', 'uno-other', '--kind', 'arduino');
    await iotlab('kits', 'bind-usb', 'uno-bound', '85736323838351F0E1A1');
    await expect(iotlab('kits', 'bind-usb', 'uno-other', '85736323838351F0E1A1')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('already bound to kit "uno-bound"'),
    });
    const db = openLabDb(join(dataDir, 'lab.sqlite'));
    expect(await new KitRegistry(db).usbBindings()).toEqual({ '85736323838351F0E1A1': 'uno-bound' });
    await db.close();
  });
});

describe('iotlab users add', () => {
  it('creates the first admin with a generated password that signs in', async () => {
    const { stdout } = await iotlab('users', 'add', 'principal', '--role', 'admin', '--name', '王校长');
    const password = /password \(shown once\): (\S+)/.exec(stdout)?.[1] as string;
    const db = openLabDb(join(dataDir, 'lab.sqlite'));
    const found = await new People(db).userForLogin('principal');
    expect(found?.user).toMatchObject({ role: 'admin', displayName: '王校长' });
    expect(await verifyPassword(password, found?.passwordHash as string)).toBe(true);
    await db.close();
    await expect(iotlab('users', 'add', 'm1', '--role', 'mentor')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('belongs to an organisation'),
    });
  });
});
