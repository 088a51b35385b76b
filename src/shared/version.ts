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
 * '2.0' == '2'. Segments split on '.', '-', '_' and ' '; numeric segments compare as numbers,
 * others as text; a numeric segment is newer than a text one ('1.0' > '1.0-beta').
 */
export function compareVersions(a: string, b: string): number {
  const left = segments(a);
  const right = segments(b);
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const x = left[i];
    const y = right[i];
    if (x === undefined) return isZero(right, i) ? 0 : y !== undefined && typeof y === 'string' ? 1 : -1;
    if (y === undefined) return isZero(left, i) ? 0 : typeof x === 'string' ? -1 : 1;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x < y ? -1 : 1;
    } else if (typeof x === 'number') {
      return 1;
    } else if (typeof y === 'number') {
      return -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

function segments(version: string): (number | string)[] {
  return version
    .trim()
    .toLowerCase()
    .split(/[.\-_ ]+/)
    .filter((part) => part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function isZero(parts: (number | string)[], from: number): boolean {
  return parts.slice(from).every((part) => part === 0);
}
