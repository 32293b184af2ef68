import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { openLocalStore, type LocalStore } from '@gatehouse/data';
import type { Logger } from '@gatehouse/runtime';
import { tempDir } from '@gatehouse/testing';
import { SNAPSHOT_FORMAT, SnapshotStore, STATE_SECTIONS, type GatewayState, type StateSection } from '../src/snapshot.ts';

// The gateway's snapshot in the node's local store: one transaction per write, changed sections
// only and batched, and a snapshot of another format, for other environments or damaged is
// ignored with a log line, never half-applied.

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(() => dir.remove());

function capture(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger: Logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
  return { logger, lines };
}

function state(over: Partial<GatewayState> = {}): GatewayState {
  return {
    artifacts: [
      {
        schemaVersion: 1, apiId: 'api-1', revisionId: 'r1', name: 'Orders', context: '/orders', version: 'v1', isDefaultVersion: false, lifeCycleStatus: 'PUBLISHED',
        operations: [{ target: '/items', verb: 'GET', authType: 'Application & Application User', scopes: [] }],
        endpoints: { type: 'http', production: { urls: ['http://127.0.0.1:1'] }, sandbox: null }, cors: null, environment: 'Default', vhost: 'localhost', checksum: 'c1',
      },
    ],
    subscriptions: [{ applicationId: 'app-1', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Gold' }],
    applications: [{ id: 'app-1', name: 'Shop', owner: 'alice', tier: 'Unlimited' }],
    keyMappings: [{ keyManager: 'Resident Key Manager', consumerKey: 'ck-1', applicationId: 'app-1', keyType: 'PRODUCTION' }],
    policies: [{ name: 'Gold', kind: 'subscription', defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 5000 } }, details: {} }],
    keyManagers: [{ name: 'Resident Key Manager', type: 'default', enabled: true, issuer: 'https://km.test', consumerKeyClaim: 'azp', scopesClaim: 'scope', jwks: { keys: [{ kty: 'EC' }] } }],
    jwks: [{ uri: 'https://idp.test/jwks', jwks: { keys: [{ kty: 'RSA', kid: 'idp-1' }] }, uat: 1_700_000_000_000 }],
    revoked: [{ jti: 'jti-1', exp: 4_000_000_000 }],
    blockingConditions: [{ id: 'b1', conditionType: 'IP', conditionValue: { fixedIp: '198.51.100.7', invert: false }, conditionStatus: true }],
    ...over,
  };
}

/** A local store that counts its transactions (and can be made to fail them). */
function counting(store: LocalStore): LocalStore & { writes: string[][]; failNext: number } {
  const counted = Object.assign(Object.create(null) as object, store, {
    writes: [] as string[][],
    failNext: 0,
    async putMany(ns: string, entries: Iterable<readonly [string, unknown]>) {
      const list = [...entries];
      if (counted.failNext > 0) {
        counted.failNext--;
        throw new Error('disk full');
      }
      counted.writes.push(list.map(([k]) => k));
      return store.putMany(ns, list);
    },
  });
  return counted;
}

function snapshotStore(store: LocalStore, current: GatewayState, logger: Logger = pino({ level: 'silent' }), labels = ['Default']): SnapshotStore {
  return new SnapshotStore({ store, labels, logger, flushMs: 30, read: (s: StateSection) => current[s] });
}

