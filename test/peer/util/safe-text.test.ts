import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/main/peer/util/logger';
import { safeText } from '../../../src/main/peer/util/safe-text';

describe('safeText', () => {
  it('shows control characters escaped: no line breaks, no escape sequences, no bidi tricks', () => {
    expect(safeText('99\x1b[2J')).toBe('99\\x1b[2J');
    expect(safeText('a\nb\r\tc\x00\x7f')).toBe('a\\nb\\r\\tc\\x00\\x7f');
    expect(safeText('csi\x9b31m')).toBe('csi\\x9b31m');
    expect(safeText('title\x1b]0;pwned\x07')).toBe('title\\x1b]0;pwned\\x07');
    expect(safeText('txt.\u202Eexe')).toBe('txt.\\u202eexe');
    expect(safeText('line\u2028sep')).toBe('line\\u2028sep');
    expect(safeText('Ünïcödé ゲーム')).toBe('Ünïcödé ゲーム');
  });

  it('cuts at the length limit', () => {
    expect(safeText('x'.repeat(500))).toBe(`${'x'.repeat(200)}…`);
    expect(safeText('abcdef', 3)).toBe('abc…');
  });

  it('the logger writes one line per call, whatever the message and fields hold', () => {
    const lines: string[] = [];
    const logger = createLogger('info', 'test', (line) => lines.push(line));
    logger.info('peer joined: evil\n2026-01-01T00:00:00.000Z info  [peer] forged\x1b]0;pwned\x07', { version: '99\x1b[2J\u202E', name: 'a\u009bb' });
    expect(lines).toHaveLength(1);
    // eslint-disable-next-line no-control-regex -- finding raw control characters is the test
    expect(lines[0]).not.toMatch(/[\n\r\x1b\x07\u009b\u202e]/);
    expect(lines[0]).toContain('evil\\n2026');
    expect(lines[0]).toContain('\\u202e');
  });
});
