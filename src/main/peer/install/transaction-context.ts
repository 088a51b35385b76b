import type { Unpacker } from '../unpack/unpacker';

/**
 * What every transaction step needs. `checkpoint` is called after each durable step with a
 * stable name; production passes a no-op, the crash harness kills the process there.
 */
export interface TransactionContext {
  gameDir: string;
  stateDir: string;
  unpacker: Unpacker;
  checkpoint(point: CheckpointName): Promise<void> | void;
}

export const CHECKPOINTS = [
  // install and update: staging
  'intent-preparing',
  'staging-created',
  'staging-marked',
  'extracted',
  // install: promotion
  'intent-promoting',
  'promoted',
  'marker-removed',
  'installed-recorded',
  // update: swap
  'intent-swapping',
  'local-marked',
  'old-parked',
  'new-promoted',
  'intent-cleanup',
  'backup-removed',
  // uninstall
  'intent-renaming',
  'uninstall-marked',
  'uninstall-renamed',
  'intent-deleting',
  'uninstall-deleted',
  'installed-cleared',
  // all
  'intent-cleared',
] as const;

export type CheckpointName = (typeof CHECKPOINTS)[number];
