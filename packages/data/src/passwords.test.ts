import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, parsePasswordHash, verifyPassword } from './passwords.ts';

const cheap = { N: 1024, r: 8, p: 1 };

describe('passwords', () => {
  it('defaults to scrypt N=2^15 r=8 p=1 in a self-describing format', async () => {
    assert.deepEqual({ ...DEFAULT_SCRYPT_PARAMS }, { N: 32768, r: 8, p: 1 });
    const stored = await hashPassword('correct horse battery staple');
    assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    assert.equal(await verifyPassword('correct horse battery staple', stored), true);
  });

  it('verifies the right password only', async () => {
    const stored = await hashPassword('s3cret', cheap);
    assert.equal(await verifyPassword('s3cret', stored), true);
    assert.equal(await verifyPassword('s3cret ', stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  it('salts: the same password hashes differently each time', async () => {
    assert.notEqual(await hashPassword('same', cheap), await hashPassword('same', cheap));
  });

  it('a tampered or malformed hash verifies as false, never throws', async () => {
    const stored = await hashPassword('pw', cheap);
    const parts = stored.split('$');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const bad of [
      [parts[0], parts[1], parts[2], parts[3], parts[4], flip(parts[5])].join('$'),
      [parts[0], parts[1], parts[2], parts[3], flip(parts[4]), parts[5]].join('$'),
      [parts[0], '2048', parts[2], parts[3], parts[4], parts[5]].join('$'),
      [parts[0], '1000', parts[2], parts[3], parts[4], parts[5]].join('$'), // not a power of two
      [parts[0], String(2 ** 24), parts[2], parts[3], parts[4], parts[5]].join('$'), // too costly to try
      ['bcrypt', ...parts.slice(1)].join('$'),
      '',
      'scrypt$$$$$',
      'plain-password',
    ]) {
      assert.equal(await verifyPassword('pw', bad), false, bad);
    }
  });

  it('parses parameters and tells when a hash is weaker than the target', async () => {
    const stored = await hashPassword('pw', cheap);
    assert.equal(parsePasswordHash(stored)?.N, 1024);
    assert.equal(needsRehash(stored), true);
    assert.equal(needsRehash(stored, cheap), false);
  });

  it('rejects invalid parameters when hashing', async () => {
    await assert.rejects(hashPassword('pw', { N: 1000, r: 8, p: 1 }), RangeError);
  });
});
