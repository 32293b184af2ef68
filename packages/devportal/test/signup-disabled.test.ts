import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

describe('self sign-up turned off', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(['--devportal.self_signup', 'false']);
  });
  after(() => h?.close());

  it('refuses sign-up with 403 and creates no user', async () => {
    const res = await h.signUp('mallory', 'mallory-password-1');
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: number }).code, 901450);
    assert.equal(await h.repos.users.findByUsername(-1234, 'mallory'), undefined);
  });
});
