import { describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { advertisableName, encodeAdvertisement, parseTxtEntries } from '../../../src/main/peer/discovery/txt-record';
import { readServicePacket, SERVICE_PTR_NAME } from '../../../src/main/peer/discovery/service-packet';

const ID = 'ab'.repeat(32);
const txt = (entries: Record<string, string>): Buffer[] => Object.entries(entries).map(([key, value]) => Buffer.from(`${key}=${value}`));
const good = { id: ID, pv: '1', port: '7000', dport: '7001', name: 'Alice' };

describe('parseTxtEntries', () => {
  it('reads a valid record', () => {
    expect(parseTxtEntries(txt(good))).toEqual({
      ok: true,
      advertisement: { peerId: ID, protocolVersion: 1, port: 7000, dataPort: 7001, name: 'Alice' },
    });
  });

  it('reads the served revision and the heartbeat interval when present', () => {
    expect(parseTxtEntries(txt({ ...good, rev: '1099511627775', hb: '2500' }))).toEqual({
      ok: true,
      advertisement: { peerId: ID, protocolVersion: 1, port: 7000, dataPort: 7001, libraryRevision: 1099511627775, heartbeatMs: 2500, name: 'Alice' },
    });
  });

  it('reads the catalog revision and the swarming flag, and writes them back the same', () => {
    expect(parseTxtEntries(txt({ ...good, rev: '17', cr: '12', sw: '1' }))).toEqual({
      ok: true,
      advertisement: { peerId: ID, protocolVersion: 1, port: 7000, dataPort: 7001, libraryRevision: 17, catalogRevision: 12, swarming: true, name: 'Alice' },
    });
    const encoded = encodeAdvertisement({ peerId: ID, protocolVersion: 1, port: 7000, libraryRevision: 17, catalogRevision: 17, swarming: false, name: 'Alice' });
    expect(encoded).toMatchObject({ rev: '17', cr: '17', sw: '0' });
    expect(parseTxtEntries(txt(encoded))).toMatchObject({ ok: true, advertisement: { catalogRevision: 17, swarming: false } });
  });

  it('treats dport as optional and keys as case-insensitive, first one winning', () => {
    const result = parseTxtEntries([Buffer.from(`ID=${ID}`), Buffer.from('pv=2'), Buffer.from('Port=9'), Buffer.from('port=10'), Buffer.from('name=Bob'), Buffer.from('flag')]);
    expect(result).toEqual({ ok: true, advertisement: { peerId: ID, protocolVersion: 2, port: 9, name: 'Bob' } });
  });

  it.each([
    ['no list', 'id=x'],
    ['not bytes', ['id=x']],
    ['null', null],
    ['missing id', txt({ ...good, id: '' })],
    ['short id', txt({ ...good, id: 'ab'.repeat(10) })],
    ['uppercase id', txt({ ...good, id: ID.toUpperCase() })],
    ['non-hex id', txt({ ...good, id: 'zz'.repeat(32) })],
    ['missing pv', txt({ id: ID, port: '7000', name: 'A' })],
    ['negative pv', txt({ ...good, pv: '-1' })],
    ['fractional pv', txt({ ...good, pv: '1.5' })],
    ['huge pv', txt({ ...good, pv: '9'.repeat(40) })],
    ['port 0', txt({ ...good, port: '0' })],
    ['port too big', txt({ ...good, port: '65536' })],
    ['port with text', txt({ ...good, port: '70x' })],
    ['port hex', txt({ ...good, port: '0x10' })],
    ['bad dport', txt({ ...good, dport: '99999' })],
    ['empty dport', txt({ ...good, dport: '' })],
    ['rev with text', txt({ ...good, rev: '12a' })],
    ['rev beyond a safe integer', txt({ ...good, rev: '9'.repeat(16) })],
    ['cr with text', txt({ ...good, cr: 'x1' })],
    ['cr beyond a safe integer', txt({ ...good, cr: '9'.repeat(16) })],
    ['sw other than 0 or 1', txt({ ...good, sw: 'yes' })],
    ['hb below 100 ms', txt({ ...good, hb: '50' })],
    ['hb beyond 10 minutes', txt({ ...good, hb: '600001' })],
    ['hb with text', txt({ ...good, hb: '2.5s' })],
    ['missing name', txt({ id: ID, pv: '1', port: '7000' })],
    ['blank name', txt({ ...good, name: '   ' })],
    ['long name', txt({ ...good, name: 'n'.repeat(65) })],
    ['control characters in name', txt({ ...good, name: 'a\u0007b' })],
    ['entry over 255 bytes', txt({ ...good, name: 'é'.repeat(200) })],
    ['invalid UTF-8', [...txt({ id: ID, pv: '1', port: '7000' }), Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3d, 0xff, 0xfe])]],
    ['too many entries', [...txt(good), ...Array.from({ length: 40 }, (_, i) => Buffer.from(`k${i}=v`))]],
  ])('rejects a record with %s', (_label, data) => {
    const result = parseTxtEntries(data);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });
});

