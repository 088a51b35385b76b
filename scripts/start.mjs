#!/usr/bin/env node
// `npm start`: the Electron launcher when its binary is here (or can be fetched); otherwise the
// same peer runtime headless with the web UI, sharing ./games (or LANSPREAD_GAME_DIR).
// `npm start -- --demo` first starts two seed peers on loopback that share generated demo games,
// and points the launcher at them, so one machine shows discovery, download and install.
import { spawnSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = process.argv.slice(2).includes('--demo');
// Everything else is for the launcher (`serve` or electron-vite), which would reject --demo.
const extra = process.argv.slice(2).filter((arg) => arg !== '--demo');
const electronVite = path.join(root, 'node_modules/electron-vite/bin/electron-vite.js');
const peerCli = path.join(root, 'bin/lanspread-peer.mjs');
const demoDir = path.resolve(process.env.LANSPREAD_DEMO_DIR ?? path.join(root, '.lanspread-demo'));
const SEED_READY_TIMEOUT_MS = 60_000;
const SEED_STOP_GRACE_MS = 5_000;

/** Looks for the Electron binary without require('electron'), which would start a download. */
function electronBinary() {
  const dir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

function run(command, args) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
}

/** Electron fetches its binary on first use; try once (it fails fast where there is no network). */
function fetchElectron() {
  if (process.env.LANSPREAD_NO_ELECTRON === '1') return null;
  const install = path.join(root, 'node_modules', 'electron', 'install.js');
  if (!existsSync(install)) return null;
  spawnSync(process.execPath, [install], { cwd: root, stdio: 'ignore', timeout: 120_000 });
  return electronBinary();
}

function exitedPromise(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? 1);
    else child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** Runs `lanspread-peer demo-games` for one seed, its output prefixed with the seed's name. */
async function writeDemoGames(seed) {
  const child = spawn(process.execPath, [peerCli, 'demo-games', '--game-dir', seed.gameDir, '--seed-index', String(seed.index)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout }).on('line', (line) => console.log(`  ${seed.name}: ${line}`));
  const code = await exitedPromise(child);
  if (code !== 0) throw new Error(`Writing the demo games of ${seed.name} failed (exit ${code}); see above.`);
}

/**
 * Starts one seed `serve` on loopback and resolves with its QUIC port once it prints
 * LANSPREAD_READY. Its log goes to <seed>/peer.log so the launcher's own output stays readable;
 * both pipes are read to the end, or a chatty seed would block on a full pipe.
 */
function startSeedPeer(seed, children) {
  const log = createWriteStream(path.join(seed.dir, 'peer.log'), { flags: 'a' });
  const args = ['serve', '--game-dir', seed.gameDir, '--state-dir', seed.stateDir, '--name', seed.name, '--host', '127.0.0.1', '--port', '0', '--no-mdns'];
  const child = spawn(process.execPath, [peerCli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  createInterface({ input: child.stderr }).on('line', (line) => log.write(`${line}\n`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${seed.name} did not start within ${SEED_READY_TIMEOUT_MS / 1000} s; see ${log.path}`)), SEED_READY_TIMEOUT_MS);
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.write(`${line}\n`);
      if (!line.startsWith('LANSPREAD_READY ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('LANSPREAD_READY '.length)).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${seed.name} exited with ${code} before it was ready; see ${log.path}`));
    });
  });
}

/** Stops the seeds politely, then for good: a seed must never outlive `npm start`. */
async function stopAll(children) {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  const force = setTimeout(() => running.forEach((child) => child.kill('SIGKILL')), SEED_STOP_GRACE_MS);
  await Promise.all(running.map(exitedPromise));
  clearTimeout(force);
}

/** Generates the demo games (once), starts both seeds, returns their addresses as manual peers. */
async function startDemoSeeds(children) {
  const seeds = [1, 2].map((index) => {
    const dir = path.join(demoDir, `seed-${index}`);
    return { index, name: `Demo seed ${index}`, dir, gameDir: path.join(dir, 'games'), stateDir: path.join(dir, 'state') };
  });
  for (const seed of seeds) mkdirSync(seed.gameDir, { recursive: true });
  console.log(`Demo: preparing the demo games in ${demoDir} (generated on the first run only)…`);
  await Promise.all(seeds.map(writeDemoGames));
  const ports = await Promise.all(seeds.map((seed) => startSeedPeer(seed, children)));
  seeds.forEach((seed, i) => console.log(`Demo: ${seed.name} is running on 127.0.0.1:${ports[i]} (log: ${path.join(seed.dir, 'peer.log')})`));
  return ports.map((port) => `127.0.0.1:${port}`);
}

