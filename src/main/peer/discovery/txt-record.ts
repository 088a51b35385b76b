import { LanspreadError } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';

/**
 * The TXT record of a Lanspread mDNS advertisement: { id, pv, port, dport?, rev?, cr?, sw?, hb?, name }.
 * Anyone on the LAN can send mDNS packets, so everything read here is hostile until checked.
 */

export interface Advertisement {
  peerId: PeerId;
  protocolVersion: number;
  /** QUIC control-plane UDP port. */
  port: number;
  /** TLS/TCP data-lane port, once known. */
  dataPort?: number;
  /**
   * Revision of what the peer serves (its Pong `libraryRevision`): a peer re-lists another
   * only when this changes, so an idle LAN exchanges no game lists at all.
   */
  libraryRevision?: number;
  /**
   * The part of that revision that is not the swarm's (swarm/served-revision.ts): when only
   * `rev` changed, the peer started or finished downloading something, and only the peers
   * downloading the same game need to ask it now (over the data lane).
   */
  catalogRevision?: number;
  /** The peer shares a game it is downloading, or one it downloaded in this run (`sw=1`). */
  swarming?: boolean;
  /** How often the peer re-sends this record (ms): silence for about two of these means trouble. */
  heartbeatMs?: number;
  name: string;
}

/** What a peer's advertisement says about what it serves (PeerManager.heard reads it). */
export type ServedBeat = Pick<Advertisement, 'libraryRevision' | 'catalogRevision' | 'swarming'>;

export type ParsedAdvertisement = { ok: true; advertisement: Advertisement } | { ok: false; reason: string };

/** Display names longer than this are cut when advertised and refused when received. */
export const MAX_ADVERTISED_NAME_LENGTH = 64;
/** Our record has five entries; a record with hundreds is not one of ours. */
const MAX_TXT_ENTRIES = 32;
/** DNS caps each TXT string at 255 bytes; anything longer did not come from a real packet. */
const MAX_TXT_ENTRY_BYTES = 255;

const PEER_ID = /^[0-9a-f]{64}$/;
const PORT = /^\d{1,5}$/;
const VERSION = /^\d{1,9}$/;
/** Heartbeat intervals a peer may announce (ms): a short one only shortens our patience with it. */
const HEARTBEAT_MS = { min: 100, max: 600_000 };
/** A revision fits a safe integer (Pong carries the same number). */
const REVISION = /^\d{1,15}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parsePort(text: string | undefined): number | null {
  if (text === undefined || !PORT.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/** Cuts and cleans a display name so that our own advertisement always passes our own parser. */
export function advertisableName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = [...name.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim()].slice(0, MAX_ADVERTISED_NAME_LENGTH).join('').trim();
  return cleaned.length > 0 ? cleaned : 'Lanspread peer';
}

/** The TXT key/values bonjour-service encodes as `key=value` strings. */
export function encodeAdvertisement(advertisement: Advertisement): Record<string, string> {
  const txt: Record<string, string> = {
    id: advertisement.peerId,
    pv: String(advertisement.protocolVersion),
    port: String(advertisement.port),
    name: advertisableName(advertisement.name),
  };
  if (advertisement.dataPort !== undefined) txt.dport = String(advertisement.dataPort);
  if (advertisement.libraryRevision !== undefined) txt.rev = String(advertisement.libraryRevision);
  if (advertisement.catalogRevision !== undefined) txt.cr = String(advertisement.catalogRevision);
  if (advertisement.swarming !== undefined) txt.sw = advertisement.swarming ? '1' : '0';
  if (advertisement.heartbeatMs !== undefined) txt.hb = String(advertisement.heartbeatMs);
  const check = parseTxtEntries(Object.entries(txt).map(([key, value]) => Buffer.from(`${key}=${value}`)));
  if (!check.ok) throw new LanspreadError('PEER_ADDRESS_INVALID', `Cannot advertise this peer: ${check.reason}`);
  return txt;
}

/**
 * Reads the raw TXT data of a DNS record (dns-packet gives an array of Buffers). Keys are
 * case-insensitive and the first occurrence wins (RFC 6763 §6.4); entries without '=' are
 * flags we do not use. Returns the reason instead when the data is not a sane TXT string list.
 */
function readTxtEntries(data: unknown): Map<string, string> | string {
  if (!Array.isArray(data)) return 'TXT data is not a list';
  if (data.length > MAX_TXT_ENTRIES) return `TXT has ${data.length} entries`;
  const entries = new Map<string, string>();
  for (const item of data) {
    if (!(item instanceof Uint8Array)) return 'TXT entry is not bytes';
    if (item.length > MAX_TXT_ENTRY_BYTES) return 'TXT entry is longer than 255 bytes';
    let text: string;
    try {
      text = utf8.decode(item);
    } catch {
      return 'TXT entry is not UTF-8';
    }
    const equals = text.indexOf('=');
    if (equals <= 0) continue;
    const key = text.slice(0, equals).toLowerCase();
    if (!entries.has(key)) entries.set(key, text.slice(equals + 1));
  }
  return entries;
}

/** Validates a received TXT record; any bad value rejects the whole record. */
export function parseTxtEntries(data: unknown): ParsedAdvertisement {
  const entries = readTxtEntries(data);
  if (typeof entries === 'string') return { ok: false, reason: entries };

  const peerId = entries.get('id');
  if (peerId === undefined || !PEER_ID.test(peerId)) return { ok: false, reason: 'id is not a 64-digit lowercase hex fingerprint' };

  const pv = entries.get('pv');
  if (pv === undefined || !VERSION.test(pv)) return { ok: false, reason: 'pv is not a protocol version number' };

  const port = parsePort(entries.get('port'));
  if (port === null) return { ok: false, reason: 'port is not a port number' };

  const dport = entries.get('dport');
  const dataPort = dport === undefined ? undefined : parsePort(dport);
  if (dataPort === null) return { ok: false, reason: 'dport is not a port number' };

  const rev = entries.get('rev');
  if (rev !== undefined && !REVISION.test(rev)) return { ok: false, reason: 'rev is not a revision number' };

  const cr = entries.get('cr');
  if (cr !== undefined && !REVISION.test(cr)) return { ok: false, reason: 'cr is not a revision number' };
  const sw = entries.get('sw');
  if (sw !== undefined && sw !== '0' && sw !== '1') return { ok: false, reason: 'sw is not 0 or 1' };

  const hb = entries.get('hb');
  const heartbeatMs = hb === undefined || !VERSION.test(hb) ? null : Number(hb);
  if (hb !== undefined && (heartbeatMs === null || heartbeatMs < HEARTBEAT_MS.min || heartbeatMs > HEARTBEAT_MS.max)) return { ok: false, reason: 'hb is not a heartbeat interval' };

  const name = entries.get('name');
  if (name === undefined || name.trim().length === 0) return { ok: false, reason: 'name is missing' };
  if ([...name].length > MAX_ADVERTISED_NAME_LENGTH) return { ok: false, reason: 'name is too long' };
  if (CONTROL_CHARS.test(name)) return { ok: false, reason: 'name contains control characters' };

  const advertisement: Advertisement = { peerId, protocolVersion: Number(pv), port, name };
  if (dataPort !== undefined) advertisement.dataPort = dataPort;
  if (rev !== undefined) advertisement.libraryRevision = Number(rev);
  if (cr !== undefined) advertisement.catalogRevision = Number(cr);
  if (sw !== undefined) advertisement.swarming = sw === '1';
  if (heartbeatMs !== null) advertisement.heartbeatMs = heartbeatMs;
  return { ok: true, advertisement };
}
