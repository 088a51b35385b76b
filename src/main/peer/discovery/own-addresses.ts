import os from 'node:os';
import type { InterfaceTable } from './usable-interfaces';
import { formatPeerAddress } from './manual-peers';

/**
 * How other machines reach this peer by hand: `host:port` for each IPv4 address this machine
 * has on a network (loopback only when there is nothing else, or when bound to it). A peer
 * bound to one address is reachable there only.
 */
export function ownAddresses(bindHost: string, port: number, table: InterfaceTable = os.networkInterfaces()): string[] {
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return [formatPeerAddress({ host: bindHost, port })];
  const hosts = new Set<string>();
  for (const addresses of Object.values(table)) {
    for (const info of addresses ?? []) if (info.family === 'IPv4' && !info.internal) hosts.add(info.address);
  }
  if (hosts.size === 0) hosts.add('127.0.0.1');
  return [...hosts].sort().map((host) => formatPeerAddress({ host, port }));
}
