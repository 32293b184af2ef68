import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { clientBasicAuth, dcrRequest } from '@gatehouse/testing';
import { checkA11y, chromiumSkip, screenshot, signIn, startUi, type UiHarness } from './harness.ts';

const skip = chromiumSkip();
const ADMIN = '/api/am/admin/v4';

/** No CSP violation, no uncaught error, no console error while the page was used. */
function assertClean(ui: UiHarness, page: Page): void {
  assert.deepEqual(ui.problems(page).errors, [], `the page reported problems on ${page.url()}`);
}

/** The message Mantine shows under an input (its aria-describedby `…-error` element), once the input is marked invalid. */
async function fieldError(input: Locator): Promise<string> {
  await input.and(input.page().locator('[aria-invalid="true"]')).waitFor();
  const describedBy = (await input.getAttribute('aria-describedby')) ?? '';
  const id = describedBy.split(' ').find((i) => i.endsWith('-error'));
  assert.ok(id, `no error element for the input (aria-describedby="${describedBy}")`);
  return input.page().locator(`[id="${id}"]`).innerText();
}

/** Lets a dialog's opening transition finish (axe measures colours mid-fade otherwise). */
async function settled(page: Page): Promise<void> {
  // Finite ones only: a loader spins forever.
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity));
  await page.waitForTimeout(250);
}

/** axe, once transitions are over. */
async function a11y(page: Page): Promise<void> {
  await settled(page);
  await checkA11y(page);
}

