/** The apps the control plane serves, each under `/<name>/`. */
export const AppNames = ['publisher', 'devportal', 'admin'] as const;
export type AppName = (typeof AppNames)[number];

/**
 * What the control plane tells an app at run time (injected into index.html as
 * `<script type="application/json" id="gatehouse-config">`, also at `/<app>/config.json`).
 */
export interface RuntimeConfig {
  readonly app: AppName;
  /** `/publisher`, without a trailing slash. */
  readonly basePath: string;
  /** WSO2's tenant domain (`carbon.super`). */
  readonly tenant: string;
  readonly keyManager: {
    /** Base URL of the Key Manager (its `/.well-known/oauth-authorization-server` is read at sign-in). */
    readonly url: string;
    /** This app's public OAuth client (PKCE S256, no secret). */
    readonly clientId: string;
  };
  /** Gateway base URLs known to this node (the in-process gateway in all-in-one; empty otherwise). */
  readonly gatewayUrls: readonly string[];
  /** The apps this node serves, name -> base path, for the app switcher. */
  readonly apps: Readonly<Partial<Record<AppName, string>>>;
}

/** Reads the injected config, or fetches it (the Vite dev server proxies `/<app>/config.json`). */
export async function loadRuntimeConfig(app: AppName): Promise<RuntimeConfig> {
  const el = document.getElementById('gatehouse-config');
  if (el?.textContent && el.textContent.trim().startsWith('{')) return JSON.parse(el.textContent) as RuntimeConfig;
  const res = await fetch(`/${app}/config.json`, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`the console's configuration could not be loaded (HTTP ${res.status})`);
  return (await res.json()) as RuntimeConfig;
}
