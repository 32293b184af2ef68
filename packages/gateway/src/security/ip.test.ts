import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { clientAddress, inRange, parseIp, parseIpOrCidr, parseIpRange } from './ip.ts';
import { BlockingRules } from './blocking.ts';

it('parses IPv4, IPv6 and IPv4-mapped addresses, CIDR blocks and ranges', () => {
  assert.deepEqual(parseIp('10.1.2.3'), { family: 4, v4: 0x0a010203 });
  assert.deepEqual(parseIp('::ffff:10.1.2.3'), { family: 4, v4: 0x0a010203 }, 'a dual-stack socket reports IPv4 clients so');
  assert.deepEqual(parseIp('2001:db8::1'), { family: 6, v6: 0x20010db8000000000000000000000001n });
  assert.deepEqual(parseIp('fe80::1%eth0'), { family: 6, v6: 0xfe800000000000000000000000000001n });
  for (const bad of ['', '10.1.2', '10.1.2.256', 'example.com', '1::2::3']) assert.equal(parseIp(bad), undefined, bad);
  assert.deepEqual(parseIpOrCidr('10.1.2.3/8'), { family: 4, first: 0x0a000000, last: 0x0affffff, invert: false });
  assert.deepEqual(parseIpOrCidr('255.255.255.255/0'), { family: 4, first: 0, last: 0xffffffff, invert: false });
  assert.deepEqual(parseIpOrCidr('2001:db8::/32', true), { family: 6, first: 0x20010db8n << 96n, last: (0x20010db8n << 96n) | ((1n << 96n) - 1n), invert: true });
  for (const bad of ['10.0.0.0/33', '10.0.0.0/x', '2001:db8::/129']) assert.equal(parseIpOrCidr(bad), undefined, bad);
  assert.equal(parseIpRange('10.0.0.9', '10.0.0.1'), undefined, 'reversed');
  assert.equal(parseIpRange('10.0.0.1', '::1'), undefined, 'mixed families');
  const r = parseIpRange('2001:db8::1', '2001:db8::ff');
  assert.ok(r);
  assert.equal(inRange(parseIp('2001:db8::80')!, r), true);
  assert.equal(inRange(parseIp('2001:db8::100')!, r), false);
  assert.equal(inRange(parseIp('10.0.0.1')!, r), false, 'another family is outside');
});

it('takes the client address from the socket, and X-Forwarded-For only when told to trust it', () => {
  const req = { headers: { 'x-forwarded-for': ' 203.0.113.9 , 10.0.0.1' }, socket: { remoteAddress: '::ffff:127.0.0.1' } } as unknown as IncomingMessage;
  assert.equal(clientAddress(req, false), '::ffff:127.0.0.1');
  assert.equal(clientAddress(req, true), '203.0.113.9');
  assert.equal(clientAddress({ headers: {}, socket: { remoteAddress: '10.0.0.7' } } as unknown as IncomingMessage, true), '10.0.0.7');
});

it('precomputes blocking rules from enabled conditions, ignoring malformed ones', () => {
  const rules = new BlockingRules([
    { id: '1', conditionType: 'API', conditionValue: '/pizzashack/1.0.0/', conditionStatus: true },
    { id: '2', conditionType: 'APPLICATION', conditionValue: 'alice:Shop', conditionStatus: true },
    { id: '3', conditionType: 'USER', conditionValue: 'bob', conditionStatus: false },
    { id: '4', conditionType: 'IP', conditionValue: { fixedIp: 'not-an-ip', invert: false }, conditionStatus: true },
    { id: '5', conditionType: 'IPRANGE', conditionValue: { startingIp: '2001:db8::', endingIp: '2001:db8::ff', invert: false }, conditionStatus: true },
    { id: '6', conditionType: 'CUSTOM', conditionValue: 'x', conditionStatus: true },
  ]);
  assert.deepEqual([...rules.apis], ['/pizzashack/1.0.0']);
  assert.equal(rules.applicationBlocked({ id: 'x', name: 'Shop', owner: 'alice' }), true);
  assert.equal(rules.userBlocked('bob'), false);
  assert.equal(rules.ipRanges.length, 1);
  assert.equal(rules.ipBlocked('2001:db8::7'), true);
  assert.equal(rules.ipBlocked('127.0.0.1'), false);
  assert.equal(rules.ipBlocked('garbage'), false);
  assert.equal(new BlockingRules([]).empty, true);
});
