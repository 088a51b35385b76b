import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ControlSocketClient, controlSocketPath } from '../../../src/main/peer/launcher/control-socket';
import { journalPath } from '../../../src/main/peer/download/resume-journal';
import type { LanspreadError } from '../../../src/shared/errors';
import { makeWorkDir, seedGames, spawnCliPeer, startTestPeer, waitFor, type CliPeer, type TestPeer } from '../../support/runtime-harness';
import { fillDisk, mountSmallDisk, skipWithoutDisk } from '../../support/small-disk';
import { useCliScope, waitForRemoteGame } from '../../support/cli-scope';
import { invokeToEnd } from '../../support/operation-end';

/**
 * A downloader (the CLI's `serve`, a real child process) whose game and state directories are
 * on a 20 MiB tmpfs, fed by a real seed on loopback. A full disk must end the operation with
 * DISK_FULL and nothing else: the process stays up and answers, no version.ini, and either a
 * journal for what is left or nothing at all.
 */
const GAME = 'quake-3-arena';
const MIB = 1024 * 1024;

async function invokeError(client: ControlSocketClient, gameId: string): Promise<LanspreadError | null> {
  return invokeToEnd(client, 'install_game', { gameId, mode: 'normal' }).then(
    () => null,
    (error: unknown) => error as LanspreadError,
  );
}

/** Either a resumable download (journal) or no payload file of it at all. */
async function resumableOrNothing(gameRoot: string, stateDir: string): Promise<boolean> {
  if (existsSync(journalPath(stateDir, GAME))) return true;
  const left = existsSync(gameRoot) ? await readdir(gameRoot, { recursive: true }) : [];
  return left.length === 0;
}