describe('encodeAdvertisement', () => {
  it('produces what parseTxtEntries accepts', () => {
    const encoded = encodeAdvertisement({ peerId: ID, protocolVersion: 3, port: 1, dataPort: 65535, name: 'Zoë' });
    expect(encoded).toEqual({ id: ID, pv: '3', port: '1', dport: '65535', name: 'Zoë' });
    expect(parseTxtEntries(txt(encoded)).ok).toBe(true);
  });

  it('cuts and cleans display names instead of failing', () => {
    expect(advertisableName(`  ${'ü'.repeat(100)}`)).toBe('ü'.repeat(64));
    expect(advertisableName('a\nb\tc')).toBe('a b c');
    expect(advertisableName('\n\n')).toBe('Lanspread peer');
  });

  it('refuses to advertise invalid own values with a code', () => {
    for (const bad of [{ port: 0 }, { port: 70_000 }, { dataPort: -1 }, { peerId: 'me' }]) {
      try {
        encodeAdvertisement({ peerId: ID, protocolVersion: 1, port: 7000, name: 'A', ...bad });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(LanspreadError);
        expect((error as LanspreadError).code).toBe('PEER_ADDRESS_INVALID');
      }
    }
  });
});

describe('readServicePacket', () => {
  const fqdn = `lanspread-abc.${SERVICE_PTR_NAME}`;

  it('pairs our PTR with its TXT, case-insensitively, across answers and additionals', () => {
    const packet = {
      answers: [{ name: SERVICE_PTR_NAME.toUpperCase(), type: 'PTR', ttl: 28800, data: fqdn }],
      additionals: [
        { name: fqdn.toUpperCase(), type: 'TXT', ttl: 4500, data: txt(good) },
        { name: 'other._http._tcp.local', type: 'TXT', ttl: 4500, data: txt(good) },
      ],
    };
    const findings = readServicePacket(packet);
    expect(findings.goodbyes).toEqual([]);
    expect(findings.announced).toHaveLength(1);
    expect(findings.announced[0]?.fqdn).toBe(fqdn);
    expect(findings.announced[0]?.txt.ok).toBe(true);
  });

  it('reports TTL-0 PTRs as goodbyes and ignores other services', () => {
    const packet = {
      answers: [
        { name: SERVICE_PTR_NAME, type: 'PTR', ttl: 0, data: fqdn },
        { name: '_http._tcp.local', type: 'PTR', ttl: 120, data: 'x._http._tcp.local' },
      ],
    };
    expect(readServicePacket(packet)).toEqual({ announced: [], goodbyes: [fqdn] });
  });

  it('survives garbage', () => {
    for (const packet of [null, 42, 'x', {}, { answers: 'x' }, { answers: [null, 1, { name: 5 }] }, { answers: [{ name: SERVICE_PTR_NAME, type: 'PTR', ttl: 1, data: 7 }] }]) {
      expect(readServicePacket(packet)).toEqual({ announced: [], goodbyes: [] });
    }
  });
});
