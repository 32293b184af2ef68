import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { freePort, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import { checkA11y, chromiumSkip, screenshot, signIn, startUi, type UiHarness } from './harness.ts';

const skip = chromiumSkip();
const PUB = '/api/am/publisher/v4';
const DP = '/api/am/devportal/v3';

function assertClean(ui: UiHarness, page: Page): void {
  assert.deepEqual(ui.problems(page).errors, [], `the page reported problems on ${page.url()}`);
}

/** Picks an option of a Mantine Select (by the input's test id). */
async function pick(page: Page, testId: string, option: string): Promise<void> {
  await page.getByTestId(testId).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

const DOC = '# Getting started\n\nCall **GET /hello** with a token.\n\n<script>window.hacked = true</script><img src="x" onerror="window.hacked = true">\n\n- one\n- two\n';

describe('Developer Portal: catalogue, API page, sign-up, applications, keys, subscriptions, try-it', { skip, timeout: 180_000 }, () => {
  let ui: UiHarness;
  let backend: MockUpstream;
  let apiId: string;
  let gateway: string;
  // The consumer's browser page, shared by the steps below (each step goes on from the last).
  let consumer: Page;
  let consumerSecret = '';
  const user = `dev${Date.now().toString(36)}`;
  const password = 'consumer-password-123';

  before(async () => {
    // The gateway trusts the Resident Key Manager's issuer, `<server.public_url>/oauth2/token`; the
    // tokens the portal issues name the URL they were asked at. So the browser's URL is the public one.
    const port = await freePort();
    ui = await startUi(['--server.http_port', String(port), '--server.public_url', `http://127.0.0.1:${port}`]);
    backend = await startMockUpstream('hello-backend');
    const provider = await ui.token('apim:api_create apim:api_view apim:api_publish apim:api_manage apim:document_create apim:document_manage');
    // An API whose CORS configuration lets the Developer Portal's origin call it through the gateway (the try-it console).
    const created = await ui.call<{ id: string }>('POST', `${PUB}/apis`, provider, {
      name: 'HelloWorld',
      version: '1.0.0',
      context: '/hello',
      description: 'Says **hello**. A demo API for the try-it console.',
      tags: ['demo', 'greetings'],
      policies: ['Gold', 'Unlimited'],
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url }, sandbox_endpoints: { url: backend.url } },
      operations: [
        { target: '/greeting', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited' },
        { target: '/greeting', verb: 'POST', authType: 'Application & Application User', throttlingPolicy: 'Unlimited' },
      ],
      corsConfiguration: {
        corsConfigurationEnabled: true,
        accessControlAllowOrigins: [ui.baseUrl],
        accessControlAllowCredentials: false,
        accessControlAllowHeaders: ['authorization', 'content-type'],
        accessControlAllowMethods: ['GET', 'POST', 'OPTIONS'],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    apiId = created.body.id;
    const doc = await ui.call<{ documentId: string }>('POST', `${PUB}/apis/${apiId}/documents`, provider, { name: 'Getting started', type: 'HOWTO', sourceType: 'MARKDOWN', visibility: 'API_LEVEL', summary: 'First steps' });
    assert.equal(doc.status, 201, JSON.stringify(doc.body));
    const form = new FormData();
    form.set('inlineContent', DOC);
    const content = await fetch(`${ui.baseUrl}${PUB}/apis/${apiId}/documents/${doc.body.documentId}/content`, { method: 'POST', headers: { authorization: `Bearer ${provider}` }, body: form });
    assert.ok(content.ok, await content.text());
    const revision = await ui.call<{ id: string }>('POST', `${PUB}/apis/${apiId}/revisions`, provider, { description: 'first' });
    assert.equal((await ui.call('POST', `${PUB}/apis/${apiId}/deploy-revision?revisionId=${revision.body.id}`, provider, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }])).status, 200);
    assert.equal((await ui.call('POST', `${PUB}/apis/change-lifecycle?apiId=${apiId}&action=Publish`, provider)).status, 200);
    // Another published API, not tagged demo, for the tag filter.
    const other = await ui.call<{ id: string }>('POST', `${PUB}/apis`, provider, { name: 'Weather', version: '2.0.0', context: '/weather', tags: ['forecast'], policies: ['Unlimited'], endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } } });
    assert.equal((await ui.call('POST', `${PUB}/apis/change-lifecycle?apiId=${other.body.id}&action=Publish`, provider)).status, 200);

    gateway = ((await (await fetch(`${ui.baseUrl}/devportal/config.json`)).json()) as { gatewayUrls: string[] }).gatewayUrls[0]!;
    // The gateway has the API once an anonymous call is refused for want of a token, not for want of a route.
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${gateway}/hello/1.0.0/greeting`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await ui?.close();
    await backend?.close();
  });

  it('the Developer Portal page may connect to the gateway (try-it console); the other consoles may not', async () => {
    const csp = (app: string) => fetch(`${ui.baseUrl}/${app}/`).then((r) => r.headers.get('content-security-policy') ?? '');
    assert.match(await csp('devportal'), new RegExp(`connect-src 'self' ${gateway.replaceAll('.', '\\.')}(;| )`));
    assert.match(await csp('publisher'), /connect-src 'self';/);
  });

  it('an anonymous visitor browses the catalogue, filters by tag, and reads the API page', async () => {
    const page = await ui.page();
    await page.goto(`${ui.baseUrl}/devportal/apis`);
    await page.getByRole('link', { name: 'HelloWorld' }).waitFor();
    await page.getByRole('link', { name: 'Weather' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-apis');
    // Tag filter: only the APIs tagged "demo".
    await page.getByTestId('tag-filter').getByText('demo (1)').click();
    await page.waitForURL(/tag=demo/);
    await page.getByRole('link', { name: 'Weather' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('link', { name: 'HelloWorld' }).count(), 1);

    await page.getByRole('link', { name: 'HelloWorld' }).click();
    await page.getByRole('heading', { level: 1, name: 'HelloWorld' }).waitFor();
    await page.getByRole('button', { name: 'Sign in to subscribe' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-api-overview');

    await page.getByRole('tab', { name: 'API reference' }).click();
    await page.getByTestId('api-reference').waitFor();
    await page.getByText('/greeting').first().waitFor();
    await page.getByRole('button', { name: /GET\s*\/greeting/ }).click();
    await page.getByText('Responses').first().waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-api-reference');

    await page.getByRole('tab', { name: 'Documents' }).click();
    await page.getByTestId('markdown').getByRole('heading', { name: 'Getting started' }).waitFor();
    assert.equal(await page.getByTestId('markdown').locator('strong', { hasText: 'GET /hello' }).count(), 1);
    // Sanitised: no script, no event handler ran.
    assert.equal(await page.getByTestId('markdown').locator('script').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { hacked?: boolean }).hacked), undefined);
    await checkA11y(page);
    await screenshot(page, 'devportal-api-documents');

    await page.getByRole('tab', { name: 'Comments' }).click();
    await page.getByText('Sign in to comment.').waitFor();
    await checkA11y(page);
    // Chrome reports the onerror attribute of the hostile document when DOMPurify parses it (inertly,
    // in a DOMParser document: nothing runs, see cure53/DOMPurify#107); that report is the CSP at work.
    const problems = ui.problems(page).errors.filter((e) => !e.includes('Executing inline event handler violates'));
    assert.deepEqual(problems, []);
  });

  it('a consumer signs up: the server\'s messages appear next to the fields, the input stays; then signs in', async () => {
    consumer = await ui.page();
    await consumer.goto(`${ui.baseUrl}/devportal/apis`);
    await consumer.getByTestId('sign-up-link').click();
    await consumer.getByRole('heading', { level: 1, name: 'Create an account' }).waitFor();
    await checkA11y(consumer);
    const fill = async (username: string, pw: string) => {
      await consumer.getByLabel('Username').fill(username);
      await consumer.getByLabel(/^Password/).fill(pw);
      await consumer.getByLabel('Confirm password').fill(pw);
    };
    await fill(user, 'short');
    await consumer.getByLabel('Email').fill(`${user}@example.com`);
    await consumer.getByLabel('First name').fill('Dana');
    await consumer.getByTestId('signup-submit').click();
    // The server's password policy, next to the password field; what was typed is kept.
    await consumer.locator('[id$="-error"]').filter({ hasText: 'The password must have at least 8 characters' }).waitFor();
    assert.equal(await consumer.getByLabel('Username').inputValue(), user);
    assert.equal(await consumer.getByLabel('Email').inputValue(), `${user}@example.com`);
    await checkA11y(consumer);
    await screenshot(consumer, 'devportal-sign-up-error');
    // A taken username: the message goes next to the username.
    await fill('admin', password);
    await consumer.getByTestId('signup-submit').click();
    await consumer.getByText('The username admin is taken').waitFor();
    assert.equal(await consumer.getByLabel('Username').getAttribute('aria-invalid'), 'true');

    await fill(user, password);
    await consumer.getByTestId('signup-submit').click();
    await consumer.getByTestId('signup-done').waitFor();
    await checkA11y(consumer);
    await consumer.getByTestId('signup-sign-in').click();
    await signIn(consumer, user, password);
    await consumer.waitForURL(/\/devportal\/applications$/);
    await consumer.getByText('No applications yet').waitFor();
    await checkA11y(consumer);
    assertClean(ui, consumer);
  });

  it('creates an application (a bad name shows the server\'s message in place), generates keys (secret shown once) and an API key', async () => {
    const page = consumer;
    await page.getByTestId('create-app').click();
    // The tiers are Admin's application policies (GET /throttling-policies/application).
    await page.getByTestId('app-tier').click();
    for (const tier of ['10PerMin', '20PerMin', '50PerMin']) await page.getByRole('option', { name: tier, exact: true }).waitFor();
    await page.getByRole('option', { name: 'Unlimited', exact: true }).click();
    await page.getByTestId('app-name').fill('Bad#App');
    await page.getByLabel('Description').fill('My first app');
    await page.getByTestId('create-app-submit').click();
    // The server's schema message under the Name field, the form as typed.
    const nameError = page.locator('[id$="-error"]').filter({ hasText: /pattern/ });
    await nameError.waitFor();
    assert.equal(await page.getByTestId('app-name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Description').inputValue(), 'My first app');
    await checkA11y(page);
    await screenshot(page, 'devportal-application-create-error');

    await page.getByTestId('app-name').fill('ShopApp');
    await page.getByTestId('create-app-submit').click();
    await page.getByRole('heading', { level: 1, name: 'ShopApp' }).waitFor();
    await page.getByTestId('generate-keys').waitFor();
    await checkA11y(page);

    await page.getByTestId('generate-keys').click();
    await page.getByTestId('secret-display').waitFor();
    consumerSecret = (await page.getByTestId('secret-value').textContent())!.trim();
    assert.ok(consumerSecret.length >= 16, consumerSecret);
    await page.getByTestId('consumer-key-value').waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-application-keys');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await page.getByTestId('secret-display').count(), 0, 'the secret is gone once copied');
    await page.reload();
    await page.getByTestId('consumer-key-value').waitFor();
    assert.equal(await page.getByText(consumerSecret).count(), 0, 'the secret is never shown again');

    // An access token from the keys: a wrong secret is a message next to the field.
    await page.getByTestId('token-secret').fill('wrong-secret');
    await page.getByTestId('generate-token').click();
    await page.getByText('The consumer secret is not valid').waitFor();
    assert.match(page.url(), /\/devportal\/applications\//, 'a wrong secret is not a lost session');
    await page.getByTestId('token-secret').fill(consumerSecret);
    await page.getByTestId('generate-token').click();
    await page.getByRole('alert').filter({ hasText: 'Access token: shown once' }).waitFor();

    await page.getByRole('tab', { name: 'API keys' }).click();
    await page.getByTestId('generate-api-key').click();
    await page.getByTestId('secret-display').filter({ hasText: 'API key' }).waitFor();
    const apiKey = (await page.getByTestId('secret-value').textContent())!.trim();
    assert.equal(apiKey.split('.').length, 3, 'a JWT API key');
    await checkA11y(page);
    await screenshot(page, 'devportal-application-api-keys');
    await page.getByTestId('revoke-api-key-value').fill(apiKey);
    await page.getByTestId('revoke-api-key').click();
    await page.getByText('The API key is revoked.').waitFor();

    await page.getByRole('tab', { name: 'Subscriptions' }).click();
    await page.getByText('No subscriptions').waitFor();
    await checkA11y(page);
    assertClean(ui, page);
  });

  it('subscribes the application and gets a 200 from the API through the gateway in the try-it console', async () => {
    const page = consumer;
    await page.goto(`${ui.baseUrl}/devportal/apis/${apiId}`);
    await page.getByTestId('subscribe-panel').waitFor();
    await pick(page, 'subscribe-application', 'ShopApp');
    await pick(page, 'subscribe-tier', 'Gold');
    await page.getByTestId('subscribe').click();
    await page.getByTestId('subscribed-app').filter({ hasText: 'ShopApp · Gold' }).waitFor();
    // Subscribing twice: the server's message next to the application.
    await page.getByTestId('subscribe').click();
    await page.getByText(/already subscribed/i).first().waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-api-subscribed');

    // Rate and comment while here.
    const star = await page.getByTestId('your-rating').getByRole('radio', { name: '4 stars' }).getAttribute('id');
    await page.locator(`label[for="${star}"]`).click();
    await page.getByText('4.0 (1 rating)').waitFor();
    await page.getByRole('tab', { name: 'Comments' }).click();
    await page.getByLabel('Add a comment').fill('Works nicely.');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.getByTestId('comment').filter({ hasText: 'Works nicely.' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-api-comments');

    await page.getByRole('tab', { name: 'Try it' }).click();
    await page.getByTestId('try-it').waitFor();
    await pick(page, 'try-application', 'ShopApp');
    await page.getByLabel('Consumer secret').fill(consumerSecret);
    await page.getByTestId('get-test-token').click();
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('[data-testid="try-token"]')?.value ?? '').length > 20);
    const before = backend.requests.length;
    await page.getByTestId('try-send').click();
    await page.getByTestId('try-status').waitFor();
    assert.match((await page.getByTestId('try-status').textContent()) ?? '', /^200/, (await page.getByTestId('try-response').textContent()) ?? '');
    assert.match((await page.getByTestId('try-body').textContent()) ?? '', /hello-backend/);
    assert.equal(backend.requests.length, before + 1);
    assert.equal(backend.requests.at(-1)!.method, 'GET');
    await checkA11y(page);
    await screenshot(page, 'devportal-try-it');

    // POST with a body, too.
    await pick(page, 'try-operation', 'POST /greeting');
    await page.getByLabel(/Request body/).fill('{"name":"Dana"}');
    await page.getByTestId('try-send').click();
    await page.getByTestId('try-body').filter({ hasText: 'Dana' }).waitFor();
    assert.equal(backend.requests.at(-1)!.body, '{"name":"Dana"}');
    assertClean(ui, page);
  });

  it('lists the applications, unsubscribes and deletes', async () => {
    const page = consumer;
    await page.goto(`${ui.baseUrl}/devportal/applications`);
    await page.getByRole('link', { name: 'ShopApp' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-applications');

    await page.getByRole('link', { name: 'ShopApp' }).click();
    await page.getByRole('tab', { name: 'Subscriptions' }).click();
    await page.getByRole('cell', { name: 'Gold', exact: true }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-application-subscriptions');
    await page.getByRole('button', { name: 'Unsubscribe from HelloWorld' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByText('No subscriptions').waitFor();

    await page.getByRole('link', { name: 'All applications' }).click();
    await page.getByRole('button', { name: 'Delete ShopApp' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No applications yet').waitFor();
    const token = await ui.token('apim:subscribe', user, password);
    assert.equal((await ui.call<{ count: number }>('GET', `${DP}/applications`, token)).body.count, 0);
    assertClean(ui, page);
  });

  it('fits a phone in the dark theme', async () => {
    const page = await ui.page({ colorScheme: 'dark', viewport: { width: 390, height: 844 } });
    await page.goto(`${ui.baseUrl}/devportal/apis/${apiId}`);
    await page.getByRole('heading', { level: 1, name: 'HelloWorld' }).waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-api-overview-phone-dark');
    await page.goto(`${ui.baseUrl}/devportal/sign-up`);
    await page.getByTestId('signup-form').waitFor();
    await checkA11y(page);
    await screenshot(page, 'devportal-sign-up-phone-dark');
    assertClean(ui, page);
  });
});
