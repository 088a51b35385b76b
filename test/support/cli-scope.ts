import { afterEach } from 'vitest';
import type { ControlSocketClient } from '../../src/main/peer/launcher/control-socket';
import { killCliPeers, waitFor, type CliPeer } from './runtime-harness';

/**
 * For tests that start `lanspread-peer serve` children and other things to undo: after each
 * test every child still running is SIGKILLed, then the deferred cleanups run, last first
 * (a tmpfs is unmounted only after what used it was stopped).
 */
export function useCliScope(): { children: CliPeer[]; defer(cleanup: () => unknown): void } {
  const children: CliPeer[] = [];
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    await killCliPeers(children);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return { children, defer: (cleanup) => void cleanups.push(cleanup) };
}

/** Waits until the peer behind `client` lists `gameId` with at least one source on the LAN. */
export async function waitForRemoteGame(client: ControlSocketClient, gameId: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await client.invoke('request_games')).some((game) => game.id === gameId && game.sourcePeers.length > 0), timeoutMs, `${gameId} from a peer`);
}
