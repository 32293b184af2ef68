import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SUPER_TENANT_DOMAIN } from '@gatehouse/core';
import type { Component } from './components.ts';

/** The web apps, each a single-page app under its own base path (WSO2's /publisher, /devportal, /admin). */
export const UiApps = ['publisher', 'devportal', 'admin'] as const;
export type UiApp = (typeof UiApps)[number];

/**
 * Each app's public OAuth client (PKCE S256, no secret), which the Key Manager seeds at start
 * (`ensureConsoleClients` in @gatehouse/key-manager, same ids).
 */
export const uiClientId = (app: UiApp): string => `gatehouse-${app}`;

/** Where `npm run build:ui` (packages/ui/scripts/build.js) writes the apps. */
export const DEFAULT_UI_DIST = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

/** Written by Vite into every script/style tag (packages/ui/vite.config.ts); replaced by a fresh nonce per request. */
const NONCE_PLACEHOLDER = /__GATEHOUSE_CSP_NONCE__/g;
const CONFIG_PLACEHOLDER = '<!--gatehouse-config-->';
/** Paths that name a file, never a page of the app. */
const STATIC_FILE = /\.(js|mjs|css|map|svg|png|jpe?g|gif|webp|ico|woff2?|ttf|txt|json|webmanifest)$/i;

/** Which apps a process serves, by the components it runs (ARCHITECTURE.md's profile table). */
export function servedApps(components: readonly Pick<Component, 'name'>[]): UiApp[] {
  const names = new Set(components.map((c) => c.name));
  const apps: UiApp[] = [];
  if (names.has('publisher')) apps.push('publisher');
  if (names.has('devportal')) apps.push('devportal');
  if (names.has('publisher') || names.has('admin')) apps.push('admin');
  return apps;
}

/**
 * The Content-Security-Policy of an app's page: scripts only from this origin, styles from this
 * origin or carrying this response's nonce (Mantine's generated `<style>` tags), API calls to this
 * origin only (the Key Manager and the REST APIs are on it, directly or through the load
 * balancer), no framing, no plugins, no `<base>`, forms only to this origin (the Key Manager's
 * sign-in page).
 */
