import { safeText } from './safe-text';

/** Minimal structured logger; every component takes one so tests can silence or capture it. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Long enough for a stack trace; a message is a line, its fields a little more. */
const MESSAGE_MAX = 1_000;
const FIELDS_MAX = 4_000;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(level: LogLevel = 'info', component = 'lanspread', write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const log = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    // Messages and fields carry peers' names, versions and errors: never raw to a log or a terminal.
    const extra = fields && Object.keys(fields).length > 0 ? ` ${safeText(JSON.stringify(fields), FIELDS_MAX)}` : '';
    write(`${new Date().toISOString()} ${at.padEnd(5)} [${component}] ${safeText(message, MESSAGE_MAX)}${extra}`);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (name) => createLogger(level, `${component}:${name}`, write),
  };
}

export const silentLogger: Logger = createLogger('silent');
