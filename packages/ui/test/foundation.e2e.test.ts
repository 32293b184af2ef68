import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { checkA11y, chromiumSkip, screenshot, signIn, startUi, type UiHarness } from './harness.ts';

const skip = chromiumSkip();
const PUB = '/api/am/publisher/v4';

/** No CSP violation, no uncaught error, no console error while the page was used. */
function assertClean(ui: UiHarness, page: Page): void {
  assert.deepEqual(ui.problems(page).errors, [], `the page reported problems on ${page.url()}`);
}

describe('web UI foundation: serving, sign-in, kit, one page per app', { skip }, () => {
  let ui: UiHarness;
  let provider: string;
  before(async () => {
    ui = await startUi();
    provider = await ui.token('apim:api_create apim:api_view apim:api_publish apim:api_manage');
    // Two APIs, one published (the Developer Portal lists published APIs only).
    for (const [name, context] of [['PetStore', '/petstore'], ['Weather', '/weather']] as const) {
      const created = await ui.call<{ id: string }>('POST', `${PUB}/apis`, provider, { name, version: '1.0.0', context, policies: ['Gold', 'Unlimited'], endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'http://127.0.0.1:9' } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      if (name !== 'PetStore') continue;
      const revision = await ui.call<{ id: string }>('POST', `${PUB}/apis/${created.body.id}/revisions`, provider, { description: 'first' });
      assert.equal((await ui.call('POST', `${PUB}/apis/${created.body.id}/deploy-revision?revisionId=${revision.body.id}`, provider, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }])).status, 200);
      assert.equal((await ui.call('POST', `${PUB}/apis/change-lifecycle?apiId=${created.body.id}&action=Publish`, provider)).status, 200);
    }
  });
  after(() => ui?.close());

  it('serves each app with security headers, a CSP nonce, immutable assets and deep links', async () => {
    const html = await fetch(`${ui.baseUrl}/publisher/apis/some/deep/link?query=x`);
    assert.equal(html.status, 200);
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    assert.equal(html.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(html.headers.get('x-frame-options'), 'DENY');
    const csp = html.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && csp.includes("script-src 'self'") && csp.includes("frame-ancestors 'none'") && !csp.includes('unsafe-inline'), csp);
    const body = await html.text();
    assert.ok(body.includes(`nonce="${nonce}"`) && !body.includes('__GATEHOUSE_CSP_NONCE__'));
    const config = JSON.parse(/<script type="application\/json" id="gatehouse-config">(.*?)<\/script>/.exec(body)![1]!) as { keyManager: { clientId: string }; gatewayUrls: string[] };
    assert.equal(config.keyManager.clientId, 'gatehouse-publisher');
    assert.ok(config.gatewayUrls.length > 0, 'the all-in-one gateway is advertised');
    // A second page gets another nonce.
    assert.notEqual(/'nonce-([^']+)'/.exec((await fetch(`${ui.baseUrl}/publisher/`)).headers.get('content-security-policy') ?? '')?.[1], nonce);

    const script = /src="(\/publisher\/assets\/[^"]+\.js)"/.exec(body)![1]!;
    const asset = await fetch(`${ui.baseUrl}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/);
    // The shared chunk is one file, served under each app's base.
    const shared = /href="\/publisher\/(assets\/shared-[^"]+\.js)"/.exec(body)![1]!;
    assert.equal((await fetch(`${ui.baseUrl}/admin/${shared}`)).status, 200);
    assert.equal((await fetch(`${ui.baseUrl}/devportal/${shared}`)).status, 200);
    // Missing files are 404s, never the app's page.
    assert.equal((await fetch(`${ui.baseUrl}/publisher/assets/missing-abc.js`)).status, 404);
    assert.equal((await fetch(`${ui.baseUrl}/admin/favicon.ico`)).status, 404);
    const bare = await fetch(`${ui.baseUrl}/devportal`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/devportal/');
    const cfg = await fetch(`${ui.baseUrl}/admin/config.json`);
    assert.equal(((await cfg.json()) as { keyManager: { clientId: string } }).keyManager.clientId, 'gatehouse-admin');
  });

  it('the Key Manager sign-in page for a console client is a usable, accessible form', async () => {
    const page = await ui.page();
    const params = new URLSearchParams({ response_type: 'code', client_id: 'gatehouse-admin', redirect_uri: `${ui.baseUrl}/admin/callback`, scope: 'openid apim:admin', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    await page.goto(`${ui.baseUrl}/oauth2/authorize?${params}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.ok(await page.getByLabel('Username').isVisible());
    assert.ok(await page.getByLabel('Password').isVisible());
    await page.getByText('Gatehouse Admin').waitFor();
    await checkA11y(page);
    await screenshot(page, 'key-manager-sign-in');
    // PKCE is required of the console clients (public clients).
    params.delete('code_challenge');
    params.delete('code_challenge_method');
    const res = await fetch(`${ui.baseUrl}/oauth2/authorize?${params}`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /error=invalid_request/);
  });

  it('admin signs in to the Publisher, searches the APIs, and a deep link survives a reload, in light and dark', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/publisher/apis?query=Weather`);
    await signIn(page, 'admin', ui.adminPassword);
    // Back where the sign-in started, search included.
    assert.match(page.url(), /\/publisher\/apis\?query=Weather$/);
    await page.getByRole('cell', { name: 'Weather', exact: true }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'PetStore', exact: true }).count(), 0);
    assert.equal(await page.getByLabel('Search APIs').inputValue(), 'Weather');
    await page.getByLabel('Search APIs').fill('Pet');
    await page.waitForURL(/query=Pet$/);
    await page.getByRole('cell', { name: 'PetStore', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'Weather', exact: true }).waitFor({ state: 'detached' });
    // Reload: still signed in (sessionStorage), same page and search.
    await page.reload();
    await page.getByRole('cell', { name: 'PetStore', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Search APIs').inputValue(), 'Pet');
    assert.ok(page.url().includes('/publisher/apis'));
    await page.getByLabel('Search APIs').fill('');
    await page.getByRole('cell', { name: 'Weather', exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-apis-light');
    // Dark theme, persisted across a reload.
    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.locator('html').getAttribute('data-mantine-color-scheme'), 'dark');
    await page.reload();
    await page.getByRole('cell', { name: 'Weather', exact: true }).waitFor();
    assert.equal(await page.locator('html').getAttribute('data-mantine-color-scheme'), 'dark');
    await checkA11y(page);
    await screenshot(page, 'publisher-apis-dark');
    assertClean(ui, page);
  });

  it('the Developer Portal catalogue is open to anonymous visitors; sign-in adds the user menu', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/devportal/`);
    await page.waitForURL(/\/devportal\/apis$/);
    await page.getByRole('cell', { name: 'PetStore', exact: true }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'Weather', exact: true }).count(), 0, 'unpublished APIs are not listed');
    await page.getByRole('cell', { name: 'Gold' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-apis-anonymous');
    await page.getByTestId('sign-in').click();
    await signIn(page, 'admin', ui.adminPassword);
    assert.match(page.url(), /\/devportal\/apis$/);
    await page.getByRole('cell', { name: 'PetStore', exact: true }).waitFor();
    await checkA11y(page);
    assertClean(ui, page);
  });

  it('Admin lists throttling policies; the form shows the server field error next to the field and keeps the input; delete asks first', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/admin/`);
    await signIn(page, 'admin', ui.adminPassword);
    assert.match(page.url(), /\/admin\/throttling-policies$/);
    await page.getByRole('cell', { name: 'Unlimited', exact: true }).first().waitFor();
    await page.getByLabel('Search policies').fill('gold');
    await page.getByRole('cell', { name: 'Gold', exact: true }).first().waitFor();
    await checkA11y(page);
    await screenshot(page, 'admin-throttling-policies');

    await page.getByTestId('add-policy').click();
    const dialog = page.getByRole('dialog', { name: 'Add an application policy' });
    await dialog.getByTestId('policy-name').fill('bad name');
    await dialog.getByLabel('Description').fill('typed by the user');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    // The server's message (a schema pattern), under the Name field, which keeps what was typed.
    const name = dialog.getByTestId('policy-name');
    await page.waitForFunction(() => document.querySelector('[data-testid="policy-name"]')?.getAttribute('aria-invalid') === 'true');
    const describedBy = (await name.getAttribute('aria-describedby')) ?? '';
    const fieldError = await page.locator(`[id="${describedBy.split(' ').find((id) => id.endsWith('-error'))}"]`).innerText();
    assert.match(fieldError, /must match pattern/);
    assert.equal(await name.inputValue(), 'bad name');
    assert.equal(await dialog.getByLabel('Description').inputValue(), 'typed by the user');
    await dialog.getByTestId('form-error').waitFor();
    await checkA11y(page);
    await screenshot(page, 'admin-policy-form-server-error');
    await name.fill('Bronze10');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByLabel('Search policies').fill('bronze');
    await page.getByRole('cell', { name: 'Bronze10', exact: true }).first().waitFor();

    await page.getByRole('button', { name: 'Delete Bronze10' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete the throttling policy' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Delete Bronze10' }).click();
    await page.getByRole('dialog', { name: 'Delete the throttling policy' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: 'Bronze10', exact: true }).first().waitFor({ state: 'detached' });
    assertClean(ui, page);
  });

  it('menus follow the granted scopes: a subscriber has no Publisher menu', async () => {
    const signup = await ui.call('POST', '/api/identity/user/v1.0/me', '', { user: { username: 'carol', realm: 'PRIMARY', password: 'carol-password-1', claims: [] }, properties: [] });
    assert.equal(signup.status, 201, JSON.stringify(signup.body));
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/publisher/`);
    await signIn(page, 'carol', 'carol-password-1');
    await page.getByText('Your account has no access to the Publisher').waitFor();
    assert.equal(await page.getByRole('link', { name: 'APIs' }).count(), 0);
    const granted = await page.evaluate(() => JSON.parse(sessionStorage.getItem('gatehouse.publisher.session') ?? '{}') as { scopes: string[] });
    assert.ok(!granted.scopes.includes('apim:api_view'), granted.scopes.join(' '));
    await checkA11y(page);
    await screenshot(page, 'publisher-no-access');
  });

  it('renews an expiring token with the refresh token, and sign-out revokes it', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/publisher/apis`);
    await signIn(page, 'admin', ui.adminPassword);
    await page.getByRole('cell', { name: 'PetStore', exact: true }).waitFor();
    const before = await page.evaluate(() => JSON.parse(sessionStorage.getItem('gatehouse.publisher.session')!) as { accessToken: string; refreshToken: string });
    // The access token "expires": the next call refreshes first (rotation: a new refresh token too).
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('gatehouse.publisher.session')!) as Record<string, unknown>;
      sessionStorage.setItem('gatehouse.publisher.session', JSON.stringify({ ...s, expiresAt: Date.now() }));
    });
    await page.reload();
    const refreshed = page.waitForRequest((r) => r.url().endsWith('/oauth2/token') && (r.postData() ?? '').includes('grant_type=refresh_token'));
    await page.getByLabel('Search APIs').fill('Weather');
    await refreshed;
    await page.getByRole('cell', { name: 'Weather', exact: true }).waitFor();
    const after = await page.evaluate(() => JSON.parse(sessionStorage.getItem('gatehouse.publisher.session')!) as { accessToken: string; refreshToken: string });
    assert.notEqual(after.accessToken, before.accessToken);
    assert.notEqual(after.refreshToken, before.refreshToken);

    await page.getByTestId('user-menu').click();
    await page.getByTestId('sign-out').click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('gatehouse.publisher.session')), null);
    assert.equal((await ui.call('GET', `${PUB}/apis`, after.accessToken)).status, 401, 'the access token was revoked');
    await checkA11y(page);
    // Signing in again starts over at the Key Manager.
    await page.getByTestId('sign-in-again').click();
    await page.waitForURL(/\/oauth2\/authorize/);
    assertClean(ui, page);
  });

  it('fits a laptop and a phone: the menu folds behind a button on small screens', async () => {
    const page = await ui.page({ viewport: { width: 390, height: 844 } });
    await page.goto(`${ui.baseUrl}/devportal/apis`);
    await page.getByRole('cell', { name: 'PetStore', exact: true }).waitFor();
    const burger = page.getByRole('button', { name: 'Open the menu' });
    assert.ok(await burger.isVisible());
    await burger.click();
    await page.getByRole('link', { name: 'APIs' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-apis-phone');
    const laptop = await ui.page({ viewport: { width: 1280, height: 720 } });
    await laptop.goto(`${ui.baseUrl}/devportal/apis`);
    await laptop.getByRole('cell', { name: 'PetStore', exact: true }).waitFor();
    assert.equal(await laptop.getByRole('button', { name: 'Open the menu' }).isVisible(), false);
    const overflow = await laptop.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
    assert.equal(overflow, false, 'no horizontal scrolling at 1280 px');
    assertClean(ui, laptop);
  });
});