describe('disk full on a real downloader process', () => {
  const { children, defer } = useCliScope();

  /** A work directory with a tmpfs of `sizeMiB` at `<dir>/small`, both gone after the test. */
  async function smallDisk(sizeMiB: number): Promise<{ dir: string; disk: string } | { skip: string }> {
    const work = await makeWorkDir('disk-full');
    defer(work.cleanup);
    const disk = path.join(work.dir, 'small');
    const mounted = await mountSmallDisk(disk, sizeMiB);
    if ('skip' in mounted) return mounted;
    defer(mounted.unmount);
    return { dir: work.dir, disk };
  }

  /** A downloader `serve` child with its game and state directories on a 20 MiB tmpfs, fed by a seed of `gameBytes`. */
  async function setup(gameBytes: number, extraFlags: string[] = []): Promise<{ seed: TestPeer; player: CliPeer; client: ControlSocketClient; disk: string; gameRoot: string; stateDir: string } | { skip: string }> {
    const small = await smallDisk(20);
    if ('skip' in small) return small;
    const { dir, disk } = small;
    const seed = await startTestPeer(dir, 'seed', {
      catalogIds: [GAME],
      games: [{ id: GAME, version: '1', files: [{ path: 'data/a.pak', size: gameBytes / 2 }, { path: 'data/b.pak', size: gameBytes / 2 }], volumeSize: 2 * MIB }],
    });
    defer(() => seed.stop());
    const gameDir = path.join(disk, 'games');
    const stateDir = path.join(disk, 'state');
    const player = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${seed.runtime.port}`, ...extraFlags]);
    children.push(player);
    const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    defer(() => client.close());
    await waitForRemoteGame(client, GAME);
    return { seed, player, client, disk, gameRoot: path.join(gameDir, GAME), stateDir };
  }

  it('refuses a download and install that cannot fit, naming the needed and free bytes, before writing anything', async (context) => {
    const ready = await setup(12 * MIB);
    if ('skip' in ready) return skipWithoutDisk(context, ready.skip);
    const error = await invokeError(ready.client, GAME);
    expect(error?.code).toBe('DISK_FULL');
    expect(error?.message).toMatch(/\d+ bytes needed, \d+ bytes free/);
    const [, needed, free] = /(\d+) bytes needed, (\d+) bytes free/.exec(error?.message ?? '') ?? [];
    expect(Number(needed)).toBeGreaterThan(Number(free));
    expect(await resumableOrNothing(ready.gameRoot, ready.stateDir)).toBe(true);
    expect(existsSync(journalPath(ready.stateDir, GAME))).toBe(false);
    expect(ready.player.child.exitCode).toBeNull();
  });

  it('a disk that fills up during the transfer ends each of 20 downloads with DISK_FULL; the process stays up', async (context) => {
    // Slow enough that the disk is full long before the last byte (6 MiB at 8 MiB/s).
    const ready = await setup(6 * MIB, ['--download-limit', String(8 * MIB)]);
    if ('skip' in ready) return skipWithoutDisk(context, ready.skip);
    const { client, player, disk, gameRoot, stateDir } = ready;
    const filler = path.join(disk, 'filler.bin');
    const outcomes: string[] = [];
    for (let round = 0; round < 20; round++) {
      // The preflight sees room for the game; right after the download began, the disk fills up.
      let filled: Promise<void> = Promise.resolve();
      const off = client.on('game-download-begin', () => (filled = fillDisk(filler, 256 * 1024)));
      const error = await invokeError(client, GAME);
      off();
      await filled;
      // Not the preflight's refusal: the transfer itself ran into the full disk.
      outcomes.push(`${error?.code ?? 'finished'}${/bytes needed/.test(error?.message ?? '') ? ' (preflight)' : ''}`);
      expect(player.child.exitCode, player.output.join('\n')).toBeNull();
      expect(player.child.signalCode).toBeNull();
      // Still answering: a new command is served.
      expect((await client.invoke('get_status')).running).toBe(true);
      expect(existsSync(path.join(gameRoot, 'version.ini'))).toBe(false);
      expect(await resumableOrNothing(gameRoot, stateDir)).toBe(true);
      // What the player reads: the disk, and how much the game needs.
      expect(error?.message).toMatch(/disk filled up during the download: .* needs \d+ bytes/);
      await rm(filler, { force: true });
    }
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => 'DISK_FULL'));
    expect(player.output.join('\n')).not.toMatch(/unhandled rejection|uncaught exception/);
  }, 240_000);

  it('refuses to install downloaded archives whose unpacked size does not fit, before extracting a byte', async (context) => {
    const small = await smallDisk(20);
    if ('skip' in small) return skipWithoutDisk(context, small.skip);
    const { dir, disk } = small;
    const gameDir = path.join(disk, 'games');
    await seedGames(gameDir, [{ id: GAME, version: '1', files: [{ path: 'data/a.pak', size: 4 * MIB }, { path: 'data/b.pak', size: 4 * MIB }] }]);
    await fillDisk(path.join(disk, 'filler.bin'), 4 * MIB);
    const peer = await startTestPeer(dir, 'player', { catalogIds: [GAME], gameDir, stateDir: path.join(dir, 'state') });
    defer(() => peer.stop());
    const failed = await peer.runtime.installDownloaded(GAME).then(
      () => null,
      (error: unknown) => error as LanspreadError,
    );
    expect(failed?.code).toBe('DISK_FULL');
    const [, needed, free] = /(\d+) bytes needed, (\d+) bytes free/.exec(failed?.message ?? '') ?? [];
    expect(Number(needed)).toBeGreaterThanOrEqual(8 * MIB);
    expect(Number(free)).toBeLessThan(Number(needed));
    const root = await readdir(path.join(gameDir, GAME));
    expect(root).not.toContain('local');
    expect(root).not.toContain('.local.installing');
    expect(root).toContain('version.ini');
  });

  it('a seed whose state directory is full keeps serving: the library index that cannot be saved is logged, not fatal', async (context) => {
    const small = await smallDisk(2);
    if ('skip' in small) return skipWithoutDisk(context, small.skip);
    const { dir, disk: stateDisk } = small;
    const gameDir = path.join(dir, 'seed-games');
    await seedGames(gameDir, [{ id: GAME, version: '1' }]);
    const seed = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', path.join(stateDisk, 'state'), '--host', '127.0.0.1', '--no-mdns']);
    children.push(seed);
    await fillDisk(path.join(stateDisk, 'filler.bin'), 0);
    const player = await startTestPeer(dir, 'player', { catalogIds: [GAME], manualPeers: [`127.0.0.1:${seed.port}`] });
    defer(() => player.stop());
    await waitFor(() => player.runtime.remoteGames().has(GAME), 20_000, 'the seed\'s game');
    // Building the manifest hashes the archives and saves the index: onto the full disk.
    for (let round = 0; round < 3; round++) {
      const { manifest } = await player.runtime.getGame(GAME);
      expect(manifest.files.length).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seed.child.exitCode, seed.output.join('\n')).toBeNull();
    expect(seed.output.join('\n')).toMatch(/library index not saved/);
  });

  it('a streamed install onto a disk too small for it ends with DISK_FULL: the process stays up, nothing half-installed is left', async (context) => {
    const ready = await setup(24 * MIB);
    if ('skip' in ready) return skipWithoutDisk(context, ready.skip);
    const { client, player, gameRoot } = ready;
    for (let round = 0; round < 3; round++) {
      const error = await invokeToEnd(client, 'install_game', { gameId: GAME, mode: 'streamed' }).then(
        () => null,
        (thrown: unknown) => thrown as LanspreadError,
      );
      expect(error?.code, error?.message).toBe('DISK_FULL');
      // Refused when the sender announced the size, before the first byte: both numbers named.
      const [, needed, free] = /(\d+) bytes needed, (\d+) bytes free/.exec(error?.message ?? '') ?? [];
      expect(Number(needed)).toBeGreaterThanOrEqual(24 * MIB);
      expect(Number(free)).toBeLessThan(Number(needed));
      expect(player.child.exitCode, player.output.join('\n')).toBeNull();
      expect((await client.invoke('get_status')).running).toBe(true);
      const left = existsSync(gameRoot) ? await readdir(gameRoot) : [];
      expect(left.filter((name) => name === 'local' || name === '.local.installing' || name === 'version.ini')).toEqual([]);
    }
    expect(player.output.join('\n')).not.toMatch(/unhandled rejection|uncaught exception/);
  }, 120_000);
});

