import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { freePorts, managementClient } from '@gatehouse/testing';
import { startTestNode, type TestNode } from '../src/test-node.ts';

// Without `server.public_url`, the config loader derives it from `https_port`, so the Key
// Manager's issuer and the Resident Key Manager Admin seeds agree whatever address a client used:
// the gateway of a plain `npm start` must accept a token fetched over http://127.0.0.1.
let node: TestNode;
let httpsPort: number;

before(async () => {
  const [https] = await freePorts(1);
  httpsPort = https!;
  node = await startTestNode(['--server.https_port', String(httpsPort)]);
});
after(() => node?.close());

test('without public_url, tokens fetched over any address carry the Resident Key Manager issuer', async () => {
  const expected = `https://localhost:${httpsPort}/oauth2/token`;
  const mgmt = managementClient(node.baseUrl, node.adminPassword, { clientName: 'issuer-regression' });
  const token = await mgmt.token('admin', node.adminPassword, 'apim:admin');
assert.equal(decodeJwt(token).iss, expected);

  const res = await fetch(`${node.baseUrl}/api/am/admin/v4/key-managers`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.clone().text());
  const list = (await res.json()) as { list: { name: string; issuer?: string; id: string }[] };
  const resident = list.list.find((km) => km.name === 'Resident Key Manager');
  assert.ok(resident, 'the Resident Key Manager is listed');
  const detail = (await (await fetch(`${node.baseUrl}/api/am/admin/v4/key-managers/${resident.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { issuer: string };
  assert.equal(detail.issuer, expected);
});
