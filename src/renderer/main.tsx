import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createLauncherApi } from './api/launcher-api';
import { AppProvider } from './context';
import { connectStore, createActions, createAppStore } from './store/store';
import './styles/app.css';

/** Wires the store to the launcher before React renders, so no event is missed. */
const api = createLauncherApi();
const store = createAppStore();
connectStore(store, api);
const actions = createActions(store, api);

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <AppProvider store={store} actions={actions}>
      <App />
    </AppProvider>
  </StrictMode>,
);
