import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { Actions, AppState, AppStore } from './store/store';

interface AppContextValue {
  store: AppStore;
  actions: Actions;
}

const AppContext = createContext<AppContextValue | null>(null);

export function AppProvider({ store, actions, children }: AppContextValue & { children: ReactNode }) {
  return <AppContext.Provider value={{ store, actions }}>{children}</AppContext.Provider>;
}

function useAppContext(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('AppProvider is missing');
  return value;
}

/** Subscribes a component to one slice of the store. */
export function useAppState<T>(select: (state: AppState) => T): T {
  return useStore(useAppContext().store, select);
}

export function useActions(): Actions {
  return useAppContext().actions;
}

export function useStoreApi(): AppStore {
  return useAppContext().store;
}
