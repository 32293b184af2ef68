import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import { checkA11y, chromiumSkip, screenshot, signIn, startUi, type UiHarness } from './harness.ts';

// The whole product through its three consoles, as issue #9 describes it: a creator imports,
// publishes and deploys an API in the Publisher; a consumer signs up, subscribes, generates keys
// in the Developer Portal and gets a 200 through the gateway; an admin adds a blocking condition
// in the Admin portal and the gateway refuses the next call.

const skip = chromiumSkip();
const ADMIN = '/api/am/admin/v4';

const PETSTORE = {
  openapi: '3.0.3',
  info: { title: 'Journey Pets', version: '1.0.0' },
  servers: [{ url: 'https://pets.example.com/v1' }],
  paths: {
    '/pets/{petId}': {
      get: { operationId: 'showPet', parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'A pet' } } },
    },
  },
};

function assertClean(ui: UiHarness, page: Page): void {
  assert.deepEqual(ui.problems(page).errors, [], `the page reported problems on ${page.url()}`);
}

async function pick(page: Page, testId: string, option: string): Promise<void> {
  await page.getByTestId(testId).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
  await page.getByRole('tabpanel').waitFor();
}

describe('journey: creator publishes, consumer calls, admin blocks', { skip }, () => {
  let ui: UiHarness;
  let backend: MockUpstream;
  let gateway: string;
  let apiId = '';
  let accessToken = '';
  const consumer = `journey${Date.now().toString(36)}`;
  const password = 'journey-password-123';

  /** Calls the API through the gateway until `want` answers (events reach the gateway asynchronously), at most `ms`. */
  async function callUntil(want: number, ms = 3_000): Promise<{ status: number; body: string; elapsedMs: number }> {
    const t0 = Date.now();
    for (;;) {
      const res = await fetch(`${gateway}/journey/1.0.0/pets/7`, { headers: { authorization: `Bearer ${accessToken}` } });
      const body = await res.text();
      if (res.status === want || Date.now() - t0 > ms) return { status: res.status, body, elapsedMs: Date.now() - t0 };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    backend = await startMockUpstream('journey-backend');
    // A fixed public URL, as in the CLI's business-flow test: the issuer the tokens name is then the
    // one the Resident Key Manager records, which the gateway checks.
    ui = await startUi(['--server.public_url', 'https://gatehouse.test']);
    const config = (await (await fetch(`${ui.baseUrl}/devportal/config.json`)).json()) as { gatewayUrls: string[] };
    gateway = (config.gatewayUrls.find((u) => u.startsWith('http:')) ?? config.gatewayUrls[0]!).replace(/\/$/, '');
  });
  after(async () => {
    await ui?.close();
    await backend?.close();
  });

  it('creator: imports an OpenAPI file, points it at the backend, publishes and deploys it in the Publisher', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/publisher/apis`);
    await signIn(page, 'admin', ui.adminPassword);
    await page.getByTestId('create-api').click();
    await page.getByRole('heading', { name: 'Create an API' }).waitFor();
    await page.locator('input[type="file"]').setInputFiles({ name: 'pets.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(PETSTORE)) });
    await page.getByRole('button', { name: 'Validate and continue' }).click();
    await page.getByTestId('definition-valid').waitFor();
    await page.getByLabel('Name').fill('JourneyPets');
    await page.getByLabel('Context').fill('/journey');
    await page.getByRole('button', { name: 'Create API' }).click();
    await page.waitForURL(/\/publisher\/apis\/(?!create)[^/]+\/?$/);
    apiId = /\/apis\/([^/]+)/.exec(new URL(page.url()).pathname)![1]!;

    await openTab(page, 'Endpoints');
    await page.getByLabel('Production endpoint').fill(`${backend.url}/v1`);
    await page.getByRole('button', { name: 'Save endpoints' }).click();
    await page.getByText('Endpoints saved').waitFor();

    await openTab(page, 'Lifecycle');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByTestId('api-state').getByText('PUBLISHED').waitFor();

    await openTab(page, 'Deployments');
    await page.getByLabel('Description').fill('journey');
    await page.getByRole('button', { name: 'Create revision' }).click();
    await page.getByRole('button', { name: 'Deploy Revision 1' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('deployment-status').getByText('Deployed').waitFor();
    await screenshot(page, 'journey-1-publisher-deployed');
    // The gateway has the API once a call without a token is refused for want of a token.
    assert.equal((await fetch(`${gateway}/journey/1.0.0/pets/7`)).status, 401);
    assertClean(ui, page);
  });

  it('consumer: signs up, creates an application with keys, subscribes in the Developer Portal and gets a 200 through the gateway', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/devportal/sign-up`);
    await page.getByLabel('Username').fill(consumer);
    await page.getByLabel(/^Password/).fill(password);
    await page.getByLabel('Confirm password').fill(password);
    await page.getByLabel('Email').fill(`${consumer}@example.com`);
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('signup-done').waitFor();
    await page.getByTestId('signup-sign-in').click();
    await signIn(page, consumer, password);
    await page.waitForURL(/\/devportal\/applications$/);

    await page.getByTestId('create-app').click();
    await page.getByTestId('app-name').fill('JourneyApp');
    await page.getByTestId('create-app-submit').click();
    await page.getByRole('heading', { level: 1, name: 'JourneyApp' }).waitFor();
    await page.getByTestId('generate-keys').click();
    const secret = (await page.getByTestId('secret-value').textContent())!.trim();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByTestId('token-secret').fill(secret);
    await page.getByTestId('generate-token').click();
    await page.getByTestId('secret-display').filter({ hasText: 'Access token' }).waitFor();
    accessToken = (await page.getByTestId('secret-value').textContent())!.trim();
    assert.ok(accessToken.length > 20);

    await page.goto(`${ui.baseUrl}/devportal/apis/${apiId}`);
    await page.getByTestId('subscribe-panel').waitFor();
    await pick(page, 'subscribe-application', 'JourneyApp');
    await pick(page, 'subscribe-tier', 'Unlimited');
    await page.getByTestId('subscribe').click();
    await page.getByTestId('subscribed-app').filter({ hasText: 'JourneyApp' }).waitFor();
    await screenshot(page, 'journey-2-devportal-subscribed');

    const ok = await callUntil(200);
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as { url: string }).url, '/v1/pets/7', 'the backend answered');
    assertClean(ui, page);
  });

  it('admin: a blocking condition added in the Admin portal makes the gateway refuse the next call (403, 900805); turned off, calls pass again', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/admin/blocking-conditions`);
    await signIn(page, 'admin', ui.adminPassword);
    await page.getByTestId('empty-state').waitFor();
    await page.getByTestId('add-condition').click();
    const dialog = page.getByRole('dialog', { name: 'Add a blocking condition' });
    await dialog.getByTestId('condition-value').fill('/journey/1.0.0');
    await dialog.getByTestId('condition-save').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: '/journey/1.0.0', exact: true }).waitFor();
    const seen = backend.requests.length;

    const refused = await callUntil(403);
    assert.equal(refused.status, 403, refused.body);
    const fault = JSON.parse(refused.body) as { code: number; message: string };
    assert.equal(fault.code, 900805, 'WSO2 fault code of a blocked request');
    assert.equal(fault.message, 'Message blocked');
    assert.equal(backend.requests.length, seen, 'the backend saw none of the refused calls');
    await checkA11y(page);
    await screenshot(page, 'journey-3-admin-blocked');

    // Off in the Admin portal: the API answers again.
    await page.getByRole('switch', { name: 'Enabled: API context /journey/1.0.0' }).click({ force: true });
    await page.waitForFunction(() => (document.querySelector('[aria-label="Enabled: API context /journey/1.0.0"]') as HTMLInputElement | null)?.checked === false);
    const again = await callUntil(200);
    assert.equal(again.status, 200, again.body);
    const conditions = await ui.call<{ list: { conditionStatus: boolean }[] }>('GET', `${ADMIN}/throttling/deny-policies`, await ui.token('apim:bl_view'));
    assert.deepEqual(conditions.body.list.map((c) => c.conditionStatus), [false]);
    assertClean(ui, page);
  });
});
