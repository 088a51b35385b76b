import { ProcessGuard } from '../../src/main/peer/launcher/process-guard';
import { createLogger } from '../../src/main/peer/util/logger';
import type { ErrorInfo } from '../../src/shared/errors';

/**
 * Child for the process-guard test: lets a rejection and an exception escape every handler,
 * then proves it is still alive by printing what the guard reported and exiting on its own.
 */
const reports: ErrorInfo[] = [];
const guard = new ProcessGuard(createLogger('info', 'child')).install();
guard.reportTo((error) => reports.push(error));
void Promise.reject(Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' }));
setTimeout(() => {
  throw new Error('thrown from a timer');
}, 10);
setTimeout(() => {
  guard.uninstall();
  process.stdout.write(`REPORTS ${JSON.stringify(reports)}\n`);
}, 200);
