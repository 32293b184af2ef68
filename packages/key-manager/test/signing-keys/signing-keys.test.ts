import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServerKeys } from '@gatehouse/core';
import { openDatabases } from '@gatehouse/data';
import type { DatabaseOptions } from '@gatehouse/data';
import { createSigningKeyStore } from '@gatehouse/key-manager';
import { freshPostgresDatabase, skipUnless, tempDir } from '@gatehouse/testing';
import { TEST_SECRET } from '../helpers.ts';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`signing keys (${dialect})`, { skip: dialect === 'postgres' ? await skipUnless('postgres') : false }, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('replicas starting together create exactly one current key per purpose', async () => {
      let options: DatabaseOptions;
      if (dialect === 'sqlite') {
        const dir = await tempDir('gh-km-keys-');
        cleanups.push(dir.remove);
        options = { type: 'sqlite', path: join(dir.path, 'apim.db') };
      } else {
        const db = await freshPostgresDatabase('gh_km_keys');
        cleanups.push(db.drop);
        options = { type: 'postgres', url: db.url, poolMax: 4 };
      }
      const first = await openDatabases({ apim: options, shared: options });
      await first.migrate();
      const replicas = [first, await openDatabases({ apim: options, shared: options }), await openDatabases({ apim: options, shared: options })];
      cleanups.push(async () => {
        for (const r of replicas) await r.close();
      });
      const keys = createServerKeys(TEST_SECRET);
      const stores = replicas.map((dbs) => createSigningKeyStore(dbs, keys, { accessAlg: 'ES256', clock: { now: () => Date.now() } }));
      await Promise.all(stores.map((s) => s.ensure()));
      const rows = await first.apim.selectFrom('km_signing_keys').select(['kid', 'purpose', 'status', 'private_jwk']).execute();
      assert.deepEqual(rows.map((r) => `${r.purpose}:${r.status}`).sort(), ['access:current', 'id:current']);
      for (const r of rows) assert.match(r.private_jwk, /^v1\./, 'private keys are sealed');
      const kids = await Promise.all(stores.map(async (s) => (await s.current('access')).kid));
      assert.equal(new Set(kids).size, 1, 'every replica signs with the same key');
    });
  });
}
