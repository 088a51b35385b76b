import { expect, it } from 'vitest';
import { WsLauncherClient } from '../../src/renderer/api/ws-client';
import { sentenceFor } from '../../src/renderer/error-text';
import type { ErrorInfo } from '../../src/shared/errors';

/** Just enough of a browser WebSocket for the client: the test opens and drops it by hand. */
class FakeSocket {
  onopen: (() => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  sent: string[] = [];
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {}
}

it('a request in flight when the page loses its own host fails as HOST_CONNECTION_LOST, not as a peer problem', async () => {
  const sockets: FakeSocket[] = [];
  const client = new WsLauncherClient({ url: 'ws://127.0.0.1:1/ws', minBackoffMs: 60_000, createSocket: () => (sockets.push(new FakeSocket()), sockets.at(-1) as unknown as WebSocket) });
  sockets[0]!.onopen?.();
  const pending = client.invoke('install_game', { gameId: 'demo-arena', mode: 'normal' }).then(
    () => null,
    (error: ErrorInfo) => error,
  );
  expect(sockets[0]!.sent).toHaveLength(1);
  sockets[0]!.onclose?.({ code: 1006 });
  const error = await pending;
  expect(error?.code).toBe('HOST_CONNECTION_LOST');
  expect(sentenceFor('HOST_CONNECTION_LOST')).not.toMatch(/peer/i);
  expect(sentenceFor('DISK_FULL')).toMatch(/disk is full/i);
  client.close();
});
