import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { LanspreadError, toLanspreadError } from '../../../shared/errors';
import type { PeerId } from '../../../shared/model';
import type { StagingSource } from '../install/install-transaction';
import { OWNED_MARKER } from '../install/layout';
import type { StreamVisitor } from '../transport/data-lane/lane-stream';
import { StreamReceiver, type StreamReceiverLimits } from './stream-receiver';

export interface StreamSender {
  peerId: PeerId;
  name: string;
}

export interface StreamStagingOptions<S extends StreamSender> {
  gameId: string;
  version: string;
  /** Peers that share exactly `version`, best first; one attempt each, at most `maxAttempts`. */
  senders: S[];
  maxAttempts: number;
  limits?: StreamReceiverLimits;
  /** Runs one stream from `sender` into `visitor` (the data lane's receiveStreamInstall). */
  receive(sender: S, visitor: StreamVisitor, signal?: AbortSignal): Promise<void>;
  /** An attempt failed and the next sender is about to be tried. */
  onRetry?(failed: S, error: LanspreadError, next: S): void;
}

/**
 * The staging source of a streamed install: fills `.local.installing/` from one sender's stream,
 * and when that sender vanishes or sends something that does not verify, empties the staging
 * directory (its ownership marker stays) and starts over from the next sender. The transaction
 * around it promotes only what one complete, verified stream produced.
 */
export function streamStagingSource<S extends StreamSender>(options: StreamStagingOptions<S>): StagingSource {
  const { gameId, version } = options;
  return {
    version,
    prepare: async () => ({
      version,
      async fill(targetDir, extract) {
        const senders = options.senders.slice(0, Math.max(1, options.maxAttempts));
        if (senders.length === 0) throw new LanspreadError('NO_SOURCE', `No peer shares ${gameId} ${version} for a streamed install`);
        let lastError: LanspreadError | null = null;
        for (const [index, sender] of senders.entries()) {
          const receiver = new StreamReceiver(targetDir, { gameId, version }, extract.onProgress, options.limits);
          try {
            await options.receive(sender, receiver, extract.signal);
            return receiver.outcome();
          } catch (error) {
            await receiver.abandon();
            lastError = toLanspreadError(error);
            if (lastError.code === 'REQUEST_CANCELLED' || extract.signal?.aborted) throw lastError;
            // Another sender would not fit either. The preflight's refusal keeps its numbers.
            if (lastError.code === 'DISK_FULL' && /bytes needed/.test(lastError.message)) throw lastError;
            if (lastError.code === 'DISK_FULL' || (error as { code?: unknown }).code === 'ENOSPC') {
              throw new LanspreadError('DISK_FULL', 'Not enough disk space for the streamed install', { cause: error });
            }
            const next = senders[index + 1];
            if (!next) break;
            await emptyExceptMarker(targetDir);
            options.onRetry?.(sender, lastError, next);
          }
        }
        throw lastError ?? new LanspreadError('NO_SOURCE', `No peer could stream ${gameId}`);
      },
    }),
  };
}

async function emptyExceptMarker(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name === OWNED_MARKER) continue;
    await rm(path.join(dir, name), { recursive: true, force: true });
  }
}
