import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinInside, resolveServedFile, splitRelativePath, validateServedPath } from '../../../src/main/peer/fs/safe-path';
import { LanspreadError } from '../../../src/shared/errors';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LanspreadError);
    return (error as LanspreadError).code;
  }
  return 'OK';
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LanspreadError);
    return (error as LanspreadError).code;
  }
  return 'OK';
}

const HOSTILE: [string, string][] = [
  ['', 'PATH_INVALID'],
  ['/etc/passwd', 'PATH_OUTSIDE_ROOT'],
  ['//server/share/x', 'PATH_OUTSIDE_ROOT'],
  ['..', 'PATH_OUTSIDE_ROOT'],
  ['../x', 'PATH_OUTSIDE_ROOT'],
  ['a/../../x', 'PATH_OUTSIDE_ROOT'],
  ['a/..', 'PATH_OUTSIDE_ROOT'],
  ['..\\..\\windows\\system32', 'PATH_INVALID'],
  ['a\\b', 'PATH_INVALID'],
  ['C:\\Windows', 'PATH_INVALID'],
  ['C:/Windows', 'PATH_INVALID'],
  ['c:relative', 'PATH_INVALID'],
  ['file.rar:stream', 'PATH_INVALID'],
  ['a\u0000b', 'PATH_INVALID'],
  ['a\nb', 'PATH_INVALID'],
  ['a//b', 'PATH_INVALID'],
  ['./a', 'PATH_INVALID'],
  ['a/./b', 'PATH_INVALID'],
  ['a/', 'PATH_INVALID'],
  ['dir./x', 'PATH_INVALID'],
  ['x ', 'PATH_INVALID'],
  ['a'.repeat(300), 'PATH_INVALID'],
  [`${'a/'.repeat(600)}b`, 'PATH_INVALID'],
];

const FORBIDDEN = ['local/game.exe', 'LOCAL/game.exe', 'Local', '.local.installing/x', '.local.backup/x', '.lanspread_owned', '.lanspread/x', '.version.ini.tmp', '.version.ini.discarded'];

describe('relative path validation', () => {
  it.each(HOSTILE)('rejects %j with %s', (input, code) => {
    expect(codeOf(() => splitRelativePath(input))).toBe(code);
    expect(codeOf(() => joinInside('/tmp/root', input))).toBe(code);
  });

  it.each(FORBIDDEN)('refuses to serve %j', (input) => {
    expect(codeOf(() => validateServedPath(input))).toBe('PATH_FORBIDDEN');
  });

  it('accepts ordinary archive paths', () => {
    expect(splitRelativePath('game.part01.rar')).toEqual(['game.part01.rar']);
    expect(splitRelativePath('sub dir/ä file.r00')).toEqual(['sub dir', 'ä file.r00']);
    expect(validateServedPath('version.ini')).toEqual(['version.ini']);
    expect(validateServedPath('localized/x.rar')).toEqual(['localized', 'x.rar']);
  });
});

describe('resolving served files on disk', () => {
  let dir: string;
  let root: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lanspread-safe-path-'));
    root = path.join(dir, 'game');
    await mkdir(path.join(root, 'local'), { recursive: true });
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await writeFile(path.join(root, 'game.rar'), 'archive');
    await writeFile(path.join(root, 'local', 'secret.sav'), 'save');
    await writeFile(path.join(dir, 'outside.txt'), 'outside');
    await symlink(path.join(dir, 'outside.txt'), path.join(root, 'escape.rar'));
    await symlink('local', path.join(root, 'sneaky'));
    await symlink('../game.rar', path.join(root, 'sub', 'inside-link.rar'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a regular file inside the root', async () => {
    expect(await resolveServedFile(root, 'game.rar')).toBe(path.join(root, 'game.rar'));
  });

  it('refuses symlinks that leave the root or lead into local/', async () => {
    expect(await asyncCodeOf(resolveServedFile(root, 'escape.rar'))).toBe('PATH_OUTSIDE_ROOT');
    expect(await asyncCodeOf(resolveServedFile(root, 'sneaky/secret.sav'))).toBe('PATH_FORBIDDEN');
    expect(await asyncCodeOf(resolveServedFile(root, 'local/secret.sav'))).toBe('PATH_FORBIDDEN');
  });

  it('reports missing files and directories as FILE_NOT_FOUND', async () => {
    expect(await asyncCodeOf(resolveServedFile(root, 'nope.rar'))).toBe('FILE_NOT_FOUND');
    expect(await asyncCodeOf(resolveServedFile(root, 'sub'))).toBe('FILE_NOT_FOUND');
  });
});
