import { isIP } from 'node:net';

/** An IP address as a number and its family, for range comparisons. */
export interface ParsedIp {
  family: 4 | 6;
  value: bigint;
}

function parseV4(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = parseV4(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const parts = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part, 16)), 0n);
}

/** Parses an IPv4 or IPv6 address; undefined when it is not one. */
export function parseIp(text: string): ParsedIp | undefined {
  const family = isIP(text);
  if (family === 4) return { family: 4, value: parseV4(text) };
  if (family === 6) return { family: 6, value: parseV6(text) };
  return undefined;
}

/** Parses `address/prefix` (IPv4 or IPv6); undefined when it is not a valid CIDR block. */
export function parseCidr(text: string): { family: 4 | 6; first: bigint; last: bigint } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const mask = (1n << hostBits) - 1n;
  return { family: ip.family, first: ip.value & ~mask, last: (ip.value & ~mask) | mask };
}

/** Whether `text` is an IP address or a CIDR block. */
export function isIpOrCidr(text: string): boolean {
  return parseIp(text) !== undefined || parseCidr(text) !== undefined;
}
