import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createLauncherApi } from './api/launcher-api';
import { AppProvider } from './context';
import { createNotifier } from './notifications';
import { connectStore, createActions, createAppStore } from './store/store';
import './styles/app.css';

/** Wires the store to the launcher before React renders, so no event is missed. */
const api = createLauncherApi();
const store = createAppStore();
connectStore(store, api);
const notifier = createNotifier({
  api,
  // Electron's main process notifies on its own.
  native: window.lanspread !== undefined,
  browser: 'Notification' in window ? window.Notification : undefined,
  storage: window.localStorage,
  titleOf: (gameId) => store.getState().games[gameId]?.title ?? gameId,
});
const actions = createActions(store, api, notifier);

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <AppProvider store={store} actions={actions}>
      <App />
    </AppProvider>
  </StrictMode>,
);
