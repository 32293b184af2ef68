import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** An address as numbers: IPv4 as an unsigned 32-bit number (no bigint on the common path), IPv6 as a bigint. */
export type ParsedIp = { readonly family: 4; readonly v4: number } | { readonly family: 6; readonly v6: bigint };

/** An inclusive address range, one per family; `invert` matches every address outside it (WSO2's inverted condition). */
export interface IpRange {
  readonly family: 4 | 6;
  readonly first: number | bigint;
  readonly last: number | bigint;
  readonly invert: boolean;
}

function v4Number(text: string): number {
  const p = text.split('.');
  return Number(p[0]) * 16777216 + Number(p[1]) * 65536 + Number(p[2]) * 256 + Number(p[3]);
}

function v6BigInt(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const tail4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail4) {
    const n = v4Number(tail4[1]);
    text = `${text.slice(0, -tail4[1].length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const parts = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  let value = 0n;
  for (const part of parts) value = (value << 16n) | BigInt(parseInt(part, 16));
  return value;
}

/**
 * Parses an IPv4 or IPv6 address (a zone id is dropped); an IPv4-mapped IPv6 address
 * (`::ffff:10.0.0.1`, what a dual-stack socket reports for IPv4 clients) is returned as IPv4.
 */
export function parseIp(text: string): ParsedIp | undefined {
  const zone = text.indexOf('%');
  const t = zone < 0 ? text : text.slice(0, zone);
  const family = isIP(t);
  if (family === 4) return { family: 4, v4: v4Number(t) };
  if (family !== 6) return undefined;
  const v6 = v6BigInt(t);
  if (v6 >> 32n === 0xffffn) return { family: 4, v4: Number(v6 & 0xffffffffn) };
  return { family: 6, v6 };
}

/** An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) as a range; undefined when it is neither. */
export function parseIpOrCidr(text: string, invert = false): IpRange | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const value = ip.family === 4 ? ip.v4 : ip.v6;
  if (slash < 0) return { family: ip.family, first: value, last: value, invert };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  // A mapped address with an IPv6 prefix length: count the prefix from the IPv4 part.
  const bits = ip.family === 4 ? (isIP(text.slice(0, slash)) === 6 ? 128 : 32) : 128;
  const prefix = Number(prefixText) - (bits === 128 && ip.family === 4 ? 96 : 0);
  const width = ip.family === 4 ? 32 : 128;
  if (prefix < 0 || prefix > width) return undefined;
  if (ip.family === 4) {
    const size = 2 ** (32 - prefix);
    const first = Math.floor(ip.v4 / size) * size;
    return { family: 4, first, last: first + size - 1, invert };
  }
  const mask = (1n << BigInt(128 - prefix)) - 1n;
  return { family: 6, first: ip.v6 & ~mask, last: (ip.v6 & ~mask) | mask, invert };
}

/** `startingIp`..`endingIp` of one family as a range; undefined when malformed, mixed or reversed. */
export function parseIpRange(start: string, end: string, invert = false): IpRange | undefined {
  const a = parseIp(start);
  const b = parseIp(end);
  if (!a || !b || a.family !== b.family) return undefined;
  const first = a.family === 4 ? a.v4 : a.v6;
  const last = b.family === 4 ? b.v4 : b.v6;
  if (first > last) return undefined;
  return { family: a.family, first, last, invert };
}

/** Whether an address falls in a range (outside it, for an inverted one); another family is outside. */
export function inRange(ip: ParsedIp, r: IpRange): boolean {
  const inside = ip.family === r.family && (ip.family === 4 ? ip.v4 >= (r.first as number) && ip.v4 <= (r.last as number) : ip.v6 >= (r.first as bigint) && ip.v6 <= (r.last as bigint));
  return inside !== r.invert;
}

/**
 * The calling client's address: the socket's peer, or, only when the gateway is told it sits
 * behind a trusted proxy, the first `X-Forwarded-For` entry (the client as that proxy saw it).
 */
export function clientAddress(req: IncomingMessage, trustForwardedFor: boolean): string {
  if (trustForwardedFor) {
    const xff = req.headers['x-forwarded-for'];
    if (typeof xff === 'string' && xff !== '') {
      const comma = xff.indexOf(',');
      return (comma < 0 ? xff : xff.slice(0, comma)).trim();
    }
  }
  return req.socket.remoteAddress ?? '';
}
