import { it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayData } from './gateway-data.ts';

it('forgets a revocation only well after its token expired, so the list does not only grow', () => {
  const data = new GatewayData();
  const now = Date.UTC(2026, 0, 1) / 1000;
  data.revoke('expired-long-ago', now - 301);
  data.revoke('just-expired', now - 10);
  data.revoke('still-valid', now + 600);
  data.purgeRevoked(now * 1000);
  assert.equal(data.isRevoked('expired-long-ago'), false);
  assert.equal(data.isRevoked('just-expired'), true, 'kept past the clock tolerance');
  assert.equal(data.isRevoked('still-valid'), true);
  assert.equal(data.counts.revoked, 2);
});