/** Picks `option` in the Mantine Select labelled `label` inside `scope`. */
async function choose(page: Page, scope: Locator, label: string, option: string): Promise<void> {
  await scope.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

describe('Admin portal: policies, blocking conditions, environments, key managers, settings, approvals', { skip }, () => {
  let ui: UiHarness;
  let page: Page;
  let token: string;
  before(async () => {
    // Key manager discovery reads this node's own well-known document, on the loopback address.
    ui = await startUi(['--admin_api.discovery_allow_private', 'true']);
    token = await ui.token('apim:admin apim:tier_view apim:bl_view apim:environment_read apim:admin_operations apim:api_workflow_view');
    page = await ui.page();
    await page.goto(`${ui.baseUrl}/admin/`);
    await signIn(page, 'admin', ui.adminPassword);
  });
  after(() => ui?.close());

  it('throttling policies: subscription, advanced and custom policies are added, edited and deleted; server messages stay next to their fields', async () => {
    await page.goto(`${ui.baseUrl}/admin/throttling-policies?type=subscription`);
    await page.getByRole('cell', { name: 'Gold', exact: true }).first().waitFor();
    assert.equal(await page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Unlimited', exact: true }) }).count(), 1, 'only the subscription Unlimited');
    await page.getByRole('button', { name: 'Add subscription policy' }).click();
    let dialog = page.getByRole('dialog', { name: 'Add a subscription policy' });
    await dialog.getByTestId('policy-name').fill('Silver Plus');
    await dialog.getByLabel('Description').fill('kept on failure');
    await dialog.getByRole('textbox', { name: 'Requests', exact: true }).fill('500');
    await dialog.getByLabel('Burst limit (requests, 0 for none)').fill('10');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    assert.match(await fieldError(dialog.getByTestId('policy-name')), /must match pattern/);
    assert.equal(await dialog.getByTestId('policy-name').inputValue(), 'Silver Plus');
    assert.equal(await dialog.getByLabel('Description').inputValue(), 'kept on failure');
    await a11y(page);
    await screenshot(page, 'admin-subscription-policy-error');
    await dialog.getByTestId('policy-name').fill('SilverPlus');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'SilverPlus', exact: true }).first().waitFor();
    const subs = await ui.call<{ list: { policyId: string; policyName: string; defaultLimit: { requestCount: { requestCount: number } }; rateLimitCount: number; rateLimitTimeUnit: string }[] }>('GET', `${ADMIN}/throttling/policies/subscription`, token);
    const silver = subs.body.list.find((p) => p.policyName === 'SilverPlus');
    assert.equal(silver?.defaultLimit.requestCount.requestCount, 500);
    assert.equal(silver?.rateLimitCount, 10);
    assert.equal(silver?.rateLimitTimeUnit, 'sec');

    // Edit: the name is fixed, the limit changes.
    await page.getByRole('button', { name: 'Edit SilverPlus' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit the subscription policy' });
    assert.equal(await dialog.getByTestId('policy-name').isDisabled(), true);
    assert.equal(await dialog.getByRole('textbox', { name: 'Requests', exact: true }).inputValue(), '500');
    await dialog.getByRole('textbox', { name: 'Requests', exact: true }).fill('750');
    await a11y(page);
    await screenshot(page, 'admin-subscription-policy-edit');
    await dialog.getByRole('button', { name: 'Save policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    const edited = await ui.call<{ defaultLimit: { requestCount: { requestCount: number } } }>('GET', `${ADMIN}/throttling/policies/subscription/${silver!.policyId}`, token);
    assert.equal(edited.body.defaultLimit.requestCount.requestCount, 750);

    // Advanced (bandwidth limit).
    await page.getByTestId('policy-kind-filter').getByText('Advanced', { exact: true }).click();
    await page.waitForURL(/type=advanced/);
    await page.getByRole('button', { name: 'Add advanced policy' }).click();
    dialog = page.getByRole('dialog', { name: 'Add an advanced policy' });
    await dialog.getByTestId('policy-name').fill('Bandwidth5MB');
    await choose(page, dialog, 'Limit type', 'Bandwidth');
    await dialog.getByRole('textbox', { name: 'Data amount', exact: true }).fill('5');
    // A conditional group: requests from one address get their own limit; the server checks the address.
    await dialog.getByTestId('add-group').click();
    const group = dialog.getByTestId('group-0');
    await group.getByLabel('Group description').fill('the office');
    await choose(page, group, 'Condition type', 'IP address');
    await group.getByRole('textbox', { name: 'IP address', exact: true }).fill('999.1.1.1');
    await group.getByRole('textbox', { name: 'Group requests', exact: true }).fill('50');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    assert.match(await fieldError(group.getByRole('textbox', { name: 'IP address', exact: true })), /must be an IPv4 or IPv6 address/);
    assert.equal(await group.getByLabel('Group description').inputValue(), 'the office');
    await a11y(page);
    await screenshot(page, 'admin-advanced-policy-group-error');
    await group.getByRole('textbox', { name: 'IP address', exact: true }).fill('10.0.0.1');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'Bandwidth5MB', exact: true }).first().waitFor();
    const adv = await ui.call<{ list: { policyId: string; policyName: string; defaultLimit: { type: string; bandwidth?: { dataAmount: number; dataUnit: string } } }[] }>('GET', `${ADMIN}/throttling/policies/advanced`, token);
    const bw = adv.body.list.find((p) => p.policyName === 'Bandwidth5MB')!;
    assert.deepEqual(bw.defaultLimit.bandwidth, { dataAmount: 5, dataUnit: 'MB', unitTime: 1, timeUnit: 'min' });
    const full = await ui.call<{ conditionalGroups: unknown[] }>('GET', `${ADMIN}/throttling/policies/advanced/${bw.policyId}`, token);
    assert.deepEqual(full.body.conditionalGroups, [
      { description: 'the office', conditions: [{ type: 'IPCONDITION', invertCondition: false, ipCondition: { ipConditionType: 'IPSPECIFIC', specificIP: '10.0.0.1' } }], limit: { type: 'REQUESTCOUNTLIMIT', requestCount: { requestCount: 50, unitTime: 1, timeUnit: 'min' } } },
    ]);
    // Editing shows the group as saved.
    await page.getByRole('button', { name: 'Edit Bandwidth5MB' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit the advanced policy' });
    assert.equal(await dialog.getByTestId('group-0').getByRole('textbox', { name: 'IP address', exact: true }).inputValue(), '10.0.0.1');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // Custom rule: the server checks the key template.
    await page.getByTestId('policy-kind-filter').getByText('Custom', { exact: true }).click();
    await page.getByRole('button', { name: 'Add custom policy' }).click();
    dialog = page.getByRole('dialog', { name: 'Add a custom policy' });
    await dialog.getByTestId('policy-name').fill('PerUserLimit');
    await dialog.getByLabel('Key template').fill('$nonsense');
    await dialog.getByLabel('Siddhi query').fill("FROM RequestStream SELECT userId, ( userId == 'admin@carbon.super' ) AS isEligible , str:concat('admin@carbon.super','') as throttleKey INSERT INTO EligibilityStream;");
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    const keyError = await fieldError(dialog.getByLabel('Key template'));
    assert.ok(keyError.length > 0);
    await a11y(page);
    await screenshot(page, 'admin-custom-policy-error');
    await dialog.getByLabel('Key template').fill('$userId');
    await dialog.getByRole('button', { name: 'Add policy' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'PerUserLimit', exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'Delete PerUserLimit' }).click();
    await page.getByRole('dialog', { name: 'Delete the throttling policy' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: 'PerUserLimit', exact: true }).first().waitFor({ state: 'detached' });
    assertClean(ui, page);
  });

  it('blocking conditions: add each kind with the server checking the value, turn one off, delete', async () => {
    await page.goto(`${ui.baseUrl}/admin/blocking-conditions`);
    await page.getByTestId('empty-state').waitFor();
    await a11y(page);
    await page.getByTestId('add-condition').click();
    const dialog = page.getByRole('dialog', { name: 'Add a blocking condition' });
    await dialog.getByTestId('condition-value').fill('pizzashack/1.0.0');
    await dialog.getByTestId('condition-save').click();
    assert.match(await fieldError(dialog.getByTestId('condition-value')), /must be an API context starting with \//);
    assert.equal(await dialog.getByTestId('condition-value').inputValue(), 'pizzashack/1.0.0');
    await a11y(page);
    await screenshot(page, 'admin-blocking-condition-error');
    await dialog.getByTestId('condition-value').fill('/pizzashack/1.0.0');
    await dialog.getByTestId('condition-save').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: '/pizzashack/1.0.0', exact: true }).waitFor();

    const add = async (type: string, fill: (d: Locator) => Promise<void>) => {
      await page.getByTestId('add-condition').click();
      await choose(page, dialog, 'Condition type', type);
      await fill(dialog);
      await dialog.getByTestId('condition-save').click();
    };
    await add('IP address', (d) => d.getByTestId('condition-ip').fill('300.1.1.1'));
    assert.match(await fieldError(dialog.getByTestId('condition-ip')), /IPv4 or IPv6/);
    await dialog.getByTestId('condition-ip').fill('203.0.113.7');
    await dialog.getByTestId('condition-save').click();
    await dialog.waitFor({ state: 'detached' });
    await add('IP range', async (d) => {
      await d.getByTestId('condition-start-ip').fill('198.51.100.0');
      await d.getByTestId('condition-end-ip').fill('198.51.100.255');
    });
    await dialog.waitFor({ state: 'detached' });
    await add('Application', (d) => d.getByTestId('condition-value').fill('admin:DefaultApplication'));
    await dialog.waitFor({ state: 'detached' });
    await add('User', (d) => d.getByTestId('condition-value').fill('mallory'));
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'mallory', exact: true }).waitFor();
    await page.getByRole('cell', { name: '198.51.100.0 – 198.51.100.255', exact: true }).waitFor();

    const mallory = page.getByRole('switch', { name: 'Enabled: User mallory' });
    assert.equal(await mallory.isChecked(), true);
    await mallory.click({ force: true });
    await page.waitForFunction(() => (document.querySelector('[aria-label="Enabled: User mallory"]') as HTMLInputElement | null)?.checked === false);
    const listed = await ui.call<{ list: { conditionType: string; conditionValue: unknown; conditionStatus: boolean }[] }>('GET', `${ADMIN}/throttling/deny-policies`, token);
    assert.equal(listed.body.list.length, 5);
    assert.equal(listed.body.list.find((c) => c.conditionValue === 'mallory')?.conditionStatus, false);
    assert.deepEqual(listed.body.list.find((c) => c.conditionType === 'IPRANGE')?.conditionValue, { startingIp: '198.51.100.0', endingIp: '198.51.100.255', invert: false });
    await a11y(page);
    await screenshot(page, 'admin-blocking-conditions');

    await page.getByRole('button', { name: 'Delete User mallory' }).click();
    await page.getByRole('dialog', { name: 'Delete the blocking condition' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: 'mallory', exact: true }).waitFor({ state: 'detached' });
    assertClean(ui, page);
  });

  it('gateway environments: the Default one shows its live gateway; add one (server checks the host), edit its vhosts, delete it', async () => {
    await page.goto(`${ui.baseUrl}/admin/environments`);
    await page.getByRole('cell', { name: /^Default/ }).first().waitFor();
    await page.getByRole('button', { name: '1 of 1 active: gateways of Default' }).click();
    const gateways = page.getByRole('dialog', { name: 'Gateways of Default' });
    await gateways.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    await a11y(page);
    await screenshot(page, 'admin-environment-gateways');
    await page.keyboard.press('Escape');
    await gateways.waitFor({ state: 'detached' });

    await page.getByTestId('add-environment').click();
    let dialog = page.getByRole('dialog', { name: 'Add a gateway environment' });
    await dialog.getByTestId('environment-name').fill('eu-west');
    await dialog.getByLabel('Display name').fill('EU West');
    await dialog.getByTestId('vhost-0-host').fill('bad host!');
    await dialog.getByTestId('environment-save').click();
    assert.match(await fieldError(dialog.getByTestId('vhost-0-host')), /must match pattern/);
    assert.equal(await dialog.getByTestId('environment-name').inputValue(), 'eu-west');
    await a11y(page);
    await screenshot(page, 'admin-environment-form-error');
    await dialog.getByTestId('vhost-0-host').fill('eu.api.example.com');
    await dialog.getByTestId('environment-save').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'eu-west', exact: true }).waitFor();
    await page.getByRole('button', { name: 'none registered: gateways of eu-west' }).waitFor();

    await page.getByRole('button', { name: 'Edit eu-west' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit eu-west' });
    await dialog.getByTestId('add-vhost').click();
    await dialog.getByTestId('vhost-1-host').fill('eu2.api.example.com');
    await dialog.getByTestId('vhost-1-https-port').fill('8443');
    await dialog.getByTestId('environment-save').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('eu2.api.example.com :80/8443').waitFor();
    const envs = await ui.call<{ list: { name: string; vhosts: { host: string; httpsPort: number }[] }[] }>('GET', `${ADMIN}/environments`, token);
    assert.deepEqual(envs.body.list.find((e) => e.name === 'eu-west')?.vhosts.map((v) => [v.host, v.httpsPort]), [['eu.api.example.com', 443], ['eu2.api.example.com', 8443]]);
    await a11y(page);
    await screenshot(page, 'admin-environments');

    await page.getByRole('button', { name: 'Delete eu-west' }).click();
    await page.getByRole('dialog', { name: 'Delete the gateway environment' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: 'eu-west', exact: true }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Delete Default' }).count(), 0, 'the configured environment cannot be deleted');
    assertClean(ui, page);
  });

  it('key managers: an external one is added from its well-known URL with a connector client, turned off, edited (its secret kept), and deleted', async () => {
    await page.goto(`${ui.baseUrl}/admin/key-managers`);
    await page.getByRole('cell', { name: 'Resident Key Manager', exact: true }).waitFor();
    await page.getByTestId('add-key-manager').click();
    const dialog = page.getByRole('dialog', { name: 'Add a key manager' });
    await dialog.getByTestId('key-manager-name').fill('CorpIdP');
    await dialog.getByTestId('key-manager-well-known').fill(`${ui.baseUrl}/.well-known/openid-configuration`);
    await dialog.getByTestId('key-manager-discover').click();
    await dialog.getByTestId('discovery-result').getByText(/filled in/).waitFor();
    const tokenEndpoint = await dialog.getByTestId('key-manager-tokenEndpoint').inputValue();
    assert.match(tokenEndpoint, /\/oauth2\/token$/);
    assert.notEqual(await dialog.getByTestId('key-manager-jwksUri').inputValue(), '');
    // The connector: the client the gateways introspect its opaque tokens with, and which tokens those are.
    await dialog.getByTestId('key-manager-client-id').fill('gw-client-1');
    await dialog.getByLabel('Client secret').fill('corp-secret-1');
    const pattern = dialog.getByTestId('key-manager-token-pattern-0');
    await pattern.fill('corp-[a-z0-9');
    assert.match(await fieldError(pattern), /^Not a regular expression/, 'checked as it is typed');
    await pattern.fill('corp-[a-z0-9]+');
    await pattern.and(page.locator('[aria-invalid="true"]')).waitFor({ state: 'detached' });
    await a11y(page);
    await screenshot(page, 'admin-key-manager-discovered');
    // The server refuses a second key manager with the Resident one's issuer? Either way, a clash of names is refused.
    await dialog.getByTestId('key-manager-name').fill('Resident Key Manager');
    await dialog.getByTestId('key-manager-save').click();
    await dialog.getByTestId('form-error').waitFor();
    assert.equal(await dialog.getByTestId('key-manager-tokenEndpoint').inputValue(), tokenEndpoint, 'input kept after the refusal');
    assert.equal(await dialog.getByLabel('Client secret').inputValue(), 'corp-secret-1', 'the secret kept after the refusal');
    await dialog.getByTestId('key-manager-name').fill('CorpIdP');
    await dialog.getByTestId('key-manager-save').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'CorpIdP', exact: true }).waitFor();

    const toggle = page.getByRole('switch', { name: 'Enabled: CorpIdP' });
    await toggle.click({ force: true });
    await page.waitForFunction(() => (document.querySelector('[aria-label="Enabled: CorpIdP"]') as HTMLInputElement | null)?.checked === false);
    const kms = await ui.call<{ list: { id: string; name: string; enabled: boolean }[] }>('GET', `${ADMIN}/key-managers`, token);
    const corp = kms.body.list.find((k) => k.name === 'CorpIdP');
    assert.equal(corp?.enabled, false);
    const full = await ui.call<{ tokenEndpoint: string; introspectionEndpoint: string; certificates: { type: string } }>('GET', `${ADMIN}/key-managers/${corp!.id}`, token);
    assert.equal(full.body.tokenEndpoint, tokenEndpoint, 'turning it off kept the other fields');
    assert.equal(full.body.certificates.type, 'JWKS');
    await a11y(page);
    await screenshot(page, 'admin-key-managers');

    // Edit: a new client id, the secret left empty (kept); a refused save keeps what was typed.
    await page.getByRole('button', { name: 'Edit CorpIdP' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit CorpIdP' });
    assert.equal(await edit.getByTestId('key-manager-client-id').inputValue(), 'gw-client-1');
    assert.equal(await edit.getByTestId('key-manager-name').isDisabled(), true);
    assert.equal(await edit.getByLabel('Client secret').inputValue(), '', 'the secret is never shown');
    await edit.getByText('Leave empty to keep the stored secret').waitFor();
    assert.equal(await edit.getByTestId('key-manager-token-pattern-0').inputValue(), 'corp-[a-z0-9]+');
    await edit.getByTestId('key-manager-client-id').fill('gw-client-2');
    await edit.getByTestId('key-manager-description').fill('x'.repeat(300));
    await edit.getByTestId('key-manager-save').click();
    assert.match(await fieldError(edit.getByTestId('key-manager-description')), /256/);
    assert.equal(await edit.getByTestId('key-manager-client-id').inputValue(), 'gw-client-2', 'input kept after the refusal');
    await edit.getByTestId('key-manager-description').fill('Corporate identity provider');
    await edit.getByTestId('key-manager-connector').scrollIntoViewIfNeeded();
    await a11y(page);
    await screenshot(page, 'admin-key-manager-edit');
    await edit.getByTestId('key-manager-save').click();
    await edit.waitFor({ state: 'detached' });
    const edited = await ui.call<{ description: string; enabled: boolean; tokenEndpoint: string; additionalProperties: Record<string, unknown>; tokenValidation: unknown[] }>('GET', `${ADMIN}/key-managers/${corp!.id}`, token);
    assert.equal(edited.body.additionalProperties.client_id, 'gw-client-2');
    assert.equal(edited.body.additionalProperties.client_secret, undefined, 'Admin never answers the secret');
    assert.deepEqual(edited.body.tokenValidation, [{ enable: true, type: 'REFERENCE', value: 'corp-[a-z0-9]+' }]);
    assert.equal(edited.body.description, 'Corporate identity provider');
    assert.equal(edited.body.enabled, false, 'the edit kept the other fields');
    assert.equal(edited.body.tokenEndpoint, tokenEndpoint);
    // The secret is still stored: the internal data API hands it to a gateway's (internal) client.
    const registered = await dcrRequest(ui.baseUrl, 'admin', ui.adminPassword, { clientName: 'gatehouse-internal-ui-e2e', owner: 'admin', grantType: 'client_credentials' });
    assert.equal(registered.status, 200);
    const gw = (await registered.json()) as { clientId: string; clientSecret: string };
    const granted = await fetch(`${ui.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: clientBasicAuth(gw.clientId, gw.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=apim:admin',
    });
    assert.equal(granted.status, 200);
    const gwToken = ((await granted.json()) as { access_token: string }).access_token;
    const internal = await ui.call<{ list: { name: string; introspection?: { endpoint: string; clientId?: string; clientSecret?: string; tokenPatterns?: string[] } }[] }>('GET', '/internal/data/v1/keymanagers', gwToken);
    const introspection = internal.body.list.find((k) => k.name === 'CorpIdP')?.introspection;
    assert.deepEqual(introspection, { endpoint: full.body.introspectionEndpoint, clientId: 'gw-client-2', clientSecret: 'corp-secret-1', tokenPatterns: ['corp-[a-z0-9]+'] });

    // The Resident Key Manager is edited too, but its type and endpoints are Gatehouse's own, and it has no connector.
    await page.getByRole('button', { name: 'Edit Resident Key Manager' }).click();
    const resident = page.getByRole('dialog', { name: 'Edit Resident Key Manager' });
    await resident.getByTestId('key-manager-form').waitFor();
    assert.equal(await resident.getByTestId('key-manager-issuer').isDisabled(), true);
    assert.equal(await resident.getByTestId('key-manager-connector').count(), 0);
    await page.keyboard.press('Escape');
    await resident.waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Delete CorpIdP' }).click();
    await page.getByRole('dialog', { name: 'Delete the key manager' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: 'CorpIdP', exact: true }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Delete Resident Key Manager' }).count(), 0);
    assertClean(ui, page);
  });

  it('a refused save’s message stayed until the next save: now it goes once the form is edited, its dialog closed and reopened, or the page left; what was typed stays', async () => {
    const nav = (name: string) => page.getByRole('navigation', { name: 'Admin menu' }).getByRole('link', { name, exact: true });
    // A message for the whole form (a key manager of that name exists): any edit takes it away.
    await page.goto(`${ui.baseUrl}/admin/key-managers`);
    await page.getByRole('cell', { name: 'Resident Key Manager', exact: true }).waitFor();
    await page.getByTestId('add-key-manager').click();
    const km = page.getByRole('dialog', { name: 'Add a key manager' });
    const kmAlert = km.getByTestId('form-error');
    const typed = async () => [await km.getByTestId('key-manager-name').inputValue(), await km.getByTestId('key-manager-issuer').inputValue(), await km.getByTestId('key-manager-description').inputValue()];
    await km.getByTestId('key-manager-name').fill('Resident Key Manager');
    await km.getByTestId('key-manager-issuer').fill('https://idp.example.com');
    await km.getByTestId('key-manager-save').click();
    await kmAlert.getByText(/already exists/).waitFor();
    await a11y(page);
    await km.getByTestId('key-manager-description').fill('Partner IdP');
    await kmAlert.waitFor({ state: 'detached' });
    assert.deepEqual(await typed(), ['Resident Key Manager', 'https://idp.example.com', 'Partner IdP']);
    await a11y(page);

    // Refused again, then closed: reopened, the dialog has what was typed and not the message.
    await km.getByTestId('key-manager-save').click();
    await kmAlert.waitFor();
    await page.keyboard.press('Escape');
    await km.waitFor({ state: 'hidden' });
    await page.getByTestId('add-key-manager').click();
    await km.getByTestId('key-manager-name').waitFor();
    assert.equal(await kmAlert.count(), 0, 'the message of the last attempt is gone');
    assert.deepEqual(await typed(), ['Resident Key Manager', 'https://idp.example.com', 'Partner IdP'], 'the draft is kept');
    await a11y(page);
    await screenshot(page, 'admin-key-manager-reopened');
    // Opened for another item, the dialog shows that item; the draft was for the one before.
    await page.keyboard.press('Escape');
    await km.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Edit Resident Key Manager' }).click();
    const resident = page.getByRole('dialog', { name: 'Edit Resident Key Manager' });
    await resident.getByTestId('key-manager-form').waitFor();
    assert.equal(await resident.getByTestId('form-error').count(), 0);
    assert.equal(await resident.getByTestId('key-manager-description').inputValue(), 'This is Resident Key Manager');
    await page.keyboard.press('Escape');
    await resident.waitFor({ state: 'hidden' });
    await page.getByTestId('add-key-manager').click();
    assert.equal(await km.getByTestId('key-manager-name').inputValue(), '');
    await page.keyboard.press('Escape');
    await km.waitFor({ state: 'hidden' });

    // Messages next to a field: the alert goes with any edit, the field's message when that field is edited.
    await nav('Blocking conditions').click();
    await page.getByTestId('add-condition').click();
    const bc = page.getByRole('dialog', { name: 'Add a blocking condition' });
    const bcAlert = bc.getByTestId('form-error');
    const value = bc.getByTestId('condition-value');
    const invalid = value.and(page.locator('[aria-invalid="true"]'));
    await value.fill('shop/1.0.0');
    await bc.getByTestId('condition-save').click();
    assert.match(await fieldError(value), /must be an API context starting with \//);
    await bcAlert.getByText('Check the highlighted fields.').waitFor();
    await bc.getByLabel('Enabled', { exact: true }).click();
    await bcAlert.waitFor({ state: 'detached' });
    assert.match(await fieldError(value), /must be an API context starting with \//, 'another field was edited');
    await value.fill('shop/2.0.0');
    await invalid.waitFor({ state: 'detached' });
    assert.equal(await value.inputValue(), 'shop/2.0.0');
    await a11y(page);
    await bc.getByTestId('condition-save').click();
    await fieldError(value);
    await bcAlert.waitFor();
    await page.keyboard.press('Escape');
    await bc.waitFor({ state: 'hidden' });
    await page.getByTestId('add-condition').click();
    await value.waitFor();
    assert.equal(await value.inputValue(), 'shop/2.0.0');
    assert.equal(await bc.getByLabel('Enabled', { exact: true }).isChecked(), false);
    assert.equal(await bcAlert.count(), 0);
    assert.equal(await invalid.count(), 0, 'the server’s verdict on the last attempt is gone');
    await a11y(page);
    await page.keyboard.press('Escape');
    await bc.waitFor({ state: 'hidden' });

    // A page left and come back to shows no message of a save made before.
    await nav('Settings').click();
    const sw = page.getByRole('switch', { name: 'User sign-up', exact: true });
    await sw.waitFor({ state: 'attached' });
    await page.route('**/api/am/admin/v4/tenant-config', async (route) => {
      if (route.request().method() !== 'PUT') return route.fallback();
      const message = 'The settings are being changed by another administrator';
      await route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ code: 409, message, description: message, moreInfo: '', error: [] }) });
    });
    try {
      await sw.click({ force: true });
      await page.getByTestId('settings-save').click();
      await page.getByTestId('form-error').getByText(/another administrator/).waitFor();
      await nav('Approvals').click();
      await page.waitForURL(/\/admin\/workflows$/);
      await nav('Settings').click();
      await sw.waitFor({ state: 'attached' });
      assert.equal(await page.getByTestId('form-error').count(), 0);
      assert.equal(await sw.isChecked(), false, 'nothing was saved');
    } finally {
      await page.unroute('**/api/am/admin/v4/tenant-config');
    }
    assertClean(ui, page);
  });

  it('settings: approval workflows are switched on; a refused save keeps the switches and shows the message next to the switch', async () => {
    await page.goto(`${ui.baseUrl}/admin/`);
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.waitForURL(/\/admin\/settings$/);
    const sw = (name: string) => page.getByRole('switch', { name, exact: true });
    await sw('Subscription creation').waitFor({ state: 'attached' });
    for (const name of ['Application creation', 'Subscription creation', 'User sign-up']) assert.equal(await sw(name).isChecked(), false, `${name} is off by default`);
    await a11y(page);
    await screenshot(page, 'admin-settings');

    // The server refuses the document once (answered here, as no switch can send a bad value): the switch stays on, the message sits under it.
    let refused = 0;
    await page.route('**/api/am/admin/v4/tenant-config', async (route) => {
      if (route.request().method() !== 'PUT' || refused++ > 0) return route.fallback();
      const message = 'body.Workflows.SubscriptionCreation: cannot be switched on while maintenance is running';
      await route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ code: 901300, message: 'Bad Request', description: message, moreInfo: '', error: [{ code: 901300, message }] }) });
    });
    await sw('Subscription creation').click({ force: true });
    await page.getByTestId('settings-save').click();
    await page.getByTestId('form-error').getByText('Check the highlighted fields.').waitFor();
    const describedBy = (await sw('Subscription creation').getAttribute('aria-describedby')) ?? '';
    const errorId = describedBy.split(' ').find((i) => i.endsWith('-error'));
    assert.ok(errorId, `no error under the switch (aria-describedby="${describedBy}")`);
    assert.match(await page.locator(`[id="${errorId}"]`).innerText(), /maintenance is running/);
    assert.equal(await sw('Subscription creation').isChecked(), true, 'what the user changed is kept');
    const unchanged = await ui.call<{ Workflows: Record<string, boolean> }>('GET', `${ADMIN}/tenant-config`, token);
    assert.equal(unchanged.body.Workflows.SubscriptionCreation, false);
    await a11y(page);
    await screenshot(page, 'admin-settings-error');
    await page.unroute('**/api/am/admin/v4/tenant-config');

    // Saved for real, with the other two switches: the approvals test below relies on all three.
    await sw('Application creation').click({ force: true });
    await sw('User sign-up').click({ force: true });
    await page.getByTestId('settings-save').click();
    await page.getByTestId('saved-note').getByText('Settings saved').waitFor();
    assert.equal(await page.getByTestId('form-error').count(), 0);
    const stored = await ui.call<{ Workflows: Record<string, boolean> }>('GET', `${ADMIN}/tenant-config`, token);
    assert.deepEqual(stored.body.Workflows, { ApplicationCreation: true, SubscriptionCreation: true, UserSignup: true });
    await page.reload();
    await sw('Subscription creation').waitFor({ state: 'attached' });
    for (const name of ['Application creation', 'Subscription creation', 'User sign-up']) assert.equal(await sw(name).isChecked(), true, `${name} is on after a reload`);
    assertClean(ui, page);
  });

  it('approvals: a pending sign-up and subscription are approved, a pending application is rejected', async () => {
    // The workflows were switched on on the Settings page, in the test above.
    const config = await ui.call<{ Workflows: Record<string, boolean> }>('GET', `${ADMIN}/tenant-config`, token);
    assert.deepEqual(config.body.Workflows, { ApplicationCreation: true, SubscriptionCreation: true, UserSignup: true });
    const signup = await ui.call('POST', '/api/identity/user/v1.0/me', '', { user: { username: 'dave', realm: 'PRIMARY', password: 'dave-password-1', claims: [] }, properties: [] });
    assert.equal(signup.status, 201, JSON.stringify(signup.body));
    const devportal = await ui.token('apim:subscribe apim:app_manage');
    const app = await ui.call<{ applicationId: string; status: string }>('POST', '/api/am/devportal/v3/applications', devportal, { name: 'PendingApp', throttlingPolicy: 'Unlimited' });
    assert.equal(app.status, 202, JSON.stringify(app.body));
    assert.equal(app.body.status, 'CREATED', 'the application waits for approval');

    // A published API (REST) and a subscription to it by an approved application, pending too.
    const provider = await ui.token('apim:api_create apim:api_view apim:api_publish');
    const created = await ui.call<{ id: string }>('POST', '/api/am/publisher/v4/apis', provider, { name: 'Approvable', version: '1.0.0', context: '/approvable', policies: ['Unlimited'], endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'http://127.0.0.1:9' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await ui.call('POST', `/api/am/publisher/v4/apis/change-lifecycle?apiId=${created.body.id}&action=Publish`, provider)).status, 200);
    const approvedApp = await ui.call<{ applicationId: string }>('POST', '/api/am/devportal/v3/applications', devportal, { name: 'SubscriberApp', throttlingPolicy: 'Unlimited' });
    const appFlow = await ui.call<{ list: { referenceId: string; properties: Record<string, unknown> }[] }>('GET', `${ADMIN}/workflows?workflowType=AM_APPLICATION_CREATION`, token);
    for (const wf of appFlow.body.list.filter((w) => JSON.stringify(w.properties).includes('SubscriberApp'))) {
      assert.equal((await ui.call('POST', `${ADMIN}/workflows/update-workflow-status?workflowReferenceId=${wf.referenceId}`, await ui.token('apim:api_workflow_approve'), { status: 'APPROVED' })).status, 200);
    }
    const sub = await ui.call<{ subscriptionId: string; status: string }>('POST', '/api/am/devportal/v3/subscriptions', devportal, { applicationId: approvedApp.body.applicationId, apiId: created.body.id, throttlingPolicy: 'Unlimited' });
    assert.ok(sub.status === 201 || sub.status === 202, JSON.stringify(sub.body));
    assert.equal(sub.body.status, 'ON_HOLD', 'the subscription waits for approval');

    await page.goto(`${ui.baseUrl}/admin/workflows`);
    await page.getByRole('cell', { name: 'Subscription creation', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'User sign-up', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'Application creation', exact: true }).waitFor();
    await a11y(page);
    await screenshot(page, 'admin-approvals');

    const row = (type: string) => page.getByRole('row').filter({ has: page.getByRole('cell', { name: type }) });
    await row('User sign-up').getByRole('button', { name: /^Approve/ }).click();
    await page.getByRole('cell', { name: 'User sign-up', exact: true }).waitFor({ state: 'detached' });
    // The approved user can now sign in (a password grant works).
    assert.ok(await ui.token('apim:subscribe', 'dave', 'dave-password-1'));

    // Filtered to subscriptions, approved: the subscription is active.
    await choose(page, page.locator('main'), 'Request type', 'Subscription creation');
    await page.waitForURL(/type=SUBSCRIPTION_CREATION/);
    await page.getByRole('cell', { name: 'Application creation', exact: true }).waitFor({ state: 'detached' });
    await row('Subscription creation').getByRole('button', { name: /^Approve/ }).click();
    await page.getByTestId('empty-state').waitFor();
    const active = await ui.call<{ status: string }>('GET', `/api/am/devportal/v3/subscriptions/${sub.body.subscriptionId}`, devportal);
    assert.equal(active.body.status, 'UNBLOCKED', JSON.stringify(active.body));
    await choose(page, page.locator('main'), 'Request type', 'All requests');

    await row('Application creation').getByRole('button', { name: /^Reject/ }).click();
    const reject = page.getByRole('dialog', { name: 'Reject the request' });
    await reject.getByTestId('reject-note').fill('Use your team application');
    await a11y(page);
    await reject.getByRole('button', { name: 'Reject' }).click();
    await reject.waitFor({ state: 'detached' });
    await page.getByTestId('empty-state').waitFor();
    const after = await ui.call<{ status: string }>('GET', `/api/am/devportal/v3/applications/${app.body.applicationId}`, devportal);
    assert.equal(after.body.status, 'REJECTED', JSON.stringify(after.body));
    assertClean(ui, page);
  });

  it('every Admin page passes axe in the dark theme on a phone', async () => {
    const phone = await ui.page({ colorScheme: 'dark', viewport: { width: 390, height: 844 } });
    await phone.goto(`${ui.baseUrl}/admin/blocking-conditions`);
    await signIn(phone, 'admin', ui.adminPassword);
    for (const [path, ready] of [
      ['throttling-policies', 'Gold'],
      ['blocking-conditions', '/pizzashack/1.0.0'],
      ['environments', 'Default'],
      ['key-managers', 'Resident Key Manager'],
    ] as const) {
      await phone.goto(`${ui.baseUrl}/admin/${path}`);
      await phone.getByRole('cell', { name: ready }).first().waitFor();
      await a11y(phone);
      await screenshot(phone, `admin-${path}-phone-dark`);
    }
    await phone.goto(`${ui.baseUrl}/admin/workflows`);
    await phone.getByTestId('empty-state').waitFor();
    await a11y(phone);
    await phone.goto(`${ui.baseUrl}/admin/settings`);
    await phone.getByRole('switch', { name: 'Subscription creation', exact: true }).waitFor({ state: 'attached' });
    await a11y(phone);
    await screenshot(phone, 'admin-settings-phone-dark');
    assertClean(ui, phone);
  });
});
