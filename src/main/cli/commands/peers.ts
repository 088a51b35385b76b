import type { PeerView } from '../../../shared/api';
import { ControlSocketClient, controlSocketPath } from '../../peer/launcher/control-socket';
import { safeText } from '../../peer/util/safe-text';
import { parseArgs } from '../args';
import { formatBytes } from '../format';
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
    for (const peer of peers.map(printable)) {
      const rtt = peer.rttMs === null ? '' : ` ${peer.rttMs} ms`;
      const traffic = `  sent ${formatBytes(peer.uploadedBytes)}, received ${formatBytes(peer.downloadedBytes)}`;
      process.stdout.write(`${peer.name}  ${peer.host}:${peer.port}  ${peer.source}  ${peer.gameCount} games${rtt}${traffic}  ${peer.peerId.slice(0, 16)}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}

/** Names, addresses and ids come from the peers themselves: never raw to the terminal. */
function printable(peer: PeerView): PeerView {
  return { ...peer, name: safeText(peer.name, 64), host: safeText(peer.host, 64), peerId: safeText(peer.peerId) };
}
