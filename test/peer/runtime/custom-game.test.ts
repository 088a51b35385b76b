import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { GameView } from '../../../src/shared/api';
import type { GameDescription } from '../../../src/shared/game-description';
import { ControlSocketServer, controlSocketPath } from '../../../src/main/peer/launcher/control-socket';
import { RuntimeLauncherBackend } from '../../../src/main/peer/launcher/launcher-backend';
import { SettingsStore } from '../../../src/main/peer/settings/settings-store';
import { silentLogger } from '../../../src/main/peer/util/logger';
import { haveRarFixtures, sharedRarFixtures } from '../../support/install-helpers';
import { repoRoot, waitFor, type TestPeer } from '../../support/runtime-harness';
import { useTestPeers } from '../../support/test-peers';

const run = promisify(execFile);

/** A real WinRAR RAR5 archive of four files (MANIFEST.json lists their sizes and CRC32s). */
const FIXTURE = 'rar5/libarchive__test_read_format_rar5_multiple_files/test_read_format_rar5_multiple_files.rar';
const ENTRIES: Record<string, number> = { 'test1.bin': 0x7e13b2c6, 'test2.bin': 0xf166afcb, 'test3.bin': 0x9fb123d9, 'test4.bin': 0x10c43ed4 };
const GAME = 'lan-shooter';

if (!haveRarFixtures) console.warn(`[skip] custom-game: ${sharedRarFixtures} is absent (the real WinRAR fixtures live beside the project)`);

