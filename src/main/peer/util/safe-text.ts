/**
 * Makes a string that may come from the network (a peer's name, a game version, a path, an
 * error message) safe for a log line or a terminal: control characters (C0, DEL, C1), which
 * could forge log lines, move the cursor, clear the screen or set the terminal title, are
 * shown escaped (\n, \x1b, \u009b); so are the Unicode bidi controls and line separators that
 * make text display other than it is. The result is cut at `maxLength` characters. Every log
 * line (the logger) and every line the CLI prints goes through here.
 */
export const SAFE_TEXT_MAX = 200;

// C0 and DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates, and the marks.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function safeText(value: unknown, maxLength = SAFE_TEXT_MAX): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
  return cut.replace(UNSAFE, (char) => NAMED[char] ?? escapeCode(char.charCodeAt(0)));
}

function escapeCode(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
