import { isIPv4, isIPv6 } from 'node:net';
import { LanspreadError } from '../../../shared/errors';
import type { PeerAddress } from '../../../shared/model';

/**
 * Peers typed in by the player (`host:port`), for networks where multicast does not pass
 * (VLANs, Wi-Fi client isolation, VPNs). Their peer id is unknown until the TLS handshake and
 * Hello, so this list is only addresses; the runtime probes them over QUIC.
 */

const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const MAX_HOSTNAME_LENGTH = 253;
/** Echoing a pasted megabyte back into an error message helps nobody. */
const MAX_ECHO = 80;

function invalid(input: string, why: string): LanspreadError {
  const shown = input.length > MAX_ECHO ? `${input.slice(0, MAX_ECHO)}…` : input;
  return new LanspreadError('PEER_ADDRESS_INVALID', `"${shown}" is not a peer address (host:port): ${why}`);
}

function parsePort(input: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalid(input, 'the port must be a number from 1 to 65535');
  const port = Number(text);
  if (port < 1 || port > 65535) throw invalid(input, 'the port must be a number from 1 to 65535');
  return port;
}

function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > MAX_HOSTNAME_LENGTH) return false;
  const labels = host.replace(/\.$/, '').split('.');
  if (!labels.every((label) => HOSTNAME_LABEL.test(label))) return false;
  // All-numeric dotted names are mistyped IPv4 addresses (e.g. 10.0.0.300), not hostnames.
  return !labels.every((label) => /^\d+$/.test(label));
}

/** Parses `1.2.3.4:7000`, `host.lan:7000` or `[fe80::1]:7000`. Throws PEER_ADDRESS_INVALID. */
export function parsePeerAddress(input: string): PeerAddress {
  if (typeof input !== 'string') throw invalid(String(input), 'expected text');
  const text = input.trim();
  if (text.length === 0) throw invalid(input, 'it is empty');

  if (text.startsWith('[')) {
    const match = /^\[([^\]]+)\]:([^:]*)$/.exec(text);
    if (!match) throw invalid(input, 'write IPv6 addresses as [address]:port');
    const host = (match[1] ?? '').toLowerCase();
    if (!isIPv6(host)) throw invalid(input, `${host} is not an IPv6 address`);
    return { host, port: parsePort(input, match[2] ?? '') };
  }

  const colon = text.lastIndexOf(':');
  if (colon === -1) throw invalid(input, 'the port is missing');
  const host = text.slice(0, colon);
  if (host.includes(':')) throw invalid(input, 'write IPv6 addresses as [address]:port');
  const port = parsePort(input, text.slice(colon + 1));
  if (host.length === 0) throw invalid(input, 'the host is missing');
  if (isIPv4(host)) return { host, port };
  if (!isHostname(host)) throw invalid(input, `${host} is neither an IPv4 address nor a hostname`);
  return { host: host.toLowerCase().replace(/\.$/, ''), port };
}

/** The inverse of parsePeerAddress, for settings files and the UI. */
export function formatPeerAddress(address: PeerAddress): string {
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** The player's list of manual peers: validated, without duplicates, in the order given. */
export class ManualPeers {
  private addresses: PeerAddress[] = [];

  constructor(entries: readonly string[] = []) {
    this.set(entries);
  }

  /**
   * Replaces the whole list. Every entry is checked first, so one typo leaves the previous
   * list intact instead of half-applying the new one.
   */
  set(entries: readonly string[]): PeerAddress[] {
    const parsed = entries.map(parsePeerAddress);
    this.addresses = [];
    for (const address of parsed) this.insert(address);
    return this.list();
  }

  /** Adds one entry; returns false when it was already listed. */
  add(entry: string): boolean {
    return this.insert(parsePeerAddress(entry));
  }

  /** Removes one entry; returns false when it was not listed. */
  remove(entry: string): boolean {
    const key = formatPeerAddress(parsePeerAddress(entry));
    const before = this.addresses.length;
    this.addresses = this.addresses.filter((address) => formatPeerAddress(address) !== key);
    return this.addresses.length !== before;
  }

  list(): PeerAddress[] {
    return this.addresses.map((address) => ({ ...address }));
  }

  /** The list as the player would type it (for saving settings). */
  toStrings(): string[] {
    return this.addresses.map(formatPeerAddress);
  }

  private insert(address: PeerAddress): boolean {
    const key = formatPeerAddress(address);
    if (this.addresses.some((known) => formatPeerAddress(known) === key)) return false;
    this.addresses.push(address);
    return true;
  }
}