describe.skipIf(!haveRarFixtures)('a game beyond the catalog, shared by description over real peers', () => {
  const peers = useTestPeers('custom-game');
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** The launcher backend over a peer (what every face drives), and its control socket for the CLI. */
  async function backendOf(peer: TestPeer, name: string): Promise<RuntimeLauncherBackend> {
    const settings = await SettingsStore.open(peer.stateDir, { displayName: name });
    const backend = new RuntimeLauncherBackend({ runtime: peer.runtime, settings, listDebounceMs: 10 });
    closers.push(() => backend.dispose());
    const server = new ControlSocketServer(backend, controlSocketPath(peer.stateDir), silentLogger);
    await server.start();
    closers.push(() => server.stop());
    return backend;
  }

  async function gameFolder(peer: TestPeer, id: string): Promise<void> {
    await mkdir(path.join(peer.gameDir, id), { recursive: true });
    await copyFile(path.join(sharedRarFixtures, FIXTURE), path.join(peer.gameDir, id, `${id}.rar`));
  }

  async function viewOf(backend: RuntimeLauncherBackend, id: string): Promise<GameView | undefined> {
    return (await backend.handle('request_games', undefined)).find((game) => game.id === id);
  }

  it('an organiser shares a folder with `lanspread-peer share`; another peer lists it with its title, marked as shared by them, installs it, and keeps it across a restart', async () => {
    const alice = await peers.start('alice', { catalogIds: ['demo-arena'] });
    const aliceBackend = await backendOf(alice, 'alice');
    await gameFolder(alice, GAME);
    // Before it is described the folder is nobody's game: not announced.
    const bob = await peers.start('bob', { catalogIds: ['demo-arena'], manualPeers: [`127.0.0.1:${alice.runtime.port}`] });
    const bobBackend = await backendOf(bob, 'bob');
    await waitFor(() => bob.runtime.peers().length === 1, 20_000, 'bob to see alice');
    expect(await viewOf(bobBackend, GAME)).toBeUndefined();

    // A launch path leaving local/ is refused by the running peer, with its code, and nothing is written.
    const refused = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'share', GAME, '--state-dir', alice.stateDir, '--title', 'LAN Shooter', '--version', '1.4', '--launch', 'linux=../../../bin/sh'], { cwd: repoRoot }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/^error \[DESCRIPTION_INVALID\]: .*launch\.linux\.executable/);
    await expect(readFile(path.join(alice.gameDir, GAME, 'version.ini'))).rejects.toMatchObject({ code: 'ENOENT' });

    const cli = [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'share', GAME, '--state-dir', alice.stateDir, '--title', 'LAN Shooter', '--version', '1.4', '--description', 'Four files of a real WinRAR archive.', '--genre', 'Shooter', '--max-players', '12', '--launch', 'linux=test1.bin', '--arg', 'linux=--lan', '--launch', 'win32=test2.bin'];
    const { stdout } = await run(process.execPath, cli, { cwd: repoRoot });
    expect(stdout).toContain(`Sharing ${GAME} (LAN Shooter)`);
    // The version went into version.ini (the sentinel); the description into alice's state directory, not the game folder.
    expect(await readFile(path.join(alice.gameDir, GAME, 'version.ini'), 'utf8')).toBe('[version]\nversion=1.4\n');
    expect(JSON.parse(await readFile(path.join(alice.stateDir, 'game-descriptions.json'), 'utf8'))).toMatchObject({ games: [{ own: true, description: { id: GAME, title: 'LAN Shooter' } }] });
    expect(await viewOf(aliceBackend, GAME)).toMatchObject({ title: 'LAN Shooter', downloaded: true, shared: { own: true } });

    await waitFor(async () => (await viewOf(bobBackend, GAME))?.title === 'LAN Shooter', 20_000, 'bob to list the shared game');
    expect(await viewOf(bobBackend, GAME)).toMatchObject({
      title: 'LAN Shooter',
      description: 'Four files of a real WinRAR archive.',
      genres: ['Shooter'],
      maxPlayers: 12,
      latestVersion: '1.4',
      installed: false,
      shared: { own: false, sharedBy: ['alice'], conflicts: [] },
    });

    const listed = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'games', '--state-dir', bob.stateDir], { cwd: repoRoot });
    expect(listed.stdout).toMatch(new RegExp(`^${GAME} +1\\.4 .* available  on 1 peer  "LAN Shooter" shared by alice$`, 'm'));

    // Install joins the download queue; the game shows installed once the queue's item is done.
    await bobBackend.handle('install_game', { gameId: GAME });
    await waitFor(async () => (await viewOf(bobBackend, GAME))?.installed === true, 60_000, 'bob to show it installed');
    const local = path.join(bob.gameDir, GAME, 'local');
    for (const [entry, crc] of Object.entries(ENTRIES)) expect(crc32(await readFile(path.join(local, entry))) >>> 0, entry).toBe(crc);
    expect(await readFile(path.join(bob.gameDir, GAME, 'version.ini'), 'utf8')).toBe('[version]\nversion=1.4\n');
    expect(await viewOf(bobBackend, GAME)).toMatchObject({ installedVersion: '1.4', canPlay: process.platform === 'linux' || process.platform === 'win32' });
    // Bob keeps the description (adopted, in his state directory) and shares the game onwards with it.
    expect(JSON.parse(await readFile(path.join(bob.stateDir, 'game-descriptions.json'), 'utf8'))).toMatchObject({ games: [{ own: false, description: { id: GAME, title: 'LAN Shooter' } }] });
    await waitFor(() => bob.runtime.gameCatalog().games.some((entry) => entry.id === GAME && entry.launch.linux?.args[0] === '--lan'), 5_000, 'the launch config on bob');

    // Alice stops sharing: her folder is no game of hers any more (not announced, the folder left
    // as it is); bob keeps his copy and shares it onwards, so alice now sees it as bob's.
    const stopped = await run(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'share', GAME, '--stop', '--state-dir', alice.stateDir], { cwd: repoRoot });
    expect(stopped.stdout).toContain(`No longer sharing ${GAME}`);
    expect(alice.runtime.localGames().some((game) => game.id === GAME)).toBe(false);
    expect(await viewOf(aliceBackend, GAME)).toMatchObject({ downloaded: false, sourcePeers: [bob.runtime.peerId], shared: { own: false, sharedBy: ['bob'] } });
    expect(await readFile(path.join(alice.gameDir, GAME, `${GAME}.rar`))).toHaveLength((await readFile(path.join(sharedRarFixtures, FIXTURE))).length);
    await waitFor(async () => (await viewOf(bobBackend, GAME))?.shared?.sharedBy.length === 0, 20_000, 'bob to see alice stop sharing');
    expect(await viewOf(bobBackend, GAME)).toMatchObject({ title: 'LAN Shooter', installed: true, sourcePeers: [] });
    await expect(aliceBackend.handle('unshare_game', { gameId: GAME })).rejects.toMatchObject({ code: 'GAME_NOT_FOUND' });
    // Bob's copy is adopted, not his own: he cannot "stop sharing" alice's description.
    await expect(bobBackend.handle('unshare_game', { gameId: GAME })).rejects.toMatchObject({ code: 'GAME_NOT_FOUND' });

    // After a restart with alice gone, bob still lists, serves and can start it.
    await peers.stop(alice);
    await peers.stop(bob);
    const again = await peers.start('bob', { catalogIds: ['demo-arena'] });
    const againBackend = await backendOf(again, 'bob');
    await waitFor(async () => (await viewOf(againBackend, GAME))?.installed === true, 10_000, 'bob after a restart');
    expect(await viewOf(againBackend, GAME)).toMatchObject({ title: 'LAN Shooter', downloaded: true, shared: { own: false, sharedBy: [] } });
  });

  it('the catalog wins for its ids, and two peers describing one id differently are shown side by side, not merged', async () => {
    const description = (id: string, title: string): GameDescription => ({ id, title, description: '', genres: [], maxPlayers: 4, launch: { linux: { executable: 'test1.bin', args: [] } } });
    // Carol's catalog lacks demo-arena, so she may describe it; bob's has it.
    const carol = await peers.start('carol', { catalogIds: ['demo-racer'] });
    const dave = await peers.start('dave', { catalogIds: ['demo-racer'] });
    for (const [peer, id, title] of [[carol, 'demo-arena', 'Fake Arena'], [carol, GAME, 'Carol’s Shooter'], [dave, GAME, 'Dave’s Shooter']] as const) {
      await gameFolder(peer, id);
      await peer.runtime.shareGame({ description: description(id, title), version: '1' });
    }
    const bob = await peers.start('bob', { catalogIds: ['demo-arena'], manualPeers: [carol, dave].map((peer) => `127.0.0.1:${peer.runtime.port}`) });
    const bobBackend = await backendOf(bob, 'bob');
    await waitFor(async () => (await viewOf(bobBackend, GAME))?.shared?.conflicts.length === 1 && (await viewOf(bobBackend, 'demo-arena')) !== undefined, 20_000, 'bob to see both peers');

    const arena = await viewOf(bobBackend, 'demo-arena');
    expect(arena?.title).toBe('demo arena');
    expect(arena?.shared).toBeUndefined();
    const shooter = await viewOf(bobBackend, GAME);
    const titles = [shooter?.title, shooter?.shared?.conflicts[0]?.title].sort();
    expect(titles).toEqual(['Carol’s Shooter', 'Dave’s Shooter']);
    const shownBy = shooter?.title === 'Carol’s Shooter' ? 'carol' : 'dave';
    expect(shooter?.shared).toEqual({ own: false, sharedBy: [shownBy], conflicts: [{ title: shooter?.shared?.conflicts[0]?.title, sharedBy: [shownBy === 'carol' ? 'dave' : 'carol'] }] });

    // Dave describes it again, as carol does: the new description reaches bob, and the two agree.
    await dave.runtime.shareGame({ description: description(GAME, 'Carol’s Shooter') });
    await waitFor(async () => (await viewOf(bobBackend, GAME))?.shared?.conflicts.length === 0, 20_000, 'dave’s new description to reach bob');
    expect(await viewOf(bobBackend, GAME)).toMatchObject({ title: 'Carol’s Shooter', shared: { own: false, conflicts: [] } });
    expect((await viewOf(bobBackend, GAME))?.shared?.sharedBy.sort()).toEqual(['carol', 'dave']);

    // Sharing a catalog id is refused where the catalog has it.
    await expect(bob.runtime.shareGame({ description: description('demo-arena', 'Mine'), version: '1' })).rejects.toMatchObject({ code: 'GAME_ID_IN_CATALOG' });
    await expect(bob.runtime.shareGame({ description: description('not-here', 'Missing'), version: '1' })).rejects.toMatchObject({ code: 'GAME_NOT_FOUND' });
  });
});