describe('snapshot store', () => {
  it('saves the whole state in one transaction and reads it back after a reopen', async () => {
    const path = join(dir.path, 'roundtrip.db');
    const store = counting(await openLocalStore({ path }));
    const saved = state();
    await snapshotStore(store, saved).saveAll(1_234);
    assert.equal(store.writes.length, 1);
    assert.deepEqual(new Set(store.writes[0]), new Set([...STATE_SECTIONS, 'meta']));
    await store.close();

    const again = await openLocalStore({ path });
    try {
      const loaded = await snapshotStore(again, state({ subscriptions: [] })).load();
      assert.ok(loaded);
      assert.deepEqual(loaded.state, saved);
      assert.equal(loaded.meta.format, SNAPSHOT_FORMAT);
      assert.equal(loaded.meta.pulledAt, 1_234);
      assert.deepEqual(loaded.meta.labels, ['Default']);
    } finally {
      await again.close();
    }
  });

  it('gathers event changes into one write of the changed sections, and none before a whole state exists', async () => {
    const store = counting(await openLocalStore({ path: join(dir.path, 'batch.db') }));
    const current = state();
    const snap = snapshotStore(store, current);
    try {
      snap.markDirty('revoked');
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(store.writes.length, 0, 'nothing written before a whole state');
      await snap.saveAll(1);
      for (let i = 0; i < 200; i++) snap.markDirty(i % 2 ? 'revoked' : 'subscriptions');
      assert.equal(store.writes.length, 1, 'not on the caller\'s path');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(store.writes.length, 2, 'one write for 200 changes');
      assert.deepEqual(new Set(store.writes[1]), new Set(['subscriptions', 'revoked', 'meta']));
    } finally {
      await snap.close();
      await store.close();
    }
  });

  it('logs a failed write and retries it', async () => {
    const { logger, lines } = capture();
    const store = counting(await openLocalStore({ path: join(dir.path, 'retry.db') }));
    const snap = snapshotStore(store, state(), logger);
    try {
      store.failNext = 1;
      await snap.saveAll(1); // never rejects
      assert.ok(lines.some((l) => l.msg.includes('could not save the local snapshot')));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(store.writes.length, 1, 'written on the retry');
      assert.ok(await snapshotStore(store, state()).load());
    } finally {
      await snap.close();
      await store.close();
    }
  });

  describe('ignores, with a log line, a snapshot it must not read', () => {
    async function loadWith(name: string, tamper: (db: DatabaseSync) => void, labels = ['Default']): Promise<{ loaded: unknown; lines: { level: number; msg: string }[] }> {
      const path = join(dir.path, `${name}.db`);
      const store = await openLocalStore({ path });
      await snapshotStore(store, state()).saveAll(1);
      await store.close();
      const db = new DatabaseSync(path);
      tamper(db);
      db.close();
      const { logger, lines } = capture();
      const again = await openLocalStore({ path });
      try {
        return { loaded: await snapshotStore(again, state(), logger, labels).load(), lines };
      } finally {
        await again.close();
      }
    }
    const set = (key: string, value: string) => (db: DatabaseSync) => db.prepare("update local_entries set value = ? where namespace = 'gateway-state' and key = ?").run(value, key);

    it('of another format (an older or a newer version)', async () => {
      const { loaded, lines } = await loadWith('format', set('meta', JSON.stringify({ format: 1, labels: ['Default'], savedAt: 1, pulledAt: 1 })));
      assert.equal(loaded, undefined);
      assert.ok(lines.some((l) => l.level === 40 && l.msg.includes('another format')), JSON.stringify(lines));
    });

    it('that is not JSON', async () => {
      const { loaded, lines } = await loadWith('corrupt', set('subscriptions', '{"truncated'));
      assert.equal(loaded, undefined);
      assert.ok(lines.some((l) => l.level === 40 && l.msg.includes('unreadable')), JSON.stringify(lines));
    });

    it('with a damaged section', async () => {
      for (const [section, value] of [
        ['subscriptions', '{"not":"a list"}'],
        ['revoked', '[{"jti":"x"}]'],
        ['artifacts', '[null]'],
      ] as const) {
        const { loaded, lines } = await loadWith(`damaged-${section}`, set(section, value));
        assert.equal(loaded, undefined, section);
        assert.ok(lines.some((l) => l.level === 40 && l.msg.includes('damaged')), JSON.stringify(lines));
      }
      const { loaded } = await loadWith('missing', (db) => db.prepare("delete from local_entries where key = 'keyMappings'").run());
      assert.equal(loaded, undefined);
    });

    it('for other gateway environments', async () => {
      const { loaded, lines } = await loadWith('labels', () => undefined, ['Default', 'Internal']);
      assert.equal(loaded, undefined);
      assert.ok(lines.some((l) => l.msg.includes('other gateway environments')));
    });

    it('of the previous version (API definitions only), which the next save removes', async () => {
      const path = join(dir.path, 'legacy.db');
      const store = await openLocalStore({ path });
      try {
        await store.put('gateway-snapshot', 'Default', { artifacts: state().artifacts });
        const { logger, lines } = capture();
        const snap = snapshotStore(store, state(), logger);
        assert.equal(await snap.load(), undefined);
        assert.ok(lines.some((l) => l.level === 40 && l.msg.includes('older format')), JSON.stringify(lines));
        await snap.saveAll(1);
        assert.equal(await store.get('gateway-snapshot', 'Default'), undefined);
        assert.ok(await snapshotStore(store, state()).load());
      } finally {
        await store.close();
      }
    });
  });
});

describe('last-known JWKS of an external key manager', () => {
  it('verifies with stale keys while the JWKS URI fails, refuses kids they lack, and takes fetched keys when it answers', async () => {
    const { exportJWK, generateKeyPair, jwtVerify, SignJWT } = await import('jose');
    const { createServer } = await import('node:http');
    const { JwksCache } = await import('../src/snapshot-jwks.ts');
    const key = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
    let up = false;
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches++;
      if (!up) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const uri = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
    const sign = (kid: string) => new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256', kid }).sign(key.privateKey);
    try {
      const cache = new JwksCache();
      let changes = 0;
      cache.onChange(() => changes++);
      const uat = Date.now() - 3_600_000; // an hour old: past jose's 10-minute freshness
      cache.seed([{ uri, jwks: { keys: [jwk] }, uat }]);
      const keys = cache.keys(uri, { cacheMaxAge: 600_000, cooldownDuration: 30_000, timeoutDuration: 1_000 });
      await jwtVerify(await sign('idp-1'), keys); // the URI answers 503: the last-known keys
      assert.equal(fetches, 1);
      await jwtVerify(await sign('idp-1'), keys);
      assert.equal(fetches, 1, 'no new fetch for 30 s after a failed one');
      await assert.rejects(jwtVerify(await sign('idp-2'), keys), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
      assert.equal(changes, 0);

      up = true;
      const fresh = new JwksCache();
      fresh.seed([{ uri, jwks: { keys: [] }, uat }]);
      fresh.onChange(() => changes++);
      await jwtVerify(await sign('idp-1'), fresh.keys(uri, { cacheMaxAge: 600_000 }));
      assert.equal(changes, 1, 'a fetch that changed the keys is reported (the snapshot saves it)');
      const [entry] = fresh.entries();
      assert.equal(entry?.uri, uri);
      assert.ok((entry?.uat ?? 0) > uat);
      assert.deepEqual(entry?.jwks.keys.map((k) => k.kid), ['idp-1']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
