import { parseTxtEntries, type ParsedAdvertisement } from './txt-record';

/** DNS-SD service type `_lanspread._udp` (the control plane is QUIC, i.e. UDP). */
export const SERVICE_TYPE = 'lanspread';
export const SERVICE_PROTOCOL = 'udp';
export const SERVICE_PTR_NAME = `_${SERVICE_TYPE}._${SERVICE_PROTOCOL}.local`;

export interface ServiceAnnouncement {
  /** Lowercased service instance name, e.g. `lanspread-ab12….__lanspread._udp.local`. */
  fqdn: string;
  txt: ParsedAdvertisement;
}

export interface ServicePacketFindings {
  announced: ServiceAnnouncement[];
  /** Instances that said goodbye (PTR with TTL 0, RFC 6762 §10.1). */
  goodbyes: string[];
}

interface RecordLike {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

function isRecord(value: unknown): value is RecordLike {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<RecordLike>;
  return typeof record.name === 'string' && typeof record.type === 'string' && typeof record.ttl === 'number';
}

function recordsOf(packet: unknown): RecordLike[] {
  if (typeof packet !== 'object' || packet === null) return [];
  const { answers, additionals } = packet as { answers?: unknown; additionals?: unknown };
  return [...(Array.isArray(answers) ? answers : []), ...(Array.isArray(additionals) ? additionals : [])].filter(isRecord);
}

/**
 * Reads what an mDNS response says about Lanspread services. We parse packets ourselves
 * instead of using bonjour-service's Browser because the Browser stays silent when a known
 * instance re-announces from a new source address, and its service list grows without bound
 * under a flood of invented instances.
 */
export function readServicePacket(packet: unknown): ServicePacketFindings {
  const records = recordsOf(packet);
  const findings: ServicePacketFindings = { announced: [], goodbyes: [] };
  for (const ptr of records) {
    if (ptr.type !== 'PTR' || ptr.name.toLowerCase() !== SERVICE_PTR_NAME || typeof ptr.data !== 'string') continue;
    const fqdn = ptr.data.toLowerCase();
    if (ptr.ttl === 0) {
      findings.goodbyes.push(fqdn);
      continue;
    }
    const txt = records.find((record) => record.type === 'TXT' && record.ttl > 0 && record.name.toLowerCase() === fqdn);
    if (txt) findings.announced.push({ fqdn, txt: parseTxtEntries(txt.data) });
  }
  return findings;
}
