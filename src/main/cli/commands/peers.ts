import { ControlSocketClient, controlSocketPath } from '../../peer/launcher/control-socket';
import { safeText } from '../../peer/util/safe-text';
import { parseArgs } from '../args';
import { stateDirOf } from './shared-flags';

export async function runPeers(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { 'state-dir': { value: true }, json: {} });
  const client = await ControlSocketClient.connect(controlSocketPath(stateDirOf(args)));
  try {
    const peers = await client.invoke('request_peers');
    if (args.flags.has('json')) {
      process.stdout.write(`${JSON.stringify(peers, null, 2)}\n`);
      return 0;
    }
    if (peers.length === 0) process.stdout.write('No peers yet.\n');
    for (const peer of peers) {
      const rtt = peer.rttMs === null ? '' : ` ${peer.rttMs} ms`;
      // Names and ids come from the peers themselves.
      process.stdout.write(`${safeText(peer.name, 64)}  ${safeText(peer.host, 64)}:${peer.port}  ${peer.source}  ${peer.gameCount} games${rtt}  ${safeText(peer.peerId.slice(0, 16))}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}
