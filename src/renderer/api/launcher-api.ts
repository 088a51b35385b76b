import type { LauncherApi } from '../../shared/api';
import type { ConnectedApi, ConnectionState } from './connection';
import { WsLauncherClient } from './ws-client';

const TOKEN_KEY = 'lanspread.token';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a plain browser. */
    lanspread?: LauncherApi;
  }
}

/** Wraps the preload's API: IPC has no connection to lose. */
function fromPreload(api: LauncherApi): ConnectedApi {
  return {
    invoke: api.invoke,
    on: api.on,
    hasNativePicker: true,
    onConnection(listener: (state: ConnectionState) => void) {
      listener('open');
      return () => undefined;
    },
  };
}

/**
 * The web host hands the token in the page URL (?token=…). It is kept in sessionStorage so a
 * reload still works, and removed from the address bar so it is not shared by accident.
 */
export function takeToken(location: Location, storage: Storage, history: History): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const query = params.toString();
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}

/** `window.lanspread` in Electron, else a WebSocket client to the host that served this page. */
export function createLauncherApi(): ConnectedApi {
  if (window.lanspread) return fromPreload(window.lanspread);
  const token = takeToken(window.location, window.sessionStorage, window.history);
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return new WsLauncherClient({ url: `${scheme}//${window.location.host}/ws${query}` });
}
