import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listGameRoots, scanGame } from '../../../src/main/peer/library/scan';
import { makeWorkDir } from '../../support/temp-dir';

describe('game root scan rules', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  const root = (id: string) => path.join(work.dir, id);

  beforeEach(async () => {
    work = await makeWorkDir('scan');
  });
  afterEach(async () => work.cleanup());

  async function game(id: string, files: Record<string, string | null>): Promise<void> {
    await mkdir(root(id), { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      const full = path.join(root(id), name);
      await mkdir(path.dirname(full), { recursive: true });
      if (content === null) await mkdir(full, { recursive: true });
      else await writeFile(full, content);
    }
  }

  it('downloaded needs a regular root-level version.ini; installed needs local/ to be a directory', async () => {
    await game('both', { 'version.ini': 'version=1.2\n', 'game.rar': 'x'.repeat(10), 'local/game.exe': 'exe' });
    expect(await scanGame(work.dir, 'both')).toMatchObject({ downloaded: true, installed: true, version: '1.2', availability: 'Ready', sizeBytes: 10 + 12, fileCount: 2 });

    await game('local-only', { 'local/game.exe': 'exe' });
    expect(await scanGame(work.dir, 'local-only')).toMatchObject({ downloaded: false, installed: true, version: null, availability: 'LocalOnly' });

    await game('ini-dir', { 'version.ini': null, 'game.rar': 'x' });
    expect(await scanGame(work.dir, 'ini-dir')).toMatchObject({ downloaded: false, installed: false, availability: 'None' });

    await game('ini-link', { 'real.ini': 'version=9\n' });
    await symlink('real.ini', path.join(root('ini-link'), 'version.ini'));
    expect(await scanGame(work.dir, 'ini-link')).toMatchObject({ downloaded: false });

    await game('ini-empty', { 'version.ini': '' });
    expect(await scanGame(work.dir, 'ini-empty')).toMatchObject({ downloaded: true, version: '', availability: 'Ready' });

    await game('local-file', { 'version.ini': '3\n', local: 'i am a file' });
    expect(await scanGame(work.dir, 'local-file')).toMatchObject({ downloaded: true, installed: false, version: '3' });

    await game('local-link', { 'version.ini': '3\n', 'elsewhere/x': 'y' });
    await symlink('elsewhere', path.join(root('local-link'), 'local'));
    expect(await scanGame(work.dir, 'local-link')).toMatchObject({ installed: false });
  });

  it('does not count local/, launcher entries or version.ini scratch files as served payload', async () => {
    await game('g', { 'version.ini': '1\n', 'a.rar': 'aaaa', 'sub/b.r00': 'bb', 'local/huge.bin': 'x'.repeat(100), '.local.installing/x': 'xx', '.version.ini.discarded': '0\n', '.lanspread_owned': '' });
    expect(await scanGame(work.dir, 'g')).toMatchObject({ sizeBytes: 2 + 4 + 2, fileCount: 3 });
  });

  it('counts only a root-level version.ini, and reads the version from its first lines only', async () => {
    await game('nested-ini', { 'sub/version.ini': '1\n', 'a.rar': 'x' });
    expect(await scanGame(work.dir, 'nested-ini')).toMatchObject({ downloaded: false, availability: 'None', sizeBytes: 0, fileCount: 0 });

    await game('eti', { 'version.ini': '20240315\r\n' });
    expect(await scanGame(work.dir, 'eti')).toMatchObject({ downloaded: true, version: '20240315' });

    // A bogus, huge version.ini still counts as downloaded; only its head is parsed.
    await game('huge', { 'version.ini': `version=2.5\n${'x'.repeat(200_000)}\nversion=9\n` });
    expect(await scanGame(work.dir, 'huge')).toMatchObject({ downloaded: true, version: '2.5' });
  });

  it('announces exactly the bytes a manifest would serve (symlinks and unportable names excluded)', async () => {
    await game('g2', { 'version.ini': '1\n', 'a.rar': 'aaaa', 'bad\\name.rar': 'refused by downloaders' });
    await writeFile(path.join(work.dir, 'outside.bin'), 'x'.repeat(1000));
    await symlink(path.join(work.dir, 'outside.bin'), path.join(root('g2'), 'link.rar'));
    await symlink(path.join(work.dir, 'g'), path.join(root('g2'), 'linked-dir'));
    expect(await scanGame(work.dir, 'g2')).toMatchObject({ sizeBytes: 2 + 4, fileCount: 2 });
  });

  it('treats only direct child folders named by a catalog id as game roots', async () => {
    await game('demo-arena', { 'version.ini': '1\n' });
    await game('unknown-game', { 'version.ini': '1\n' });
    await writeFile(path.join(work.dir, 'demo-racer'), 'a file, not a folder');
    await mkdir(path.join(work.dir, 'elsewhere'));
    await symlink(path.join(work.dir, 'elsewhere'), path.join(work.dir, 'demo-linked'));
    await mkdir(path.join(work.dir, 'nested', 'demo-tanks'), { recursive: true });
    const catalog = new Set(['demo-arena', 'demo-racer', 'demo-tanks', 'demo-linked']);
    expect(await listGameRoots(work.dir, (id) => catalog.has(id))).toEqual(['demo-arena']);
    expect(await scanGame(work.dir, 'demo-racer')).toBeNull();
    expect(await scanGame(work.dir, 'demo-linked')).toBeNull();
    expect(await listGameRoots(path.join(work.dir, 'missing'), () => true)).toEqual([]);
  });
});
