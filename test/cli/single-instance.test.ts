import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRendererDir } from '../../src/main/cli/web/renderer-dir';
import { ControlSocketClient, controlSocketPath } from '../../src/main/peer/launcher/control-socket';
import { makeWorkDir, repoRoot, spawnCliPeer } from '../support/runtime-harness';
import { useCliScope } from '../support/cli-scope';

/** Runs `lanspread-peer serve …` expecting it to fail on its own: exit code and output. */
async function serveExpectingExit(args: string[]): Promise<{ code: number | null; output: string }> {
  // serve refuses a missing game folder before it gets to what these tests check.
  await mkdir(args[args.indexOf('--game-dir') + 1]!, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/lanspread-peer.mjs'), 'serve', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    // Generous: the bound is "exits on its own", not a speed.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not exit within 30 s:\n${output}`));
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function answers(stateDir: string, peerId: string): Promise<boolean> {
  const client = await ControlSocketClient.connect(controlSocketPath(stateDir));
  try {
    return (await client.invoke('get_status')).peerId === peerId;
  } finally {
    client.close();
  }
}

describe('one serve per state directory and per port', () => {
  const { children, defer } = useCliScope();

  it('a second serve on the same state directory exits non-zero naming the first one\'s pid, and leaves its control socket alone', async () => {
    const work = await makeWorkDir('single');
    defer(work.cleanup);
    const stateDir = path.join(work.dir, 'state');
    const first = await spawnCliPeer(['serve', '--game-dir', path.join(work.dir, 'games'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns']);
    children.push(first);
    const second = await serveExpectingExit(['--game-dir', path.join(work.dir, 'games2'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns']);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain('[ALREADY_RUNNING]');
    expect(second.output).toContain(`pid ${first.child.pid}`);
    expect(second.output).not.toContain('LANSPREAD_READY');
    expect(await answers(stateDir, first.peerId)).toBe(true);
  });

  it('a serve whose control port is taken exits non-zero naming the port; the peer holding it still answers', async () => {
    const work = await makeWorkDir('single-port');
    defer(work.cleanup);
    const first = await spawnCliPeer(['serve', '--game-dir', path.join(work.dir, 'a'), '--state-dir', path.join(work.dir, 'a-state'), '--host', '127.0.0.1', '--no-mdns']);
    children.push(first);
    const second = await serveExpectingExit(['--game-dir', path.join(work.dir, 'b'), '--state-dir', path.join(work.dir, 'b-state'), '--host', '127.0.0.1', '--port', String(first.port), '--no-mdns']);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain('[PORT_IN_USE]');
    expect(second.output).toContain(`127.0.0.1:${first.port}`);
    expect(await answers(path.join(work.dir, 'a-state'), first.peerId)).toBe(true);
    // Its lock went with it: the same state directory starts normally now.
    const again = await spawnCliPeer(['serve', '--game-dir', path.join(work.dir, 'b'), '--state-dir', path.join(work.dir, 'b-state'), '--host', '127.0.0.1', '--no-mdns']);
    children.push(again);
  });

  it('a serve --web whose web port is taken exits non-zero naming the port', async (context) => {
    if (!findRendererDir()) {
      const reason = 'the web UI is not built (npm run build)';
      console.warn(`SKIP web-port test: ${reason}`);
      return context.skip(reason);
    }
    const work = await makeWorkDir('single-web');
    defer(work.cleanup);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as net.AddressInfo).port;
    const result = await serveExpectingExit(['--game-dir', path.join(work.dir, 'g'), '--state-dir', path.join(work.dir, 's'), '--host', '127.0.0.1', '--no-mdns', '--web', '--web-port', String(port)]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('[PORT_IN_USE]');
    expect(result.output).toContain(`127.0.0.1:${port}`);
  });

  it('a lock left by a process that died is taken over', async () => {
    const work = await makeWorkDir('single-stale');
    defer(work.cleanup);
    const stateDir = path.join(work.dir, 'state');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => spawn('mkdir', ['-p', stateDir]).on('exit', (code) => (code === 0 ? resolve() : reject(new Error('mkdir')))));
    await writeFile(path.join(stateDir, 'instance.lock'), JSON.stringify({ pid: Number(dead.stdout) }));
    const peer = await spawnCliPeer(['serve', '--game-dir', path.join(work.dir, 'games'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns']);
    children.push(peer);
    expect(await answers(stateDir, peer.peerId)).toBe(true);
  });

  it('of three serves started at the same moment on one state directory, exactly one runs; the others exit naming it', async () => {
    const work = await makeWorkDir('single-race');
    defer(work.cleanup);
    const stateDir = path.join(work.dir, 'state');
    const args = ['--game-dir', path.join(work.dir, 'games'), '--state-dir', stateDir, '--host', '127.0.0.1', '--no-mdns'];
    const started = await Promise.allSettled([0, 1, 2].map(() => spawnCliPeer(['serve', ...args])));
    const running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    children.push(...running);
    expect(running).toHaveLength(1);
    const winner = running[0]!;
    for (const result of started) {
      if (result.status === 'rejected') expect(String(result.reason)).toContain(`[ALREADY_RUNNING]: Another Lanspread peer (pid ${winner.child.pid})`);
    }
    expect(await answers(stateDir, winner.peerId)).toBe(true);
  });
});

