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
