import path from 'node:path';
import { flag, type ParsedArgs } from '../args';

export const DEFAULT_STATE_DIR = '.lanspread-state';

export function stateDirOf(args: ParsedArgs): string {
  return path.resolve(flag(args, 'state-dir') ?? DEFAULT_STATE_DIR);
}
