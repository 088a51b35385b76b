import { execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src/main/cli/args';
import { ControlSocketClient, controlSocketPath } from '../../src/main/peer/launcher/control-socket';
import { makeWorkDir, repoRoot, spawnCliPeer, startTestPeer, waitFor } from '../support/runtime-harness';
import { useCliScope } from '../support/cli-scope';

/** The CLI's arguments: game folders checked as Settings checks them, sizes as people write them, Ctrl-C on download. */

const peerCli = path.join(repoRoot, 'bin/lanspread-peer.mjs');
const MIB = 1024 * 1024;

/** Runs `lanspread-peer ARGS` to its end (it must end on its own): exit code and all output. */
function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [peerCli, ...args], { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe('sizes', () => {
  it('reads decimal and binary units, bytes and rates', () => {
    expect(parseSize('4MiB', 'x')).toBe(4 * MIB);
    expect(parseSize('500MB', 'x')).toBe(500_000_000);
    expect(parseSize('1.5 GiB', 'x')).toBe(1.5 * 1024 * MIB);
    expect(parseSize('64kib', 'x')).toBe(65_536);
    expect(parseSize('65536', 'x')).toBe(65_536);
    expect(parseSize('4MiB/s', 'x')).toBe(4 * MIB);
    expect(parseSize('0', 'x')).toBe(0);
  });

  it('refuses what is not a size, with a code and the option named', () => {
    for (const bad of ['4 furlongs', '-1', '', 'MiB', '4MiB/h', '1e3', 'NaN', '99999999999TiB']) {
      expect(() => parseSize(bad, '--download-limit')).toThrow(expect.objectContaining({ code: 'MALFORMED_MESSAGE', message: expect.stringContaining('--download-limit') }));
    }
  });
});

describe('lanspread-peer arguments', () => {
  const { children, defer } = useCliScope();

  it('serve refuses a game folder that does not exist, a file, and no folder at all; it says why with a code', async () => {
    const work = await makeWorkDir('cli-args-dir');
    defer(work.cleanup);
    const file = path.join(work.dir, 'a-file');
    await writeFile(file, 'not a folder');
    const common = ['--host', '127.0.0.1', '--no-mdns'];
    const missing = await runCli(['serve', '--game-dir', path.join(work.dir, 'nowhere'), '--state-dir', path.join(work.dir, 's1'), ...common]);
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain('[GAME_DIR_INVALID]');
    expect(missing.output).toContain(`Folder does not exist: ${path.join(work.dir, 'nowhere')}`);
    const notAFolder = await runCli(['serve', '--game-dir', file, '--state-dir', path.join(work.dir, 's2'), ...common]);
    expect(notAFolder.code).not.toBe(0);
    expect(notAFolder.output).toContain(`[GAME_DIR_INVALID]: Not a folder: ${file}`);
    const none = await runCli(['serve', '--state-dir', path.join(work.dir, 's3'), ...common]);
    expect(none.code).not.toBe(0);
    expect(none.output).toContain('[GAME_DIR_NOT_SET]');
    for (const result of [missing, notAFolder, none]) expect(result.output).not.toContain('LANSPREAD_READY');
  });

  it('serve takes caps written with units and refuses one that is not a size before starting', async () => {
    const work = await makeWorkDir('cli-args-size');
    defer(work.cleanup);
    const stateDir = path.join(work.dir, 'state');
    const gameDir = path.join(work.dir, 'games');
    await mkdir(gameDir);
    const refused = await runCli(['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--download-limit', '4 furlongs']);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('[MALFORMED_MESSAGE]: --download-limit must be a size');
    expect(refused.output).not.toContain('LANSPREAD_READY');

    const peer = await spawnCliPeer(['serve', '--game-dir', gameDir, '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--download-limit', '4MB', '--upload-limit', '1.5MiB']);
    children.push(peer);
    const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    defer(() => client.close());
    const settings = await client.invoke('get_settings');
    expect(settings.downloadLimitBytesPerSec).toBe(4_000_000);
    expect(settings.uploadLimitBytesPerSec).toBe(1.5 * MIB);
  });

  it('Ctrl-C on download says the download continues in the background, and it does; cancel stops it', async () => {
    const work = await makeWorkDir('cli-args-ctrl-c');
    defer(work.cleanup);
    const seed = await startTestPeer(work.dir, 'seed', { catalogIds: ['demo-racer'], games: [{ id: 'demo-racer', version: '1.0', files: [{ path: 'data/big.pak', size: 8 * MIB }] }], uploadLimitBytesPerSec: MIB });
    defer(() => seed.stop());
    const stateDir = path.join(work.dir, 'player', 'state');
    const player = await spawnCliPeer(['serve', '--game-dir', path.join(work.dir, 'player', 'games'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns', '--peer', `127.0.0.1:${seed.runtime.port}`]);
    children.push(player);
    const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
    defer(() => client.close());
    await waitFor(async () => (await client.invoke('request_games')).some((g) => g.id === 'demo-racer' && g.sourcePeers.length > 0), 30_000, 'the seed\'s game');

    const download = spawn(process.execPath, [peerCli, 'download', 'demo-racer', '--state-dir', stateDir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => download.once('exit', (code) => resolve(code)));
    createInterface({ input: download.stderr! }).on('line', (line) => lines.push(line));
    createInterface({ input: download.stdout! }).on('line', (line) => lines.push(line));
    await waitFor(() => lines.some((line) => line.startsWith('download ')), 30_000, 'a progress line');
    download.kill('SIGINT');
    expect(await exited).toBe(130);
    const said = lines.join('\n');
    expect(said).toContain('Stopped following demo-racer: it continues in the background in the running peer.');
    expect(said).toContain(`lanspread-peer cancel demo-racer --state-dir ${stateDir}`);

    // It goes on without the CLI following it…
    let after = 0;
    client.on('game-download-progress', (p) => p.gameId === 'demo-racer' && (after = p.bytesDone));
    await waitFor(() => after > 0, 20_000, 'progress after Ctrl-C');
    // `download` without --no-install is an install (it downloads, then unpacks): still transferring.
    expect((await client.invoke('request_games')).find((g) => g.id === 'demo-racer')?.operation).toMatchObject({ kind: 'install', state: 'running', phase: 'transfer' });
    // …until cancelled.
    const cancelled = await runCli(['cancel', 'demo-racer', '--state-dir', stateDir]);
    expect(cancelled).toEqual({ code: 0, output: 'The download of demo-racer is cancelled.\n' });
    await waitFor(async () => (await client.invoke('request_games')).find((g) => g.id === 'demo-racer')?.operation === null, 20_000, 'no operation left');
    expect((await client.invoke('request_games')).find((g) => g.id === 'demo-racer')?.downloaded).toBe(false);
  }, 120_000);
});
