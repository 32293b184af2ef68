import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { loadConfig } from '@gatehouse/config';
import { consoleOrigins } from '@gatehouse/key-manager';
import { Health, loadOrCreateTls } from '@gatehouse/runtime';
import { tempDir } from '@gatehouse/testing';
import { createControlPlane, type ControlPlaneServer } from '../src/runtime/control-plane.ts';
import { profileComponents } from '../src/runtime/components.ts';
import { servedApps } from '../src/runtime/ui.ts';

describe('web UI serving (packages/cli/src/runtime/ui.ts)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const servers: ControlPlaneServer[] = [];
  before(async () => {
    dir = await tempDir();
    // A minimal build: what packages/ui/scripts/build.js writes.
    await mkdir(join(dir.path, 'dist', 'assets'), { recursive: true });
    await mkdir(join(dir.path, 'dist', 'devportal'), { recursive: true });
    await writeFile(join(dir.path, 'dist', 'assets', 'devportal-abc123.js'), 'console.log(1)');
    await writeFile(
      join(dir.path, 'dist', 'devportal', 'index.html'),
      '<html><head><!--gatehouse-config--><script type="module" src="/devportal/assets/devportal-abc123.js" nonce="__GATEHOUSE_CSP_NONCE__"></script></head><body></body></html>',
    );
  });
  after(async () => {
    for (const s of servers) await s.stop(100);
    await dir.remove();
  });

  async function serve(names: ('publisher' | 'devportal' | 'admin' | 'key-manager')[], distDir: string): Promise<string> {
    const tls = await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path });
    const server = await createControlPlane({
      host: '127.0.0.1', httpsPort: 0, httpPort: 0, tls, logger: pino({ level: 'silent' }), metrics: new Registry(), health: new Health(),
      components: names.map((name) => ({ name })),
      uiDistDir: distDir,
    });
    servers.push(server);
    const [, http] = await server.start();
    return http.url;
  }

  it('serves the apps of the profile: /publisher and /admin with the Publisher, /devportal with the Developer Portal', () => {
    assert.deepEqual(servedApps(profileComponents['all-in-one'].map((name) => ({ name }))), ['publisher', 'devportal', 'admin']);
    assert.deepEqual(servedApps(profileComponents['control-plane'].map((name) => ({ name }))), ['publisher', 'devportal', 'admin']);
    assert.deepEqual(servedApps(profileComponents.publisher.map((name) => ({ name }))), ['publisher', 'admin']);
    assert.deepEqual(servedApps(profileComponents.devportal.map((name) => ({ name }))), ['devportal']);
    assert.deepEqual(servedApps(profileComponents['key-manager'].map((name) => ({ name }))), []);
  });

  it('a devportal process serves /devportal (deep links, nonce, config), not /publisher', async () => {
    const base = await serve(['devportal'], join(dir.path, 'dist'));
    const page = await fetch(`${base}/devportal/apis/123/overview`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const nonce = /'nonce-([^']+)'/.exec(page.headers.get('content-security-policy') ?? '')![1]!;
    assert.ok(html.includes(`nonce="${nonce}"`));
    const config = JSON.parse(/id="gatehouse-config">(.*?)<\/script>/.exec(html)![1]!) as Record<string, unknown>;
    assert.deepEqual(config, { app: 'devportal', basePath: '/devportal', tenant: 'carbon.super', keyManager: { url: '', clientId: 'gatehouse-devportal' }, gatewayUrls: [], apps: { devportal: '/devportal/' } });
    const asset = await fetch(`${base}/devportal/assets/devportal-abc123.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`${base}/publisher/`)).status, 404);
    assert.equal((await fetch(`${base}/admin/`)).status, 404);
  });

  it('answers 503 with how to build when the apps are not built', async () => {
    const base = await serve(['publisher'], join(dir.path, 'no-build'));
    const res = await fetch(`${base}/admin/policies`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /npm run build:ui/);
  });

  it('registers the console redirect URIs on the public URL, localhost and loopback', () => {
    const config = loadConfig({ argv: ['--server.public_url', 'https://api.example.com'], env: {}, cwd: dir.path });
    assert.deepEqual(consoleOrigins(config), ['https://api.example.com', 'https://localhost:9443', 'https://127.0.0.1:9443', 'http://localhost:9763', 'http://127.0.0.1', 'http://[::1]']);
  });
});
