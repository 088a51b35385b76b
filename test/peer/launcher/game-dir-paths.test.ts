import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlSocketClient, ControlSocketServer, controlSocketPath } from '../../../src/main/peer/launcher/control-socket';
import { RuntimeLauncherBackend } from '../../../src/main/peer/launcher/launcher-backend';
import { SettingsStore } from '../../../src/main/peer/settings/settings-store';
import { silentLogger } from '../../../src/main/peer/util/logger';
import type { LanspreadError } from '../../../src/shared/errors';
import { useTestPeers } from '../../support/test-peers';

describe('game folders set through a face must be absolute, and not a file-system root', () => {
  const peers = useTestPeers('game-dir-paths');
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('refuses relative paths and "/" with GAME_DIR_INVALID, keeps the folder it had, and accepts a full path', async () => {
    const peer = await peers.start('player', { catalogIds: ['demo-arena'] });
    const settings = await SettingsStore.open(peer.stateDir, { displayName: 'player' });
    const backend = new RuntimeLauncherBackend({ runtime: peer.runtime, settings });
    closers.push(() => backend.dispose());
    const server = new ControlSocketServer(backend, controlSocketPath(peer.stateDir), silentLogger);
    await server.start();
    closers.push(() => server.stop());
    const client = await ControlSocketClient.connect(controlSocketPath(peer.stateDir));
    closers.push(() => client.close());
    const before = peer.runtime.gameDir();

    const refused = async (call: Promise<unknown>) => (await call.then(() => null, (error: unknown) => error as LanspreadError))?.code;
    for (const attempt of ['../../..', 'games', './', `${peer.gameDir}/../../../../../../../..`, '/']) {
      expect(await refused(client.invoke('update_game_directory', { path: attempt })), attempt).toBe('GAME_DIR_INVALID');
      expect(await refused(client.invoke('set_settings', { gameDir: attempt })), attempt).toBe('GAME_DIR_INVALID');
      expect(peer.runtime.gameDir(), attempt).toBe(before);
    }
    expect(settings.get().gameDir).not.toBe('/');

    const chosen = path.join(peers.dir, 'chosen-games');
    await mkdir(chosen);
    await client.invoke('update_game_directory', { path: chosen });
    expect(peer.runtime.gameDir()).toBe(chosen);
  });
});
