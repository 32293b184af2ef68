import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { checkA11y, chromiumSkip, screenshot, signIn, startUi, type UiHarness } from './harness.ts';

const skip = chromiumSkip();
const PUB = '/api/am/publisher/v4';
const DEVPORTAL = '/api/am/devportal/v3';

/** A small OpenAPI 3 petstore, as a user would upload it. */
const PETSTORE = {
  openapi: '3.0.3',
  info: { title: 'Swagger Petstore', version: '1.0.0', description: 'Pets, to try Gatehouse with.' },
  servers: [{ url: 'https://petstore.example.com/v1' }],
  paths: {
    '/pets': {
      get: { summary: 'List all pets', operationId: 'listPets', responses: { '200': { description: 'The pets' } } },
      post: { summary: 'Create a pet', operationId: 'createPets', responses: { '201': { description: 'Created' } } },
    },
    '/pets/{petId}': {
      get: {
        summary: 'Info for a specific pet',
        operationId: 'showPetById',
        parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'A pet' } },
      },
    },
  },
};

function assertClean(ui: UiHarness, page: Page): void {
  assert.deepEqual(ui.problems(page).errors, [], `the page reported problems on ${page.url()}`);
}

/** Opens a tab of the API detail page and waits for its panel. */
async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
  await page.getByRole('tabpanel').waitFor();
}

