import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersionIni } from '../../src/shared/version';

describe('version.ini parsing', () => {
  it.each([
    ['version=1.2.3\n', '1.2.3'],
    ['[game]\nname=Quake\nVersion = "1.32c"\n', '1.32c'],
    ['; comment\n\n20240315\n', '20240315'],
    ['\uFEFF[eti]\r\nversion=20231231\r\n', '20231231'],
    ['', ''],
    ['name=only\n', ''],
    ['  2.0  \n3.0\n', '2.0'],
  ])('%j -> %j', (text, version) => {
    expect(parseVersionIni(text)).toBe(version);
  });
});

describe('version comparison', () => {
  it.each([
    ['1.10', '1.9', 1],
    ['20240315', '20231231', 1],
    ['2.0', '2', 0],
    ['1.0', '1.0-beta', 1],
    ['1.0-beta', '1.0-alpha', 1],
    ['', '1', -1],
    ['1.2.3', '1.2.3', 0],
  ] as const)('%j vs %j = %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(expected === 0 ? 0 : -expected);
  });
});
