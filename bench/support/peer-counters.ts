/**
 * Preload for a bench peer (`node --import tsx --import bench/support/peer-counters.ts
 * bin/lanspread-peer.mjs serve ...`): counts what an idle peer sends and receives, at no cost
 * until asked. UDP datagrams by kind (mDNS: a socket bound to 5353; QUIC: every other UDP
 * socket) and control-plane requests this peer sends by type (Ping, ListGames, Hello, Announce).
 * On SIGUSR2 it writes the counters, as JSON, to $LANSPREAD_PEER_COUNTERS_FILE (synchronously,
 * so the file is complete once the signal is handled).
 *
 * QUIC encrypts everything, so request types cannot be counted on the wire: the client's
 * `request()` is wrapped instead (the same module instance the peer loads, through tsx).
 */
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { QuicPeerClient } from '../../src/main/peer/transport/peer-client';

export interface PeerCounters {
  /** process.hrtime in µs when the counters were written (the clock of .cpuprofile timestamps). */
  atUs: number;
  udp: Record<'mdns' | 'quic', { sent: number; received: number; sentBytes: number; receivedBytes: number }>;
  /** Control-plane requests this peer sent, by message type. */
  requests: Record<string, number>;
}

const MDNS_PORT = 5353;
const counters: PeerCounters = {
  atUs: 0,
  udp: { mdns: { sent: 0, received: 0, sentBytes: 0, receivedBytes: 0 }, quic: { sent: 0, received: 0, sentBytes: 0, receivedBytes: 0 } },
  requests: {},
};

/** A socket's kind, read once (socket.address() is a syscall; bound sockets keep their port). */
const kinds = new WeakMap<dgram.Socket, 'mdns' | 'quic'>();
function kindOf(socket: dgram.Socket): 'mdns' | 'quic' {
  const known = kinds.get(socket);
  if (known) return known;
  try {
    const kind = socket.address().port === MDNS_PORT ? 'mdns' : 'quic';
    kinds.set(socket, kind);
    return kind;
  } catch {
    // Not bound yet (a first send binds it): ask again next time.
    return 'quic';
  }
}

const byteLength = (message: unknown): number => {
  if (typeof message === 'string') return Buffer.byteLength(message);
  if (Array.isArray(message)) return message.reduce((sum: number, part: unknown) => sum + byteLength(part), 0);
  return (message as ArrayBufferView | undefined)?.byteLength ?? 0;
};

const originalSend = dgram.Socket.prototype.send as (...args: unknown[]) => void;
(dgram.Socket.prototype as unknown as { send: (...args: unknown[]) => void }).send = function send(this: dgram.Socket, ...args: unknown[]) {
  const entry = counters.udp[kindOf(this)];
  entry.sent++;
  entry.sentBytes += byteLength(args[0]);
  return originalSend.apply(this, args);
};

const originalEmit = dgram.Socket.prototype.emit;
dgram.Socket.prototype.emit = function emit(this: dgram.Socket, event: string | symbol, ...args: unknown[]) {
  if (event === 'message') {
    const entry = counters.udp[kindOf(this)];
    entry.received++;
    entry.receivedBytes += byteLength(args[0]);
  }
  return originalEmit.apply(this, [event, ...args] as Parameters<typeof originalEmit>);
} as typeof dgram.Socket.prototype.emit;

const count = (type: string) => (counters.requests[type] = (counters.requests[type] ?? 0) + 1);
const originalRequest = QuicPeerClient.prototype.request;
QuicPeerClient.prototype.request = function request(this: QuicPeerClient, ...args: Parameters<QuicPeerClient['request']>) {
  count(args[1].type);
  return originalRequest.apply(this, args);
};
const originalProbe = QuicPeerClient.prototype.probe;
QuicPeerClient.prototype.probe = function probe(this: QuicPeerClient, ...args: Parameters<QuicPeerClient['probe']>) {
  count(`${args[2].type} (probe)`);
  return originalProbe.apply(this, args);
};

const file = process.env.LANSPREAD_PEER_COUNTERS_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    counters.atUs = Number(process.hrtime.bigint() / 1000n);
    writeFileSync(file, JSON.stringify(counters));
  });
}
