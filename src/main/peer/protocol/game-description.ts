import { CATALOG_ID_PATTERN, type LaunchConfig, type Platform } from '../../../shared/catalog';
import { LanspreadError } from '../../../shared/errors';
import { DESCRIPTION_LIMITS, type GameDescription } from '../../../shared/game-description';
import { splitRelativePath } from '../fs/safe-path';

/**
 * The one check of a game description, wherever it comes from (the share command or form, a
 * peer's game list, the state directory). It returns a fresh object with only the known fields,
 * or throws DESCRIPTION_INVALID naming the field (GAME_ID_IN_CATALOG for a catalog id).
 */

const PLATFORMS: readonly Platform[] = ['win32', 'linux', 'darwin'];
// eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex -- a description may break lines, nothing else
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** Bidi controls and line separators make a title read differently from what it is (the same set safe-text escapes). */
const BIDI = /[\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

export function validateGameDescription(raw: unknown, catalogIds: ReadonlySet<string> = new Set()): GameDescription {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('the description must be an object');
  const obj = raw as Record<string, unknown>;
  const id = obj.id;
  if (typeof id !== 'string' || !CATALOG_ID_PATTERN.test(id)) {
    throw invalid(`id ${JSON.stringify(String(id).slice(0, 80))} must be 1 to 64 lowercase letters, digits or '-', starting with a letter or digit`);
  }
  if (catalogIds.has(id)) throw new LanspreadError('GAME_ID_IN_CATALOG', `${id} is a game of the bundled catalog; the catalog's description is used for it`);
  const description: GameDescription = {
    id,
    title: text(obj.title, 'title', DESCRIPTION_LIMITS.title, { required: true }),
    description: text(obj.description ?? '', 'description', DESCRIPTION_LIMITS.description, { multiline: true }),
    genres: list(obj.genres ?? [], 'genres', DESCRIPTION_LIMITS.genres, DESCRIPTION_LIMITS.genre),
    maxPlayers: players(obj.maxPlayers),
    launch: launchConfigs(obj.launch),
  };
  const bytes = Buffer.byteLength(JSON.stringify(description), 'utf8');
  if (bytes > DESCRIPTION_LIMITS.encodedBytes) throw invalid(`the description takes ${bytes} bytes, more than ${DESCRIPTION_LIMITS.encodedBytes}`);
  return description;
}

/** A version given for version.ini: one line of printable text. */
export function validateVersion(raw: unknown): string {
  const version = text(raw, 'version', DESCRIPTION_LIMITS.version, { required: true });
  if (/^[\s[;#]/.test(version) || version.includes('=')) throw invalid("version must not start with a space, '[', ';' or '#', nor contain '='");
  return version;
}

function launchConfigs(value: unknown): GameDescription['launch'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('launch must be an object of platform → { executable, args }');
  const out: GameDescription['launch'] = {};
  for (const [platform, config] of Object.entries(value)) {
    if (!PLATFORMS.includes(platform as Platform)) throw invalid(`launch has unknown platform ${JSON.stringify(platform.slice(0, 40))} (use ${PLATFORMS.join(', ')})`);
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid(`launch.${platform} must be an object`);
    const c = config as Record<string, unknown>;
    const launch: LaunchConfig = {
      executable: insideLocal(c.executable, `launch.${platform}.executable`),
      args: list(c.args ?? [], `launch.${platform}.args`, DESCRIPTION_LIMITS.args, DESCRIPTION_LIMITS.arg),
    };
    if (c.cwd !== undefined) launch.cwd = insideLocal(c.cwd, `launch.${platform}.cwd`);
    out[platform as Platform] = launch;
  }
  if (Object.keys(out).length === 0) throw invalid('launch must name how to start the game on at least one platform');
  return out;
}

/** What Play runs must stay inside the game's local/ folder. */
function insideLocal(value: unknown, what: string): string {
  const relative = text(value, what, DESCRIPTION_LIMITS.launchPath, { required: true });
  try {
    splitRelativePath(relative);
  } catch (error) {
    throw invalid(`${what} must be a '/'-separated path inside the game's local/ folder (${(error as Error).message})`);
  }
  return relative;
}

function text(value: unknown, what: string, max: number, options: { required?: boolean; multiline?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(`${what} must be text`);
  if (options.required && value.trim() === '') throw invalid(`${what} must not be empty`);
  if (value.length > max) throw invalid(`${what} is ${value.length} characters long, more than ${max}`);
  if ((options.multiline ? CONTROL_BUT_NEWLINE : CONTROL).test(value)) throw invalid(`${what} contains a control character`);
  if (BIDI.test(value)) throw invalid(`${what} contains a text-direction override`);
  return value;
}

function list(value: unknown, what: string, maxItems: number, maxLength: number): string[] {
  if (!Array.isArray(value)) throw invalid(`${what} must be a list of text`);
  if (value.length > maxItems) throw invalid(`${what} has ${value.length} items, more than ${maxItems}`);
  return value.map((item, index) => text(item, `${what}[${index}]`, maxLength, { required: true }));
}

function players(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > DESCRIPTION_LIMITS.maxPlayers) {
    throw invalid(`maxPlayers must be a whole number from 1 to ${DESCRIPTION_LIMITS.maxPlayers}`);
  }
  return value;
}

function invalid(why: string): LanspreadError {
  return new LanspreadError('DESCRIPTION_INVALID', `Invalid game description: ${why}`);
}
