import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../../src/shared/catalog';
import { generateGame } from '../../../src/main/peer/demo/generate-game';
import type { InstallEvent } from '../../../src/main/peer/install/install-events';
import { InstallService } from '../../../src/main/peer/install/install-service';
import { OperationRegistry } from '../../../src/main/peer/operations/operation-registry';
import { WorkerUnpacker } from '../../../src/main/peer/unpack/worker-unpacker';
import { fileCrc, listTree, makeTempDir } from '../../support/install-helpers';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const catalog: Catalog = {
  schemaVersion: 1,
  games: ['demo', 'other'].map((id) => ({ id, title: id, description: '', genres: [], maxPlayers: 4, releaseYear: 2000, sizeHintBytes: 0, launch: {} })),
};

async function setup() {
  const { dir, cleanup } = await makeTempDir('install');
  cleanups.push(cleanup);
  const gameDir = path.join(dir, 'games');
  const stateDir = path.join(dir, 'state');
  const operations = new OperationRegistry();
  const service = new InstallService({ gameDir, stateDir, unpacker: new WorkerUnpacker(), operations, catalog, progressIntervalMs: 0 });
  return { dir, gameDir, stateDir, operations, service, root: path.join(gameDir, 'demo') };
}

describe('InstallService on a generated game', () => {
  it('installs, updates and uninstalls with events, and records the installed version', async () => {
    const { gameDir, stateDir, service, root } = await setup();
    const v1 = await generateGame({ gameDir, gameId: 'demo', version: '1.0', seed: 1, files: [{ path: 'game.exe', size: 300_000 }, { path: 'data/a.pak', size: 1000 }] });
    const events: InstallEvent[] = [];
    await service.install('demo', { onEvent: (e) => events.push(e) });
    expect(events[0]).toEqual({ type: 'game-install-begin', gameId: 'demo', operation: 'install', mode: 'normal', version: '1.0' });
    expect(events.at(-1)).toEqual({ type: 'game-install-finished', gameId: 'demo', operation: 'install', version: '1.0', skippedLinks: [] });
    const progress = events.filter((e) => e.type === 'game-install-progress');
    expect(progress.at(-1)).toMatchObject({ bytesDone: 301_000, bytesTotal: 301_000 });
    expect(await listTree(path.join(root, 'local'))).toEqual(['data/', 'data/a.pak', 'game.exe']);
    for (const file of v1.files) expect(await fileCrc(path.join(root, 'local', file.path))).toBe(file.crc32);
    expect(await service.installedVersion('demo')).toBe('1.0');
    await expect(service.install('demo')).rejects.toMatchObject({ code: 'ALREADY_INSTALLED' });

    const v2 = await generateGame({ gameDir, gameId: 'demo', version: '2.0', seed: 2, files: [{ path: 'game.exe', size: 100_000 }] });
    await service.update('demo');
    expect(await listTree(path.join(root, 'local'))).toEqual(['game.exe']);
    expect(await fileCrc(path.join(root, 'local', 'game.exe'))).toBe(v2.files[0]?.crc32);
    expect(await service.installedVersion('demo')).toBe('2.0');

    const uninstallEvents: string[] = [];
    await service.uninstall('demo', { onEvent: (e) => uninstallEvents.push(e.type) });
    expect(uninstallEvents).toEqual(['game-uninstall-begin', 'game-uninstall-finished']);
    expect((await listTree(root)).filter((e) => e.startsWith('local') || e.startsWith('.local'))).toEqual([]);
    expect(await service.installedVersion('demo')).toBeNull();
    expect(await listTree(path.join(stateDir, 'games', 'demo'))).toEqual([]);
  });

  it('records the version an INI-style version.ini names, as the library scan reads it, not the file text', async () => {
    const { gameDir, service, root } = await setup();
    await generateGame({ gameDir, gameId: 'demo', version: '1.0', seed: 1, files: [{ path: 'game.exe', size: 1000 }] });
    await writeFile(path.join(root, 'version.ini'), '; build notes\n[Game]\nName=Demo\nVersion = "1.2.3"\n');
    const events: InstallEvent[] = [];
    await service.install('demo', { onEvent: (e) => events.push(e) });
    expect(events.at(-1)).toMatchObject({ type: 'game-install-finished', version: '1.2.3' });
    expect(await service.installedVersion('demo')).toBe('1.2.3');
  });

  it('a failed install leaves no local/ or staging and reports game-install-failed', async () => {
    const { gameDir, service, root } = await setup();
    const game = await generateGame({ gameDir, gameId: 'demo', version: '1', files: [{ path: 'a.bin', size: 50_000 }] });
    const bytes = await readFile(game.archives[0] as string);
    const at = bytes.length - 2000;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at); // corrupt stored data: CRC mismatch
    await writeFile(game.archives[0] as string, bytes);
    const events: InstallEvent[] = [];
    await expect(service.install('demo', { onEvent: (e) => events.push(e) })).rejects.toMatchObject({ code: 'ARCHIVE_DAMAGED' });
    expect(events.at(-1)).toMatchObject({ type: 'game-install-failed', error: { code: 'ARCHIVE_DAMAGED' } });
    expect((await listTree(root)).filter((e) => e.includes('local'))).toEqual([]);
  });

  it('refuses to touch a player-owned .local.backup or .local.installing', async () => {
    const { gameDir, service, root } = await setup();
    await generateGame({ gameDir, gameId: 'demo', version: '1', files: [{ path: 'a.bin', size: 10 }] });
    await mkdir(path.join(root, '.local.installing'));
    await writeFile(path.join(root, '.local.installing', 'mine.txt'), 'x');
    await expect(service.install('demo')).rejects.toMatchObject({ code: 'PATH_FORBIDDEN' });
    expect(await readFile(path.join(root, '.local.installing', 'mine.txt'), 'utf8')).toBe('x');
    await (await import('node:fs/promises')).rename(path.join(root, '.local.installing'), path.join(root, '.local.backup'));
    await service.install('demo');
    await expect(service.update('demo')).rejects.toMatchObject({ code: 'PATH_FORBIDDEN' });
    await expect(service.uninstall('demo')).rejects.toMatchObject({ code: 'PATH_FORBIDDEN' });
    expect(await readFile(path.join(root, '.local.backup', 'mine.txt'), 'utf8')).toBe('x');
    await service.recover();
    expect(await readFile(path.join(root, '.local.backup', 'mine.txt'), 'utf8')).toBe('x');
  });

  it('one operation per game: no install while the game is downloading', async () => {
    const { gameDir, service, operations } = await setup();
    await generateGame({ gameDir, gameId: 'demo', version: '1', files: [{ path: 'a.bin', size: 10 }] });
    const download = operations.begin('demo', 'download');
    await expect(service.install('demo')).rejects.toMatchObject({ code: 'OPERATION_IN_PROGRESS' });
    download.release();
    await service.install('demo');
  });

  it('removes a downloaded game only under all its conditions', async () => {
    const { dir, gameDir, service, root } = await setup();
    await expect(service.removeDownloaded('../etc')).rejects.toMatchObject({ code: 'NOT_IN_CATALOG' });
    await expect(service.removeDownloaded('stranger')).rejects.toMatchObject({ code: 'NOT_IN_CATALOG' });
    await expect(service.removeDownloaded('demo')).rejects.toMatchObject({ code: 'NOT_DOWNLOADED' });
    await mkdir(path.join(gameDir, 'other', 'version.ini'), { recursive: true }); // a directory, not a regular file
    await expect(service.removeDownloaded('other')).rejects.toMatchObject({ code: 'NOT_DOWNLOADED' });
    expect(await listTree(path.join(gameDir, 'other'))).toEqual(['version.ini/']);
    await generateGame({ gameDir, gameId: 'demo', version: '1', files: [{ path: 'a.bin', size: 10 }] });
    await service.install('demo');
    await expect(service.removeDownloaded('demo')).rejects.toMatchObject({ code: 'ALREADY_INSTALLED' });
    await service.uninstall('demo');
    await service.removeDownloaded('demo');
    expect(await listTree(gameDir)).toEqual(['other/', 'other/version.ini/']);
    expect(root.startsWith(dir)).toBe(true);
  });

  it('migrates legacy launcher files out of game folders before start', async () => {
    const { gameDir, stateDir, service, root } = await setup();
    await generateGame({ gameDir, gameId: 'demo', version: '1', files: [{ path: 'a.bin', size: 10 }] });
    await writeFile(path.join(root, '.lanspread.json'), '{"old":true}');
    await writeFile(path.join(root, 'install_intent.json'), '{"legacy":true}');
    const { migrated } = await service.prepareOnStartup();
    expect(migrated.map((m) => path.relative(stateDir, m.to)).sort()).toEqual(['games/demo/install_intent.json', 'games/demo/legacy/.lanspread.json']);
    expect(await listTree(root)).toEqual(['demo.rar', 'version.ini']);
    // The unreadable legacy intent proves nothing and is cleared by recovery.
    expect(await listTree(path.join(stateDir, 'games', 'demo'))).toEqual(['legacy/', 'legacy/.lanspread.json']);
  });
});