/** Runs the launcher; stops the seeds when it exits or on Ctrl-C / SIGTERM, then exits alike. */
function runLauncher(command, args, children, env = process.env) {
  const launcher = spawn(command, args, { cwd: root, stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill(signal);
      else void stopAll(children).then(() => process.exit(1));
    });
  }
  launcher.on('exit', (code) => {
    void stopAll(children).then(() => process.exit(code ?? 0));
  });
}

// Seed peers started by --demo; every exit path below stops them.
const seedChildren = [];
let demoPeers = [];
if (demo) {
  const abort = () => void stopAll(seedChildren).then(() => process.exit(1));
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    demoPeers = await startDemoSeeds(seedChildren);
  } catch (error) {
    console.error(`Demo: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(seedChildren);
    process.exit(1);
  }
  process.off('SIGINT', abort);
  process.off('SIGTERM', abort);
  console.log(`Demo: two seed peers on loopback share demo-arena, demo-racer, demo-tanks (seed 2 has demo-arena and demo-racer too,
      so those download from both); pick Install in the UI. Delete ${demoDir} to remove everything the demo made.
`);
}

if (process.env.LANSPREAD_NO_ELECTRON !== '1' && (electronBinary() ?? fetchElectron())) {
  // `preview` builds, then runs the built app, so the window always matches the source. The
  // Electron main process adds LANSPREAD_DEMO_PEERS to its manual peers for this session only.
  const env = demo ? { ...process.env, LANSPREAD_DEMO_PEERS: demoPeers.join(',') } : process.env;
  runLauncher(process.execPath, [electronVite, 'preview', ...extra], seedChildren, env);
} else {
  // A demo keeps its own launcher folders, so the demo games never land in the everyday
  // ./games and state.
  const gameDir = path.resolve(process.env.LANSPREAD_GAME_DIR ?? (demo ? path.join(demoDir, 'player', 'games') : path.join(root, 'games')));
  const stateDir = path.resolve(process.env.LANSPREAD_STATE_DIR ?? (demo ? path.join(demoDir, 'player', 'state') : path.join(root, '.lanspread-state')));
  const webHost = process.env.LANSPREAD_WEB_HOST ?? '127.0.0.1';
  const webPort = process.env.LANSPREAD_WEB_PORT ?? '7420';
  mkdirSync(gameDir, { recursive: true });

  // The web UI is the built renderer; build it once if this checkout has never been built.
  if (!existsSync(path.join(root, 'out/renderer/index.html'))) {
    console.log('Building the web UI (first run)…');
    const built = run(process.execPath, [electronVite, 'build']);
    if (built !== 0) {
      console.error('Building the web UI failed; see the errors above.');
      await stopAll(seedChildren);
      process.exit(built);
    }
  }

  const shownHost = webHost === '0.0.0.0' || webHost === '::' ? '127.0.0.1' : webHost;
  // Port 0 means "any free port": only the peer knows which, and it prints the URL when ready.
  // The URL carries the access token, which only the peer knows: it prints the whole URL when ready.
  const address = `the "Web UI:" address the peer prints below (http://${shownHost}:${webPort === '0' ? '<port>' : webPort}/?token=…)`;
  console.log(`Electron is not available on this machine (its binary is fetched on first run and could not be).
Starting the headless Lanspread peer with the web UI instead: it shares the game folder saved in Settings
(${gameDir} until you choose another) and finds peers on the LAN.

  Open the launcher in a browser: ${address}
  ${webHost === '127.0.0.1' ? '(only this machine can open it; set LANSPREAD_WEB_HOST=0.0.0.0 to allow others)' : '(other machines can open it with the same URL, token included)'}

Ctrl-C stops it.
`);
  // The game folder is a first-start default: a folder chosen in Settings wins on every later
  // start. The demo's seeds are added for this run, beside the player's saved manual peers.
  const demoPeerArgs = demoPeers.flatMap((peer) => ['--peer', peer]);
  runLauncher(
    process.execPath,
    [peerCli, 'serve', '--default-game-dir', gameDir, '--state-dir', stateDir, '--web', '--web-host', webHost, '--web-port', webPort, ...demoPeerArgs, ...extra],
    seedChildren,
  );
}
