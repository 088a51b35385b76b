import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersionIni } from '../../src/shared/version';

describe('version.ini parsing', () => {
  it.each([
    ['version=1.2.3\n', '1.2.3'],
    ['[game]\nname=Quake\nVersion = "1.32c"\n', '1.32c'],
    ["[a]\nbuild=7\n[b]\nVERSION='2.1'\nversion=9\n", '2.1'],
    ['; comment\n\n20240315\n', '20240315'],
    ['# comment\n[eti]\n20240315\n', '20240315'],
    ['\uFEFF[eti]\r\nversion=20231231\r\n', '20231231'],
    ['', ''],
    ['\n\n  \n', ''],
    ['; only a comment\n', ''],
    ['name=only\n', ''],
    ['  2.0  \n3.0\n', '2.0'],
    ['version=\n', ''],
  ])('%j -> %j', (text, version) => {
    expect(parseVersionIni(text)).toBe(version);
  });
});

describe('version comparison', () => {
  it.each([
    ['1.10', '1.9', 1],
    ['20240315', '20231231', 1],
    ['2.0', '2', 0],
    ['v2.0', '2', 0],
    ['V1.10', 'v1.9', 1],
    ['1.0', '1.0-beta', 1],
    ['1', '1.0-rc1', 1],
    ['1.0-beta', '1.0-alpha', 1],
    ['1.0-beta.2', '1.0-beta', 1],
    ['1.0-RC1', '1.0-rc1', 0],
    ['1.2b', '1.2a', 1],
    ['1.0.1', '1.0', 1],
    ['', '1', -1],
    ['', '', 0],
    ['1.2.3', '1.2.3', 0],
    ['007', '7', 0],
    ['123456789012345678901234567890', '123456789012345678901234567889', 1],
  ] as const)('%j vs %j = %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(expected === 0 ? 0 : -expected);
  });

  it('sorts a mixed list so the latest version is last', () => {
    const versions = ['1.10', '1.9', '1.0-beta', '1.0', '2', '1.9.1'];
    expect([...versions].sort(compareVersions)).toEqual(['1.0-beta', '1.0', '1.9', '1.9.1', '1.10', '2']);
  });
});
