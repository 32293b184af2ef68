import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode } from '@gatehouse/cli';

it('startTestNode runs a control plane in this process on OS-chosen ports, and cleans up', async () => {
  const node = await startTestNode(['--profile', 'control-plane']);
  try {
    const res = await fetch(`${node.baseUrl}/health/ready`);
    assert.equal(res.status, 200);
    assert.ok(node.databases, 'the control plane opened its databases');
    const admin = await node.databases.shared.selectFrom('users').select('username').where('username', '=', 'admin').executeTakeFirst();
    assert.equal(admin?.username, 'admin');
  } finally {
    await node.close();
  }
});


it('every route schema of the REST APIs compiles (they compile on first use, so check them all here)', async () => {
  const node = await startTestNode(['--profile', 'control-plane']);
  try {
    assert.ok(node.controlPlane);
    const n = node.controlPlane.schemas.flush();
    assert.ok(n > 100, `compiled ${n} deferred validators and serializers`);
    assert.equal(node.controlPlane.schemas.size, 0);
  } finally {
    await node.close();
  }
});

it('turns the gateway\'s backend JWT and lease throttling on from configuration', async () => {
  const gatewayUrl = (n: { urls: readonly string[] }) => (n.urls.find((u) => u.startsWith('gateway http://')) ?? '').slice('gateway '.length);
  const plain = await startTestNode([]);
  try {
    assert.equal((await fetch(`${gatewayUrl(plain)}/health/jwks`)).status, 404, 'off by default');
  } finally {
    await plain.close();
  }
  const node = await startTestNode(['--gateway.backend_jwt', 'true', '--gateway.throttling', 'lease']);
  try {
    const jwks = (await (await fetch(`${gatewayUrl(node)}/health/jwks`)).json()) as { keys: { kty: string; d?: string }[] };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].kty, 'EC');
    assert.equal(jwks.keys[0].d, undefined, 'no private part');
    assert.equal((await fetch(`${gatewayUrl(node)}/health/ready`)).status, 200);
  } finally {
    await node.close();
  }
});
