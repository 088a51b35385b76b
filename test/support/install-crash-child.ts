import { InstallService } from '../../src/main/peer/install/install-service';
import { OperationRegistry } from '../../src/main/peer/operations/operation-registry';
import { WorkerUnpacker } from '../../src/main/peer/unpack/worker-unpacker';

/**
 * Child process for the crash-safety suite: runs one transaction and SIGKILLs itself at the
 * checkpoint named by CRASH_KILL_AT, or once extraction has written CRASH_KILL_AFTER_BYTES.
 * Usage: node --import tsx install-crash-child.ts <install|update|uninstall> <gameDir> <stateDir> <gameId>
 */

const [operation, gameDir, stateDir, gameId] = process.argv.slice(2) as [string, string, string, string];
const killAt = process.env.CRASH_KILL_AT;
const killAfterBytes = process.env.CRASH_KILL_AFTER_BYTES ? Number(process.env.CRASH_KILL_AFTER_BYTES) : null;

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

const service = new InstallService({
  gameDir,
  stateDir,
  unpacker: new WorkerUnpacker({ progressIntervalMs: 0 }),
  operations: new OperationRegistry(),
  progressIntervalMs: 0,
  checkpoint: (point) => {
    if (point === killAt) die();
  },
});

const onEvent = (event: { type: string; bytesDone?: number }) => {
  if (killAfterBytes !== null && event.type === 'game-install-progress' && (event.bytesDone ?? 0) >= killAfterBytes) die();
};

try {
  if (operation === 'install') await service.install(gameId, { onEvent });
  else if (operation === 'update') await service.update(gameId, { onEvent });
  else if (operation === 'uninstall') await service.uninstall(gameId, { onEvent });
  else throw new Error(`unknown operation ${operation}`);
  process.stdout.write('COMPLETED\n');
} catch (error) {
  process.stdout.write(`FAILED ${(error as { code?: string }).code ?? ''} ${(error as Error).message}\n`);
  process.exitCode = 3;
}
