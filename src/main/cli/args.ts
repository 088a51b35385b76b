import { LanspreadError } from '../../shared/errors';

/**
 * A small argv parser: `command --flag value --repeated a --repeated b --switch positional`.
 * Flags are declared so a typo is an error instead of being silently ignored.
 */
export interface FlagSpec {
  /** Takes a value (`--name value` or `--name=value`); otherwise it is a boolean switch. */
  value?: boolean;
  /** May be given more than once (values collected in order). */
  repeat?: boolean;
}

export interface ParsedArgs {
  command: string | null;
  positionals: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  let command: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      if (command === null) command = arg;
      else positionals.push(arg);
      continue;
    }
    const [rawName, inlineValue] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const flag = spec[rawName];
    if (!flag) throw new LanspreadError('MALFORMED_MESSAGE', `Unknown option --${rawName}`);
    let value = 'true';
    if (flag.value) {
      const next = inlineValue ?? argv[++i];
      if (next === undefined) throw new LanspreadError('MALFORMED_MESSAGE', `Option --${rawName} needs a value`);
      value = next;
    }
    const values = flags.get(rawName) ?? [];
    if (values.length > 0 && !flag.repeat) throw new LanspreadError('MALFORMED_MESSAGE', `Option --${rawName} given twice`);
    values.push(value);
    flags.set(rawName, values);
  }
  return { command, positionals, flags };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0];
}

export function flagList(args: ParsedArgs, name: string): string[] {
  return args.flags.get(name) ?? [];
}

export function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const raw = flag(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new LanspreadError('MALFORMED_MESSAGE', `--${name} must be a non-negative number`);
  return value;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  tb: 1_000_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * A size as people write it: `4MiB`, `500MB`, `1.5 GiB`, `65536` (bytes); a rate may end in
 * `/s`. KB/MB/GB are decimal and KiB/MiB/GiB binary, as their names say. Whole bytes result.
 */
export function parseSize(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*(\/s)?\s*$/i.exec(text);
  const factor = match ? SIZE_UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new LanspreadError('MALFORMED_MESSAGE', `${what} must be a size such as 4MiB, 500MB, 1.5GiB or a number of bytes, not ${JSON.stringify(text.slice(0, 40))}`);
  }
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new LanspreadError('MALFORMED_MESSAGE', `${what} is too large: ${text.slice(0, 40)}`);
  return bytes;
}

export function sizeFlag(args: ParsedArgs, name: string): number | undefined {
  const raw = flag(args, name);
  return raw === undefined ? undefined : parseSize(raw, `--${name}`);
}
