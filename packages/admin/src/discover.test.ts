import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchJsonSafely, isInternalAddress, keyManagerFromDiscovery } from './discover.ts';

// A fake external identity provider (not ours) on loopback.
const idp = createServer((req, res) => {
  if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 400);
  if (req.url === '/redirect') {
    res.statusCode = 302;
    res.setHeader('location', 'http://169.254.169.254/latest/meta-data');
    return void res.end();
  }
  res.end(JSON.stringify({ issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks', token_endpoint: 'https://idp.example.com/token', grant_types_supported: ['client_credentials', 7] }));
});
let base = '';
before(async () => {
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
});
after(() => idp.close());

const open = { allowPrivate: true, timeoutMs: 500, maxBytes: 64 * 1024 };
const closed = { ...open, allowPrivate: false };

it('classifies loopback, private, link-local and metadata addresses as internal', () => {
  for (const ip of ['127.0.0.1', '10.2.3.4', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1']) {
    assert.ok(isInternalAddress(ip), ip);
  }
  for (const ip of ['8.8.8.8', '93.184.216.34', '2606:4700::1111']) assert.ok(!isInternalAddress(ip), ip);
});

it('refuses internal targets, by literal address and by resolved name, unless allowed', async () => {
  await assert.rejects(fetchJsonSafely(`${base}/.well-known/openid-configuration`, closed), { code: 'ADMIN_ERR_DISCOVERY_REFUSED' });
  await assert.rejects(fetchJsonSafely(`http://localhost:${(idp.address() as AddressInfo).port}/x`, closed), { code: 'ADMIN_ERR_DISCOVERY_REFUSED' });
  await assert.rejects(fetchJsonSafely('http://[::1]:1/x', closed), { code: 'ADMIN_ERR_DISCOVERY_REFUSED' });
  await assert.rejects(fetchJsonSafely('ftp://example.com/x', closed), { code: 'ADMIN_ERR_DISCOVERY_REFUSED' });
  await assert.rejects(fetchJsonSafely('http://user:pw@example.com/x', closed), { code: 'ADMIN_ERR_DISCOVERY_REFUSED' });
  assert.ok(await fetchJsonSafely(`${base}/.well-known/openid-configuration`, open));
});

it('bounds time and size and follows no redirect', async () => {
  await assert.rejects(fetchJsonSafely(`${base}/slow`, { ...open, timeoutMs: 100 }), /in time/);
  await assert.rejects(fetchJsonSafely(`${base}/big`, { ...open, maxBytes: 10 }), /larger/);
  await assert.rejects(fetchJsonSafely(`${base}/redirect`, open), /302/);
});

it('maps a discovery document to key manager fields', async () => {
  const doc = (await fetchJsonSafely(`${base}/.well-known/openid-configuration`, open)) as Record<string, unknown>;
  assert.deepEqual(keyManagerFromDiscovery(doc, `${base}/.well-known/openid-configuration`, 'Okta'), {
    type: 'Okta',
    wellKnownEndpoint: `${base}/.well-known/openid-configuration`,
    issuer: 'https://idp.example.com',
    tokenEndpoint: 'https://idp.example.com/token',
    certificates: { type: 'JWKS', value: 'https://idp.example.com/jwks' },
    availableGrantTypes: ['client_credentials'],
  });
});
