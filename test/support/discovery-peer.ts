/**
 * A process that only runs MdnsDiscovery, for multi-host tests:
 *   node --import tsx test/support/discovery-peer.ts --id <64 hex> --name n --port 7000 [--dport 7001]
 *        [--requery-ms 500] [--mdns-port 5353] [--loopback]
 * Prints one JSON object per line on stdout: {event:'ready'}, {event:'peer-discovered', peer},
 * {event:'peer-goodbye', peerId}, {event:'stopped'}. SIGTERM stops cleanly (sends goodbye).
 */
import { parseArgs } from 'node:util';
import { MdnsDiscovery } from '../../src/main/peer/discovery/mdns-discovery';
import { createLogger } from '../../src/main/peer/util/logger';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    name: { type: 'string', default: 'peer' },
    port: { type: 'string' },
    dport: { type: 'string' },
    'requery-ms': { type: 'string', default: '500' },
    'mdns-port': { type: 'string', default: '5353' },
    loopback: { type: 'boolean', default: false },
  },
});

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

if (!values.id || !values.port) {
  process.stderr.write('usage: discovery-peer --id <hex> --port <n> [--dport <n>] [--name <s>]\n');
  process.exit(2);
}

const discovery = new MdnsDiscovery({
  peerId: values.id,
  name: values.name ?? 'peer',
  protocolVersion: 1,
  port: Number(values.port),
  ...(values.dport ? { dataPort: Number(values.dport) } : {}),
  includeLoopback: values.loopback,
  requeryIntervalMs: Number(values['requery-ms']),
  interfaceCheckIntervalMs: 1_000,
  mdnsPort: Number(values['mdns-port']),
  logger: createLogger('info', `discovery-peer:${values.name}`),
});
discovery.on('peer-discovered', (peer) => print({ event: 'peer-discovered', peer }));
discovery.on('peer-goodbye', (peerId) => print({ event: 'peer-goodbye', peerId }));

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void discovery.stop().then(() => {
    print({ event: 'stopped' });
    process.exit(0);
  });
});

await discovery.start();
print({ event: 'ready', interfaces: discovery.activeInterfaces() });
