import path from 'node:path';
import { startPeer } from '../../src/main/peer/runtime';
import { silentLogger } from '../../src/main/peer/util/logger';
import { seedGames } from './runtime-harness';
import { testCatalog } from './test-catalog';

/**
 * Starts two full peers (QUIC, data lane, mDNS on loopback, watcher, hash worker), lets them
 * meet and exchange a manifest, stops both, and then does NOT call process.exit: the process
 * only ends if stop() left no socket, timer, watcher or worker behind.
 */
const base = process.argv[2] as string;
const catalog = testCatalog(['demo-arena']);
await seedGames(path.join(base, 'a', 'games'), [{ id: 'demo-arena', version: '1' }]);
const common = { catalog, host: '127.0.0.1', logger: silentLogger, mdns: { enabled: true, includeLoopback: true }, timings: { pingIntervalMs: 200 } };
const a = await startPeer({ ...common, stateDir: path.join(base, 'a', 'state'), gameDir: path.join(base, 'a', 'games'), displayName: 'a' });
const b = await startPeer({ ...common, stateDir: path.join(base, 'b', 'state'), gameDir: path.join(base, 'b', 'games'), displayName: 'b', manualPeers: [`127.0.0.1:${a.port}`] });
while (!b.remoteGames().has('demo-arena')) await new Promise((resolve) => setTimeout(resolve, 50));
await b.getGame('demo-arena');
await b.stop();
await a.stop();
process.stdout.write('stopped\n');
