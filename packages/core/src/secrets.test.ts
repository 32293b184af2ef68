import { it } from 'node:test';
import assert from 'node:assert/strict';
import { constantTimeEqual, createServerKeys } from './secrets.ts';

const keys = createServerKeys('x'.repeat(40));

it('hmac is keyed by the server secret and by purpose', () => {
  const other = createServerKeys('y'.repeat(40));
  assert.equal(keys.hmac('client-secret', 's3cret'), keys.hmac('client-secret', 's3cret'));
  assert.notEqual(keys.hmac('client-secret', 's3cret'), other.hmac('client-secret', 's3cret'));
  assert.notEqual(keys.hmac('client-secret', 's3cret'), keys.hmac('api-key', 's3cret'));
  assert.equal(keys.hmacEquals('client-secret', 's3cret', keys.hmac('client-secret', 's3cret')), true);
  assert.equal(keys.hmacEquals('client-secret', 's3cret!', keys.hmac('client-secret', 's3cret')), false);
});

it('seal and open round-trip; tampering, another purpose or another secret fail', () => {
  const sealed = keys.seal('signing-key', '{"d":"private"}');
  assert.notEqual(sealed, keys.seal('signing-key', '{"d":"private"}'), 'a fresh nonce each time');
  assert.equal(keys.open('signing-key', sealed), '{"d":"private"}');
  const parts = sealed.split('.');
  const flipped = [parts[0], parts[1], `${parts[2].slice(0, -2)}AA`, parts[3]].join('.');
  assert.throws(() => keys.open('signing-key', flipped), { code: 'CORE_ERR_SECRET_UNREADABLE' });
  assert.throws(() => keys.open('backend-credential', sealed), { code: 'CORE_ERR_SECRET_UNREADABLE' });
  assert.throws(() => createServerKeys('z'.repeat(40)).open('signing-key', sealed), { code: 'CORE_ERR_SECRET_UNREADABLE' });
  assert.throws(() => keys.open('signing-key', 'garbage'), { code: 'CORE_ERR_SECRET_UNREADABLE' });
});

it('refuses a short server secret', () => {
  assert.throws(() => createServerKeys('short'));
});

it('constantTimeEqual compares strings of any length', () => {
  assert.equal(constantTimeEqual('abc', 'abc'), true);
  assert.equal(constantTimeEqual('abc', 'abd'), false);
  assert.equal(constantTimeEqual('abc', 'abcd'), false);
  assert.equal(constantTimeEqual('', ''), true);
});
