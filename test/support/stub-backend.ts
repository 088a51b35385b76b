import type { CommandArgs, CommandName, CommandResult, EventName, EventPayload, GameView, LauncherBackend } from '../../src/shared/api';
import { LanspreadError } from '../../src/shared/errors';
import { defaultSettings } from '../../src/shared/settings';

/**
 * A canned LauncherBackend for unit tests of the faces (web host, bridges): it records calls
 * and emits what the test tells it to. Integration and e2e tests use the real runtime instead.
 */
export class StubBackend implements LauncherBackend {
  readonly calls: { command: CommandName; args: unknown }[] = [];
  readonly games: GameView[] = ['demo-arena', 'demo-racer'].map((id) => ({
    id,
    title: id,
    description: '',
    genres: [],
    maxPlayers: 8,
    releaseYear: 2026,
    sizeBytes: 1_000,
    downloaded: false,
    installed: false,
    availability: 'None',
    localVersion: null,
    installedVersion: null,
    latestVersion: '1',
    sourcePeers: ['peer'],
    manifestConflict: false,
    updateAvailable: false,
    operation: null,
    running: false,
    canPlay: false,
  }));
  private readonly listeners = new Set<(event: EventName, payload: unknown) => void>();

  get listenerCount(): number {
    return this.listeners.size;
  }

  async handle<K extends CommandName>(command: K, args: CommandArgs<K>): Promise<CommandResult<K>> {
    this.calls.push({ command, args });
    const result = ((): unknown => {
      switch (command) {
        case 'request_games':
          return this.games;
        case 'get_status':
          return { peerId: 'stub', displayName: 'stub', gameDir: null, running: true, peerCount: 0 };
        case 'get_settings':
          return defaultSettings('party-host');
        case 'install_game': {
          const gameId = (args as { gameId?: string }).gameId;
          if (!this.games.some((game) => game.id === gameId)) throw new LanspreadError('NOT_IN_CATALOG', `Unknown game ${gameId}`);
          return undefined;
        }
        default:
          return undefined;
      }
    })();
    return result as CommandResult<K>;
  }

  subscribe(listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void): () => void {
    const wrapped = listener as (event: EventName, payload: unknown) => void;
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) listener(event, payload);
  }
}
