import { createContext, use, useSyncExternalStore, type ReactNode } from 'react';
import type { ApiClient } from './api.ts';
import type { Auth, Session } from './auth.ts';
import type { RuntimeConfig } from './config.ts';

export interface ConsoleContextValue {
  readonly config: RuntimeConfig;
  readonly auth: Auth;
  readonly api: ApiClient;
  /** The app's name as shown in the header ("Publisher"). */
  readonly title: string;
}

const ConsoleContext = createContext<ConsoleContextValue | undefined>(undefined);

export function ConsoleProvider({ value, children }: { value: ConsoleContextValue; children: ReactNode }) {
  return <ConsoleContext value={value}>{children}</ConsoleContext>;
}

/** The app's runtime config, auth and API client. */
export function useConsole(): ConsoleContextValue {
  const ctx = use(ConsoleContext);
  if (!ctx) throw new Error('useConsole needs a ConsoleProvider (startConsoleApp sets one up)');
  return ctx;
}

/** The API client of this app (bearer token, refresh, WSO2 errors as ApiError). */
export function useApi(): ApiClient {
  return useConsole().api;
}

/** The signed-in session (re-renders on sign-in, refresh and sign-out), undefined when anonymous. */
export function useSession(): Session | undefined {
  const { auth } = useConsole();
  return useSyncExternalStore(
    (listener) => auth.subscribe(listener),
    () => auth.session,
  );
}

/** Whether the session holds any of these scopes (true for an empty list when signed in). */
export function useHasScope(scopes: readonly string[] | undefined): boolean {
  const session = useSession();
  if (!session) return false;
  return !scopes || scopes.length === 0 || scopes.some((s) => session.scopes.includes(s));
}