export function contentSecurityPolicy(nonce: string, connect: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    // `connect`: the gateways the Developer Portal's try-it console calls (another origin).
    `connect-src ${["'self'", ...connect].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(reply: FastifyReply, request: FastifyRequest): void {
  void reply
    .header('X-Content-Type-Options', 'nosniff')
    .header('X-Frame-Options', 'DENY')
    .header('Referrer-Policy', 'no-referrer')
    .header('Cross-Origin-Opener-Policy', 'same-origin')
    .header('Cross-Origin-Resource-Policy', 'same-origin')
    .header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
  // Browsers ignore HSTS from plain HTTP and from connections with certificate errors.
  if (request.protocol === 'https') void reply.header('Strict-Transport-Security', 'max-age=31536000');
}

/** Gateway base URLs of an in-process gateway (all-in-one), from its `urls()` ("gateway http://127.0.0.1:8280"). */
function gatewayUrls(components: readonly Component[], request: FastifyRequest): string[] {
  const gateway = components.find((c) => c.name === 'gateway');
  const host = request.hostname;
  return (gateway?.urls?.() ?? []).flatMap((line) => {
    const url = URL.parse(line.replace(/^gateway\s+/, ''));
    if (!url) return [];
    // A wildcard bind address is not somewhere a browser can go: use the host the page came from.
    if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = host;
    return [url.origin];
  });
}

export interface RuntimeUiConfig {
  readonly app: UiApp;
  readonly basePath: string;
  readonly tenant: string;
  readonly keyManager: { readonly url: string; readonly clientId: string };
  readonly gatewayUrls: readonly string[];
  readonly apps: Partial<Record<UiApp, string>>;
}

/** What an app is told at run time (packages/ui/src/kit/config.ts reads it). */
export function runtimeConfig(app: UiApp, apps: readonly UiApp[], components: readonly Component[], request: FastifyRequest): RuntimeUiConfig {
  return {
    app,
    basePath: `/${app}`,
    tenant: SUPER_TENANT_DOMAIN,
    // Same origin: the Key Manager is in this process, or behind the same load balancer.
    keyManager: { url: '', clientId: uiClientId(app) },
    gatewayUrls: gatewayUrls(components, request),
    apps: Object.fromEntries(apps.map((a) => [a, `/${a}/`])),
  };
}

export interface UiOptions {
  readonly components: readonly Component[];
  /** The built apps (packages/ui/dist by default). */
  readonly distDir?: string;
}

/**
 * Serves the built web apps this process's profile owns: hashed assets with a year's immutable
 * cache, and for every other path under the app (deep links) its index.html, never cached,
 * with a per-response CSP nonce and the runtime config injected. Without a build, each app
 * answers 503 with how to build it.
 *
 * @example
 * ```ts
 * await app.register(async (scope) => registerUi(scope, { components }));
 * // GET /publisher/apis?query=pets -> the Publisher's index.html; GET /publisher/config.json -> its runtime config
 * ```
 */
export async function registerUi(app: FastifyInstance, options: UiOptions): Promise<void> {
  const dist = options.distDir ?? DEFAULT_UI_DIST;
  const apps = servedApps(options.components);
  if (apps.length === 0) return;
  app.addHook('onSend', async (request, reply, payload) => {
    securityHeaders(reply, request);
    return payload;
  });
  const built = existsSync(join(dist, 'assets'));
  if (built) {
    const { default: fastifyStatic } = await import('@fastify/static');
    for (const name of apps) {
      await app.register(fastifyStatic, {
        root: join(dist, 'assets'),
        prefix: `/${name}/assets/`,
        decorateReply: false,
        index: false,
        list: false,
        dotfiles: 'deny',
        // File names carry their content hash: a new build is a new URL.
        maxAge: '365d',
        immutable: true,
      });
    }
  }

  for (const name of apps) {
    const indexFile = join(dist, name, 'index.html');
    const page = async (request: FastifyRequest, reply: FastifyReply) => {
      const html = await readFile(indexFile, 'utf8').catch(() => undefined);
      if (html === undefined) {
        return reply
          .code(503)
          .header('Cache-Control', 'no-store')
          .header('Content-Security-Policy', "default-src 'none'")
          .type('text/plain; charset=utf-8')
          .send(`The ${name} web UI is not built. Run \`npm run build:ui\` (or \`npm install\`, or \`npm start\`, which build it) and reload.\n`);
      }
      const nonce = randomBytes(18).toString('base64');
      // JSON in a non-executable script block: `<` escaped so no value can close the tag.
      const runtime = runtimeConfig(name, apps, options.components, request);
      const config = JSON.stringify(runtime).replaceAll('<', '\\u003c');
      const body = html.replace(NONCE_PLACEHOLDER, nonce).replace(CONFIG_PLACEHOLDER, `<script type="application/json" id="gatehouse-config">${config}</script>`);
      return reply
        .header('Cache-Control', 'no-cache')
        .header('Content-Security-Policy', contentSecurityPolicy(nonce, name === 'devportal' ? runtime.gatewayUrls : []))
        .type('text/html; charset=utf-8')
        .send(body);
    };
    app.get(`/${name}`, (_request, reply) => reply.redirect(`/${name}/`, 301));
    app.get(`/${name}/config.json`, async (request, reply) => reply.header('Cache-Control', 'no-store').send(runtimeConfig(name, apps, options.components, request)));
    app.get(`/${name}/`, page);
    app.get(`/${name}/*`, async (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      // A missing file (an old hashed asset, a typo) is a 404, not the app's page.
      if (path.startsWith('assets/') || STATIC_FILE.test(path)) return reply.callNotFound();
      return page(request, reply);
    });
  }
}
