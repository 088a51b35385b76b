import type { LauncherApi } from '../../shared/api';

/** Where the UI's link to the launcher stands; Electron's IPC is always 'open'. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized';

/** A LauncherApi whose link can drop and come back (the WebSocket face). */
export interface ConnectedApi extends LauncherApi {
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** True in Electron, where a native folder picker exists. */
  readonly hasNativePicker: boolean;
}

/** The close code the web host uses for a missing or wrong token (mirrors HTTP 401). */
export const WS_CLOSE_UNAUTHORIZED = 4401;
/** The close code the web host uses for a cross-origin page (DNS-rebinding or CSRF attempt). */
export const WS_CLOSE_FORBIDDEN = 4403;
