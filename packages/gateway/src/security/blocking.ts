import { inRange, parseIp, parseIpOrCidr, parseIpRange, type IpRange } from './ip.ts';

/**
 * A blocking (deny) condition as Admin stores and publishes it (WSO2's `BlockingCondition`):
 * API (a context, `/pizzashack/1.0.0`), APPLICATION (`owner:name`), USER (a username),
 * IP (`{ fixedIp, invert }`, an address or a CIDR block) or IPRANGE (`{ startingIp, endingIp, invert }`).
 */
export interface SourceBlockingCondition {
  readonly id: string;
  readonly conditionType: string;
  readonly conditionValue: unknown;
  readonly conditionStatus: boolean;
}

/**
 * Every enabled blocking condition, precomputed for the request path: string sets for APIs,
 * applications and users, numeric ranges for addresses. Immutable; a change builds a new one.
 */
export class BlockingRules {
  static readonly none = new BlockingRules([]);

  /** True when nothing is blocked: the policy returns at once. */
  readonly empty: boolean;
  readonly apis: ReadonlySet<string>;
  readonly applications: ReadonlySet<string>;
  readonly users: ReadonlySet<string>;
  readonly ipRanges: readonly IpRange[];

  constructor(conditions: Iterable<SourceBlockingCondition>) {
    const apis = new Set<string>();
    const applications = new Set<string>();
    const users = new Set<string>();
    const ipRanges: IpRange[] = [];
    for (const c of conditions) {
      if (!c.conditionStatus) continue;
      const v = c.conditionValue;
      switch (c.conditionType) {
        case 'API':
          if (typeof v === 'string' && v !== '') apis.add(trimSlash(v.trim()));
          break;
        case 'APPLICATION':
          if (typeof v === 'string' && v !== '') applications.add(v.trim());
          break;
        case 'USER':
          if (typeof v === 'string' && v !== '') users.add(v.trim());
          break;
        case 'IP': {
          const o = v as { fixedIp?: unknown; invert?: unknown } | null;
          const r = o && typeof o.fixedIp === 'string' ? parseIpOrCidr(o.fixedIp.trim(), o.invert === true) : undefined;
          if (r) ipRanges.push(r);
          break;
        }
        case 'IPRANGE': {
          const o = v as { startingIp?: unknown; endingIp?: unknown; invert?: unknown } | null;
          const r = o && typeof o.startingIp === 'string' && typeof o.endingIp === 'string' ? parseIpRange(o.startingIp.trim(), o.endingIp.trim(), o.invert === true) : undefined;
          if (r) ipRanges.push(r);
          break;
        }
      }
    }
    this.apis = apis;
    this.applications = applications;
    this.users = users;
    this.ipRanges = ipRanges;
    this.empty = apis.size === 0 && applications.size === 0 && users.size === 0 && ipRanges.length === 0;
  }

  /** Whether a client address is blocked by an IP or IP range condition. An unparseable address is not. */
  ipBlocked(address: string): boolean {
    if (this.ipRanges.length === 0) return false;
    const ip = parseIp(address);
    if (ip === undefined) return false;
    for (const r of this.ipRanges) if (inRange(ip, r)) return true;
    return false;
  }

  /** Whether an application is blocked, by `owner:name` (as Admin stores it) or by id. */
  applicationBlocked(app: { readonly id: string; readonly name: string; readonly owner: string }): boolean {
    if (this.applications.size === 0) return false;
    return this.applications.has(app.id) || this.applications.has(`${app.owner}:${app.name}`);
  }

  /** Whether a user is blocked, as named or without the super tenant's domain (`alice@carbon.super`). */
  userBlocked(subject: string): boolean {
    if (this.users.size === 0) return false;
    if (this.users.has(subject)) return true;
    return subject.endsWith('@carbon.super') && this.users.has(subject.slice(0, -'@carbon.super'.length));
  }
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
