import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FakeClock, tempDir } from '@gatehouse/testing';
import { openLocalStore } from '../src/index.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(() => dir.remove());

it('keeps JSON values per namespace and key, across a reopen', async () => {
  const clock = new FakeClock(1_000);
  const path = join(dir.path, 'node', 'local.db');
  const store = await openLocalStore({ path, clock });
  await store.put('snapshot', 'Default', { apis: [{ id: 'a' }], seq: 7 });
  await store.put('snapshot', 'Internal', { apis: [], seq: 1 });
  await store.put('other', 'Default', 'x');
  clock.advance(5);
  await store.put('snapshot', 'Default', { apis: [{ id: 'a' }, { id: 'b' }], seq: 8 });
  await store.close();

  const again = await openLocalStore({ path, clock });
  try {
    assert.deepEqual(await again.get('snapshot', 'Default'), { apis: [{ id: 'a' }, { id: 'b' }], seq: 8 });
    assert.equal(await again.get('snapshot', 'missing'), undefined);
    const all = await again.list<{ seq: number }>('snapshot');
    assert.deepEqual(all.map((e) => [e.key, e.value.seq, e.updatedAt]), [['Default', 8, 1_005], ['Internal', 1, 1_000]]);
    await again.delete('snapshot', 'Internal');
    assert.deepEqual((await again.list('snapshot')).map((e) => e.key), ['Default']);
    assert.equal(await again.get('other', 'Default'), 'x');
  } finally {
    await again.close();
  }
});

it('putMany writes several entries in one transaction: all of them or none', async () => {
  const clock = new FakeClock(2_000);
  const store = await openLocalStore({ path: join(dir.path, 'many', 'local.db'), clock });
  try {
    await store.put('state', 'meta', { format: 1 });
    await store.putMany('state', [['meta', { format: 2 }], ['apis', [{ id: 'a' }]]]);
    assert.deepEqual((await store.list('state')).map((e) => [e.key, e.value]), [['apis', [{ id: 'a' }]], ['meta', { format: 2 }]]);
    // A value that cannot be written fails the whole call, and the entries before it stay as they were.
    await assert.rejects(store.putMany('state', [['meta', { format: 3 }], ['apis', { n: 1n }]]));
    assert.deepEqual(await store.get('state', 'meta'), { format: 2 });
    await store.putMany('state', []);
  } finally {
    await store.close();
  }
});