describe('Publisher: from an OpenAPI file to a deployed API', { skip }, () => {
  let ui: UiHarness;
  let backend: Server;
  let backendUrl: string;
  let token: string;
  before(async () => {
    backend = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pets: [{ id: 1, name: 'Rex' }], path: req.url }));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/v1`;
    ui = await startUi();
    token = await ui.token('apim:api_create apim:api_view apim:api_publish apim:api_manage');
    // Takes the context the wizard's bad-input case collides with.
    const taken = await ui.call('POST', `${PUB}/apis`, token, { name: 'Taken', version: '1.0.0', context: '/taken' });
    assert.equal(taken.status, 201, JSON.stringify(taken.body));
  });
  after(async () => {
    await ui?.close();
    backend?.close();
  });

  it('imports, configures, publishes and deploys an API through the UI, and the gateway serves it', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/publisher/apis`);
    await signIn(page, 'admin', ui.adminPassword);
    await page.getByRole('cell', { name: 'Taken', exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-apis');

    // 1. The definition: a broken file first, its problem shown under the file input.
    await page.getByTestId('create-api').click();
    await page.getByRole('heading', { name: 'Create an API' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-create-definition');
    const fileInput = page.locator('input[type="file"]');
    await fileInput.setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ info: { title: 'x' } })) });
    await page.getByRole('button', { name: 'Validate and continue' }).click();
    const fileError = page.locator('.mantine-FileInput-error');
    await fileError.waitFor();
    assert.match(await fileError.innerText(), /not an OpenAPI 3\.x or Swagger 2\.0 definition/);
    assert.match(await page.getByTestId('definition-file').innerText(), /broken\.json/, 'the chosen file stays chosen');
    await checkA11y(page);

    // A URL the server refuses to fetch (a private address): its message under the URL input.
    await page.getByText('From a URL', { exact: true }).click();
    await page.getByLabel('Definition URL').fill('http://127.0.0.1:9/openapi.json');
    await page.getByRole('button', { name: 'Validate and continue' }).click();
    const urlError = page.locator('.mantine-TextInput-error');
    await urlError.waitFor();
    assert.ok((await urlError.innerText()).length > 0);
    assert.equal(await page.getByLabel('Definition URL').inputValue(), 'http://127.0.0.1:9/openapi.json');
    await page.getByText('Upload a file', { exact: true }).click();

    await fileInput.setInputFiles({ name: 'petstore.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(PETSTORE)) });
    await page.getByRole('button', { name: 'Validate and continue' }).click();
    await page.getByTestId('definition-valid').waitFor();
    assert.equal(await page.getByLabel('Name').inputValue(), 'SwaggerPetstore', 'prefilled from the definition');
    assert.equal(await page.getByLabel('Version').inputValue(), '1.0.0');
    assert.equal(await page.getByLabel('Endpoint').inputValue(), 'https://petstore.example.com/v1');

    // 2. A context another API serves: the server's message next to Context, the input kept.
    await page.getByLabel('Name').fill('Petstore');
    await page.getByLabel('Context').fill('/taken');
    await page.getByRole('button', { name: 'Create API' }).click();
    const contextError = page.locator('.mantine-TextInput-error');
    await contextError.waitFor();
    assert.match(await contextError.innerText(), /Another API already serves \/taken\/1\.0\.0/);
    assert.equal(await page.getByLabel('Context').inputValue(), '/taken');
    assert.equal(await page.getByLabel('Name').inputValue(), 'Petstore');
    await checkA11y(page);
    await screenshot(page, 'publisher-create-details-error');

    await page.getByLabel('Context').fill('/petstore');
    await page.getByRole('button', { name: 'Create API' }).click();
    await page.waitForURL(/\/publisher\/apis\/(?!create)[^/]+\/?$/);
    const apiId = /\/apis\/([^/]+)/.exec(new URL(page.url()).pathname)![1]!;
    await page.getByRole('heading', { name: 'Petstore 1.0.0' }).waitFor();
    assert.equal(await page.getByTestId('api-state').innerText(), 'CREATED');
    await checkA11y(page);
    await screenshot(page, 'publisher-api-overview');

    // 3. Endpoints: a bad URL is refused in place, then the real backend.
    await openTab(page, 'Endpoints');
    await page.getByLabel('Production endpoint').fill('not a url');
    await page.getByRole('button', { name: 'Save endpoints' }).click();
    await page.getByText('Enter a full URL').first().waitFor();
    await page.getByLabel('Production endpoint').fill(backendUrl);
    await page.getByLabel('Sandbox endpoint').fill(backendUrl);
    await page.getByRole('button', { name: 'Save endpoints' }).click();
    await page.getByText('Endpoints saved').waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-endpoints');

    // 4. Resources: GET /pets open to anyone (auth type None).
    await openTab(page, 'Resources');
    await page.getByTestId('operations').waitFor();
    assert.equal(await page.getByTestId('operations').locator('tbody tr').count(), 3);
    await page.getByRole('combobox', { name: 'Auth type of GET /pets', exact: true }).click();
    await page.getByRole('option', { name: 'None', exact: true }).click();
    await page.getByRole('button', { name: 'Save resources' }).click();
    await page.getByText('Resources saved').waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-resources');

    // Security and tiers: a subscription tier added.
    await openTab(page, 'Security and tiers');
    await page.getByRole('checkbox', { name: 'Gold', exact: true }).check();
    await page.getByRole('button', { name: 'Save security and tiers' }).click();
    await page.getByText('Security and tiers saved').waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-security');

    // CORS: on.
    await openTab(page, 'CORS');
    await page.getByLabel('Answer CORS requests').check({ force: true });
    await page.getByRole('button', { name: 'Save CORS' }).click();
    await page.getByText('CORS saved').waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-cors');

    const saved = await ui.call<{ policies: string[]; corsConfiguration: { corsConfigurationEnabled: boolean }; operations: { verb: string; target: string; authType: string }[]; endpointConfig: { production_endpoints: { url: string } } }>('GET', `${PUB}/apis/${apiId}`, token);
    assert.deepEqual([...saved.body.policies].sort(), ['Gold', 'Unlimited']);
    assert.equal(saved.body.corsConfiguration.corsConfigurationEnabled, true);
    assert.equal(saved.body.endpointConfig?.production_endpoints.url, backendUrl, JSON.stringify(saved.body));
    assert.equal(saved.body.operations.find((o) => o.verb === 'GET' && o.target === '/pets')?.authType, 'None');

    // 5. Lifecycle: publish.
    await openTab(page, 'Lifecycle');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByTestId('api-state').getByText('PUBLISHED').waitFor();
    await page.getByRole('button', { name: 'Block', exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-lifecycle');

    // 6. A revision, deployed to Default; the gateways acknowledge it.
    await openTab(page, 'Deployments');
    await page.getByLabel('Description').fill('first cut');
    await page.getByRole('button', { name: 'Create revision' }).click();
    await page.getByRole('cell', { name: 'Revision 1', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Deploy Revision 1' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Gateway environment').waitFor();
    assert.equal(await dialog.getByLabel('Gateway environment').inputValue(), 'Default');
    await checkA11y(page);
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('deployment-status').getByText('Deployed').waitFor();
    assert.match(await page.getByTestId('deployment-gateways').innerText(), /^[1-9]\d* live$/);
    await checkA11y(page);
    await screenshot(page, 'publisher-api-deployments');
    const deployments = await ui.call<{ list: { name: string; status: string }[] }>('GET', `${PUB}/apis/${apiId}/deployments`, token);
    assert.deepEqual(deployments.body.list.map((d) => [d.name, d.status]), [['Default', 'DEPLOYED']]);

    // The gateway serves it: GET /pets (auth type None) reaches the backend.
    const config = (await (await fetch(`${ui.baseUrl}/publisher/config.json`)).json()) as { gatewayUrls: string[] };
    const gateway = config.gatewayUrls.find((u) => u.startsWith('http:')) ?? config.gatewayUrls[0]!;
    const served = await fetch(`${gateway.replace(/\/$/, '')}/petstore/1.0.0/pets`);
    assert.equal(served.status, 200, await served.clone().text());
    assert.deepEqual(((await served.json()) as { pets: unknown[] }).pets, [{ id: 1, name: 'Rex' }]);
    // The others still need a token.
    assert.equal((await fetch(`${gateway.replace(/\/$/, '')}/petstore/1.0.0/pets/1`)).status, 401);

    // 7. Usage: the gateway's analytics events reach the Publisher; the tab charts them.
    type Usage = { totals: { calls: number; errors: number } };
    let usage: Usage | undefined;
    for (let i = 0; i < 100 && (usage?.totals.calls ?? 0) < 2; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      usage = (await ui.call<Usage>('GET', `${PUB}/apis/${apiId}/usage?from=${new Date(Date.now() - 3_600_000).toISOString()}`, token)).body;
    }
    assert.ok((usage?.totals.calls ?? 0) >= 2, JSON.stringify(usage));
    await openTab(page, 'Usage');
    await page.getByTestId('usage-calls').waitFor();
    assert.equal(await page.getByTestId('usage-calls').innerText(), String(usage!.totals.calls));
    assert.equal(await page.getByTestId('usage-errors').innerText(), String(usage!.totals.errors));
    await page.getByRole('img', { name: /Calls per minute/ }).waitFor();
    await page.getByRole('table', { name: 'Top operations' }).getByRole('cell', { name: 'GET /pets', exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-usage');
    await page.getByRole('button', { name: 'Show the figures as a table' }).click();
    await page.getByRole('region', { name: /figures/ }).waitFor();
    await checkA11y(page);
    await page.getByText('Last day', { exact: true }).click();
    await page.getByRole('img', { name: /Calls per hour, last day/ }).waitFor();
    assert.equal(await page.getByTestId('usage-calls').innerText(), String(usage!.totals.calls));
    await openTab(page, 'Deployments');

    // Undeploy: the gateway stops serving it.
    await page.getByRole('button', { name: 'Undeploy' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Undeploy' }).click();
    await page.getByText('Not deployed').waitFor();
    let status = 0;
    for (let i = 0; i < 50 && status !== 404; i++) {
      status = (await fetch(`${gateway.replace(/\/$/, '')}/petstore/1.0.0/pets`)).status;
      if (status !== 404) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 404, 'the gateway no longer serves the API');
    assertClean(ui, page);
  });

  it('the API pages work in the dark theme on a phone', async () => {
    const created = await ui.call<{ id: string }>('POST', `${PUB}/apis`, token, { name: 'Phone', version: '1.0.0', context: '/phone' });
    const page = await ui.page({ viewport: { width: 390, height: 844 } });
    await page.goto(`${ui.baseUrl}/publisher/apis/${created.body.id}/lifecycle`);
    await signIn(page, 'admin', ui.adminPassword);
    await page.getByRole('button', { name: 'Publish', exact: true }).waitFor();
    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.locator('html').getAttribute('data-mantine-color-scheme'), 'dark');
    await checkA11y(page);
    await screenshot(page, 'publisher-api-lifecycle-dark-phone');
    // An API no gateway has served: the Usage tab's empty state.
    await page.goto(`${ui.baseUrl}/publisher/apis/${created.body.id}/usage`);
    await page.getByText('No calls in the last hour', { exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-usage-empty-dark-phone');
    await page.goto(`${ui.baseUrl}/publisher/apis/create`);
    await page.getByRole('heading', { name: 'Create an API' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-create-dark-phone');
    assertClean(ui, page);
  });

  it('manages documents with a markdown preview, and blocks subscriptions', async () => {
    const created = await ui.call<{ id: string }>('POST', `${PUB}/apis`, token, { name: 'Docs', version: '2.0.0', context: '/docs', policies: ['Gold', 'Unlimited'], endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'http://127.0.0.1:9' } } });
    assert.equal(created.status, 201);
    const apiId = created.body.id;
    assert.equal((await ui.call('POST', `${PUB}/apis/change-lifecycle?apiId=${apiId}&action=Publish`, token)).status, 200);
    const subscriber = await ui.token('apim:subscribe apim:app_manage');
    const app = await ui.call<{ applicationId: string }>('POST', `${DEVPORTAL}/applications`, subscriber, { name: 'MobileApp', throttlingPolicy: 'Unlimited' });
    assert.equal(app.status, 201, JSON.stringify(app.body));
    const sub = await ui.call('POST', `${DEVPORTAL}/subscriptions`, subscriber, { apiId, applicationId: app.body.applicationId, throttlingPolicy: 'Gold' });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));

    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/publisher/apis/${apiId}/documents`);
    await signIn(page, 'admin', ui.adminPassword);
    await page.getByText('No documents yet').waitFor();
    await page.getByRole('button', { name: 'Add document' }).click();
    await page.getByLabel('Name').fill('Getting started');
    await page.getByLabel('Content (markdown)').fill('# Getting started\n\nCall **GET /pets** with a token.\n\n<img src=x alt="x" onerror="alert(1)">');
    await page.getByRole('tab', { name: 'Preview' }).click();
    const preview = page.getByTestId('markdown-preview');
    await preview.getByRole('heading', { name: 'Getting started' }).waitFor();
    assert.equal(await preview.locator('strong').innerText(), 'GET /pets');
    assert.equal(await preview.locator('img, [onerror]').count(), 0, 'raw HTML is shown as text');
    await preview.getByText('<img src=x alt="x" onerror="alert(1)">').waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-document-preview');
    await page.getByRole('button', { name: 'Add document', exact: true }).click();
    await page.getByRole('cell', { name: 'Getting started', exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-documents');

    // A second document with the same name: the server's message, the input kept.
    await page.getByRole('button', { name: 'Add document' }).click();
    await page.getByLabel('Name').fill('Getting started');
    await page.getByRole('button', { name: 'Add document', exact: true }).click();
    await page.getByTestId('form-error').waitFor();
    assert.equal(await page.getByLabel('Name').inputValue(), 'Getting started');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Edit: the stored content comes back, a change is saved.
    await page.getByRole('button', { name: 'Edit Getting started' }).click();
    const content = page.getByLabel('Content (markdown)');
    await content.waitFor();
    assert.match(await content.inputValue(), /^# Getting started/);
    await page.getByLabel('Summary').fill('The first steps');
    await page.getByRole('button', { name: 'Save document' }).click();
    await page.getByRole('cell', { name: 'Getting started', exact: true }).waitFor();
    const docs = await ui.call<{ list: { name: string; summary: string }[] }>('GET', `${PUB}/apis/${apiId}/documents`, token);
    assert.deepEqual(docs.body.list.map((d) => [d.name, d.summary]), [['Getting started', 'The first steps']]);

    // Delete, confirmed.
    await page.getByRole('button', { name: 'Delete Getting started' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No documents yet').waitFor();

    // Subscriptions: block production only, then unblock.
    await openTab(page, 'Subscriptions');
    await page.getByRole('cell', { name: 'MobileApp', exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'publisher-api-subscriptions');
    await page.getByRole('button', { name: 'Block production only' }).click();
    await page.getByText('Production blocked').waitFor();
    await page.getByRole('button', { name: 'Unblock' }).click();
    await page.getByText('Active', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Block', exact: true }).click();
    await page.getByText('Blocked', { exact: true }).waitFor();
    assertClean(ui, page);
  });
});
