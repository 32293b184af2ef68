import { it } from 'node:test';
import assert from 'node:assert/strict';
import { isIpOrCidr, parseCidr, parseIp } from './ip.ts';

it('parses IPv4 and IPv6 addresses, refusing near-misses', () => {
  assert.deepEqual(parseIp('10.0.0.1'), { family: 4, value: 0x0a000001n });
  assert.equal(parseIp('::1')?.value, 1n);
  assert.equal(parseIp('2001:db8::1')?.value, (0x20010db8n << 96n) | 1n);
  assert.equal(parseIp('::ffff:10.0.0.1')?.value, (0xffffn << 32n) | 0x0a000001n);
  for (const bad of ['10.0.0.256', '10.0.0', '1.2.3.4.5', 'abc', '', '10.0.0.1/8', '2001:db8:::1']) assert.equal(parseIp(bad), undefined, bad);
});

it('parses CIDR blocks into their first and last address', () => {
  assert.deepEqual(parseCidr('10.1.2.3/16'), { family: 4, first: 0x0a010000n, last: 0x0a01ffffn });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { family: 4, first: 0n, last: 0xffffffffn });
  assert.equal(parseCidr('fe80::/10')?.first, 0xfe80n << 112n);
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/1a', '::/129', 'x/8', '10.0.0.0']) assert.equal(parseCidr(bad), undefined, bad);
  assert.ok(isIpOrCidr('192.168.0.0/24') && isIpOrCidr('::1') && !isIpOrCidr('localhost'));
});
