import { describe, expect, it } from 'vitest';
import { LanspreadError } from '../../../src/shared/errors';
import { formatPeerAddress, ManualPeers, parsePeerAddress } from '../../../src/main/peer/discovery/manual-peers';

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof LanspreadError ? error.code : `not coded: ${String(error)}`;
  }
}

describe('parsePeerAddress', () => {
  it('accepts IPv4, hostnames and bracketed IPv6', () => {
    expect(parsePeerAddress('10.0.0.5:7000')).toEqual({ host: '10.0.0.5', port: 7000 });
    expect(parsePeerAddress('  Gaming-PC.lan:65535 ')).toEqual({ host: 'gaming-pc.lan', port: 65535 });
    expect(parsePeerAddress('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(parsePeerAddress('[FE80::1]:7000')).toEqual({ host: 'fe80::1', port: 7000 });
    expect(parsePeerAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
  });

  it.each([
    ['', 'empty'],
    ['10.0.0.5', 'no port'],
    ['10.0.0.5:', 'empty port'],
    [':7000', 'no host'],
    ['10.0.0.5:0', 'port 0'],
    ['10.0.0.5:65536', 'port too big'],
    ['10.0.0.5:70a', 'port not a number'],
    ['10.0.0.5:+70', 'signed port'],
    ['10.0.0.300:7000', 'bad IPv4'],
    ['fe80::1:7000', 'IPv6 without brackets'],
    ['[fe80::1]7000', 'missing colon after bracket'],
    ['[nothex]:7000', 'bracketed non-IPv6'],
    ['bad_host:7000', 'underscore'],
    ['-lead.lan:7000', 'label starting with hyphen'],
    [`${'a'.repeat(64)}.lan:7000`, 'label longer than 63'],
    [`${'a.'.repeat(130)}lan:7000`, 'name longer than 253'],
    ['http://host:7000', 'URL'],
  ])('refuses %j (%s) with PEER_ADDRESS_INVALID', (input) => {
    expect(codeOf(() => parsePeerAddress(input))).toBe('PEER_ADDRESS_INVALID');
  });

  it('keeps error messages short for huge input', () => {
    try {
      parsePeerAddress(`${'x'.repeat(100_000)}:1:2`);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(300);
    }
  });

  it('round-trips through formatPeerAddress', () => {
    for (const text of ['10.0.0.5:7000', 'host.lan:1', '[fe80::1]:7000']) {
      expect(formatPeerAddress(parsePeerAddress(text))).toBe(text);
    }
  });
});

describe('ManualPeers', () => {
  it('lists addresses in order without duplicates', () => {
    const peers = new ManualPeers(['10.0.0.5:7000', 'HOST.lan:7000', '10.0.0.5:7000', 'host.lan:7000']);
    expect(peers.list()).toEqual([
      { host: '10.0.0.5', port: 7000 },
      { host: 'host.lan', port: 7000 },
    ]);
    expect(peers.add('[::1]:7000')).toBe(true);
    expect(peers.add('[::1]:7000')).toBe(false);
    expect(peers.remove('host.lan:7000')).toBe(true);
    expect(peers.remove('host.lan:7000')).toBe(false);
    expect(peers.toStrings()).toEqual(['10.0.0.5:7000', '[::1]:7000']);
  });

  it('keeps the previous list when a new one has a bad entry', () => {
    const peers = new ManualPeers(['10.0.0.5:7000']);
    expect(codeOf(() => peers.set(['10.0.0.6:7000', 'nope']))).toBe('PEER_ADDRESS_INVALID');
    expect(peers.toStrings()).toEqual(['10.0.0.5:7000']);
  });

  it('returns copies, so callers cannot edit the list behind its back', () => {
    const peers = new ManualPeers(['10.0.0.5:7000']);
    const [first] = peers.list();
    if (first) first.port = 1;
    expect(peers.list()[0]?.port).toBe(7000);
  });
});
