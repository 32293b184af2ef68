import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/** The three single-page apps, each served under its own base path by the control plane. */
const APPS = ['publisher', 'devportal', 'admin'] as const;
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** Replaced per request by the control plane (packages/cli/src/runtime/ui.ts) with a fresh nonce. */
const CSP_NONCE_PLACEHOLDER = '__GATEHOUSE_CSP_NONCE__';

/**
 * `npm run dev`: deep links of each app fall back to its index.html, as the control plane does, and
 * everything the apps call goes to a running Gatehouse (`GATEHOUSE_UI_DEV_TARGET`, default :9763).
 */
function spaFallback(): Plugin {
  return {
    name: 'gatehouse-spa-fallback',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const m = /^\/(publisher|devportal|admin)(\/[^.?]*)?(\?.*)?$/.exec(req.url ?? '');
        if (m && m[2] !== '/config.json') req.url = `/${m[1]}/index.html`;
        next();
      });
    },
  };
}

const devTarget = process.env.GATEHOUSE_UI_DEV_TARGET ?? 'http://127.0.0.1:9763';

// Vite reads its config's default export; this file is the one exception to the no-default rule.
export default defineConfig({
  root: here('./src/apps'),
  base: '/',
  plugins: [react(), spaFallback()],
  html: { cspNonce: CSP_NONCE_PLACEHOLDER },
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      input: Object.fromEntries(APPS.map((app) => [app, here(`./src/apps/${app}/index.html`)])),
      output: {
        // One chunk shared by the three apps (React, Mantine, the router, the kit); each app's own pages stay in its entry.
        codeSplitting: { groups: [{ name: 'shared', test: /node_modules|[\\/]src[\\/]kit[\\/]/ }] },
      },
    },
  },
  experimental: {
    // The shared assets live once in dist/assets but each app serves them under its own base
    // (/publisher/assets/...), so one profile serving one app needs no other path on the load balancer.
    renderBuiltUrl(filename, { hostType, hostId }) {
      if (hostType !== 'html') return { relative: true };
      const app = APPS.find((a) => hostId.includes(`${a}/index.html`) || hostId.startsWith(`${a}/`));
      return app ? `/${app}/${filename}` : { relative: true };
    },
  },
  server: {
    host: '127.0.0.1',
    proxy: Object.fromEntries(['/api', '/oauth2', '/.well-known', '/health', '/publisher/config.json', '/devportal/config.json', '/admin/config.json'].map((p) => [p, { target: devTarget, changeOrigin: false }])),
  },
});
