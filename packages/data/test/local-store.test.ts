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
