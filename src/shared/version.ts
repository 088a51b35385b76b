/**
 * The root `version.ini` of a game folder is the download sentinel; its content names the
 * version. Format (documented in the README):
 *
 *   - INI text. The version is the value of the first `version=` key, in any section; the key is
 *     case-insensitive, whitespace around the value and surrounding quotes are stripped.
 *   - Without any `key=value` line, the first non-empty line that is not a comment (`;` or `#`)
 *     or a `[section]` header is the version (old ETI-style files hold just a date: `20240315`).
 *   - Empty or unreadable: version '' (the game still counts as downloaded: the sentinel rule
 *     is only that a regular root-level file exists).
 */
export function parseVersionIni(text: string): string {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((line) => line.trim());
  let firstPlain: string | null = null;
  let sawKeyValue = false;
  for (const line of lines) {
    if (line === '' || line.startsWith(';') || line.startsWith('#') || /^\[.*\]$/.test(line)) continue;
    const match = /^([^=]+)=(.*)$/.exec(line);
    if (match) {
      sawKeyValue = true;
      if ((match[1] ?? '').trim().toLowerCase() === 'version') return unquote((match[2] ?? '').trim());
      continue;
    }
    firstPlain ??= line;
  }
  return sawKeyValue ? '' : (firstPlain ?? '');
}

function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) && value.length >= 2 ? value.slice(1, -1).trim() : value;
}

/**
 * Orders versions numerically where they are numbers: '1.10' > '1.9', '20240315' > '20231231',
 * '2.0' == '2' == 'v2'. A version splits into runs of digits and runs of other characters
 * ('.', '-', '_' and spaces only separate); digit runs compare as numbers (of any length),
 * text runs case-insensitively. A missing segment counts as 0 against a number and as "the
 * release" against text, so '1.0' > '1.0-beta' and '1' > '1.0-rc'. Returns -1, 0 or 1.
 */
export function compareVersions(a: string, b: string): number {
  const left = segments(a);
  const right = segments(b);
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const order = compareSegment(left[i], right[i]);
    if (order !== 0) return order;
  }
  return 0;
}

function compareSegment(x: string | undefined, y: string | undefined): number {
  if (x === undefined && y === undefined) return 0;
  if (x === undefined) return isNumeric(y as string) ? compareNumbers('0', y as string) : 1;
  if (y === undefined) return isNumeric(x) ? compareNumbers(x, '0') : -1;
  const xNumeric = isNumeric(x);
  const yNumeric = isNumeric(y);
  if (xNumeric && yNumeric) return compareNumbers(x, y);
  // '1.0.1' is newer than '1.0.beta': a number continues a release, text marks a pre-release.
  if (xNumeric) return 1;
  if (yNumeric) return -1;
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Digit strings of any length (build numbers can exceed 2^53): by length, then by digits. */
function compareNumbers(x: string, y: string): number {
  const a = x.replace(/^0+(?=.)/, '');
  const b = y.replace(/^0+(?=.)/, '');
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

function isNumeric(segment: string): boolean {
  return /^\d+$/.test(segment);
}

function segments(version: string): string[] {
  const parts = version.trim().toLowerCase().match(/\d+|[^\d.\-_\s]+/g) ?? [];
  // A leading 'v' ('v1.2') is decoration, not a pre-release marker.
  return parts[0] === 'v' && parts.length > 1 ? parts.slice(1) : parts;
}
