import type { ErrorInfo } from '../../../shared/errors';
import { toLanspreadError } from '../../../shared/errors';
import type { Logger } from '../util/logger';

/**
 * The last line of defence of a host process (the CLI's `serve`, Electron's main process):
 * an error that escapes every operation's own handling would otherwise end the process, and
 * every download, install and seed with it, without a word to the player. The guard logs it
 * with its stack and reports it as a coded `runtime-error`; the process stays up. Each such
 * report is a bug to fix where it came from: operations turn their own errors into coded
 * failures.
 */
export class ProcessGuard {
  private report: ((error: ErrorInfo) => void) | null = null;
  private readonly onRejection = (reason: unknown) => this.escaped('unhandled rejection', reason);
  private readonly onException = (error: unknown) => this.escaped('uncaught exception', error);

  constructor(private readonly logger: Logger) {}

  install(): this {
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
    return this;
  }

  /** Where coded reports go once the host has something to show them on (the runtime's events). */
  reportTo(report: ((error: ErrorInfo) => void) | null): void {
    this.report = report;
  }

  uninstall(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
    this.report = null;
  }

  private escaped(kind: string, thrown: unknown): void {
    const error = toLanspreadError(thrown);
    try {
      const stack = thrown instanceof Error ? thrown.stack : undefined;
      this.logger.error(`${kind}: [${error.code}] ${error.message}`, stack ? { stack } : undefined);
      this.report?.(error.toInfo());
    } catch {
      // A broken logger or listener must not turn a report into the crash it prevents.
    }
  }
}
