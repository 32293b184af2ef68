import { inRange, parseIp, parseIpOrCidr, parseIpRange, type IpRange } from '../security/ip.ts';
import type { Limit } from './limits.ts';

/**
 * What a condition or a key template reads of a call. Built only for routes whose policies have
 * conditions or custom rules; each accessor reads lazily (the query string is parsed on first use).
 */
export interface RequestFacts {
  clientIp(): string;
  /** A request header, by lower-case name. */
  header(name: string): string | undefined;
  query(name: string): string | undefined;
  /** A JWT claim of the call's token, by name or by WSO2 claim URI (`http://wso2.org/claims/applicationname`). */
  claim(uri: string): string | undefined;
  /** One of WSO2's throttle variables (`userId`, `apiContext`, ...; see {@link KeyVariables}). */
  variable(name: KeyVariable): string;
}

/** The variables of WSO2's custom-rule key templates and of its RequestStream, as Admin accepts them. */
export const KeyVariables = ['userId', 'apiContext', 'apiVersion', 'resourceKey', 'appTenant', 'apiTenant', 'appId', 'clientIp', 'apiName'] as const;
export type KeyVariable = (typeof KeyVariables)[number];
const isVariable = (v: string): v is KeyVariable => (KeyVariables as readonly string[]).includes(v);

/** A condition of an advanced policy's conditional group, as Admin stores it (WSO2's `ThrottleCondition`). */
export interface SourceCondition {
  readonly type: string;
  readonly invertCondition?: boolean;
  readonly ipCondition?: { ipConditionType?: string; specificIP?: string; startingIP?: string; endingIP?: string };
  readonly headerCondition?: { headerName?: string; headerValue?: string };
  readonly queryParameterCondition?: { parameterName?: string; parameterValue?: string };
  readonly jwtClaimsCondition?: { claimUrl?: string; attribute?: string };
}

export interface CompiledCondition {
  readonly type: 'IPCONDITION' | 'HEADERCONDITION' | 'QUERYPARAMETERCONDITION' | 'JWTCLAIMSCONDITION';
  matches(f: RequestFacts): boolean;
}

/** WSO2 matches header, query and claim values as regular expressions found in the value (Siddhi `regex:find`). */
function pattern(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch {
    return new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}

function valueCondition(type: CompiledCondition['type'], read: (f: RequestFacts) => string | undefined, value: string, invert: boolean): CompiledCondition {
  const re = pattern(value);
  return {
    type,
    matches(f) {
      const v = read(f);
      return (v !== undefined && re.test(v)) !== invert;
    },
  };
}

/** One condition, compiled once when the policy arrives; undefined when malformed (the group is then dropped). */
export function compileCondition(c: SourceCondition): CompiledCondition | undefined {
  const invert = c.invertCondition === true;
  switch (c.type) {
    case 'IPCONDITION': {
      const ip = c.ipCondition;
      let range: IpRange | undefined;
      if (ip?.ipConditionType === 'IPSPECIFIC' && ip.specificIP) range = parseIpOrCidr(ip.specificIP.trim(), invert);
      else if (ip?.ipConditionType === 'IPRANGE' && ip.startingIP && ip.endingIP) range = parseIpRange(ip.startingIP.trim(), ip.endingIP.trim(), invert);
      if (range === undefined) return undefined;
      const r = range;
      return {
        type: 'IPCONDITION',
        matches(f) {
          const a = parseIp(f.clientIp());
          return a === undefined ? invert : inRange(a, r);
        },
      };
    }
    case 'HEADERCONDITION': {
      const h = c.headerCondition;
      if (!h?.headerName || h.headerValue === undefined) return undefined;
      const name = h.headerName.toLowerCase();
      return valueCondition('HEADERCONDITION', (f) => f.header(name), h.headerValue, invert);
    }
    case 'QUERYPARAMETERCONDITION': {
      const q = c.queryParameterCondition;
      if (!q?.parameterName || q.parameterValue === undefined) return undefined;
      const name = q.parameterName;
      return valueCondition('QUERYPARAMETERCONDITION', (f) => f.query(name), q.parameterValue, invert);
    }
    case 'JWTCLAIMSCONDITION': {
      const j = c.jwtClaimsCondition;
      if (!j?.claimUrl || j.attribute === undefined) return undefined;
      const uri = j.claimUrl;
      return valueCondition('JWTCLAIMSCONDITION', (f) => f.claim(uri), j.attribute, invert);
    }
  }
  return undefined;
}

/** A custom rule (WSO2's global policy) reduced to what the gateway evaluates. */
export interface CustomRule {
  /** `$userId:$apiContext` → ['userId', 'apiContext']: the counter key's parts. */
  readonly keyTemplate: readonly KeyVariable[];
  readonly eligible: (f: RequestFacts) => boolean;
  readonly limit: Limit;
}

type Expr = (f: RequestFacts) => boolean;
type Operand = (f: RequestFacts) => string;

const SIDDHI_UNITS: Readonly<Record<string, number>> = {
  ms: 1, millisec: 1, millisecond: 1, milliseconds: 1,
  sec: 1_000, second: 1_000, seconds: 1_000,
  min: 60_000, minute: 60_000, minutes: 60_000,
  hour: 3_600_000, hours: 3_600_000,
  day: 86_400_000, days: 86_400_000,
};

/** Splits at commas outside parentheses and quotes. */
function topLevelItems(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items.map((s) => s.trim());
}

/**
 * The eligibility expression of a Siddhi `SELECT`: `true`, `false`, comparisons `<var> == '<text>'`
 * and `!=` over the RequestStream variables, combined with `and`, `or`, `not` and parentheses.
 */
function parseExpression(text: string): Expr | undefined {
  const tokens = text.match(/'[^']*'|"[^"]*"|==|!=|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S/g) ?? [];
  let i = 0;
  const peek = () => tokens[i]?.toLowerCase();
  const fail = (): never => {
    throw new SyntaxError(`unexpected ${tokens[i] ?? 'end'} in ${text}`);
  };
  const operand = (): Operand => {
    const t = tokens[i++] ?? fail();
    if (t.startsWith("'") || t.startsWith('"')) {
      const s = t.slice(1, -1);
      return () => s;
    }
    if (isVariable(t)) return (f) => f.variable(t);
    return fail();
  };
  const primary = (): Expr => {
    const t = peek();
    if (t === '(') {
      i++;
      const e = or();
      if (tokens[i++] !== ')') fail();
      return e;
    }
    if (t === 'true' || t === 'false') {
      i++;
      const v = t === 'true';
      return () => v;
    }
    if (t === 'not') {
      i++;
      const e = primary();
      return (f) => !e(f);
    }
    const a = operand();
    const op = tokens[i++];
    if (op !== '==' && op !== '!=') return fail();
    const b = operand();
    return op === '==' ? (f) => a(f) === b(f) : (f) => a(f) !== b(f);
  };
  const and = (): Expr => {
    let e = primary();
    while (peek() === 'and') {
      i++;
      const l = e;
      const r = primary();
      e = (f) => l(f) && r(f);
    }
    return e;
  };
  const or = (): Expr => {
    let e = and();
    while (peek() === 'or') {
      i++;
      const l = e;
      const r = and();
      e = (f) => l(f) || r(f);
    }
    return e;
  };
  try {
    const e = or();
    return i === tokens.length ? e : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A custom rule from Admin: the key template (`$userId:$apiContext`) and the subset of WSO2's Siddhi
 * rule the gateway evaluates, which covers the rules WSO2's documentation and Admin's template
 * write:
 *
 * ```
 * FROM RequestStream
 * SELECT userId, ( userId == 'admin@carbon.super' ) AS isEligible, str:concat('admin@carbon.super','') as throttleKey
 * INSERT INTO EligibilityStream;
 * FROM EligibilityStream[isEligible==true]#throttler:timeBatch(1 min)
 * SELECT throttleKey, (count(userId) >= 5) as isThrottled, expiryTimeStamp group by throttleKey
 * INSERT ALL EVENTS into ResultStream;
 * ```
 *
 * `isEligible` as above (no `AS isEligible`: every call), the window from `timeBatch(<n> <unit>)`
 * and the limit from `count(...) >= n` (`> n`: n + 1). Anything else is not understood and the
 * rule is ignored (undefined), rather than enforced wrongly.
 */
export function parseCustomRule(keyTemplate: string, siddhi: string): CustomRule | undefined {
  const parts = keyTemplate.split(':').map((p) => p.trim());
  if (parts.length === 0 || !parts.every((p) => p.startsWith('$') && isVariable(p.slice(1)))) return undefined;
  const batch = /timeBatch\(\s*(\d+)\s*([A-Za-z]*)\s*\)/i.exec(siddhi);
  const count = /count\(\s*[A-Za-z_]*\s*\)\s*(>=|>)\s*(\d+)/i.exec(siddhi);
  if (!batch || !count) return undefined;
  const unit = batch[2] === '' ? 1 : SIDDHI_UNITS[batch[2].toLowerCase()];
  const windowMs = unit === undefined ? 0 : Number(batch[1]) * unit;
  const n = Number(count[2]) + (count[1] === '>' ? 1 : 0);
  if (!(windowMs > 0) || !(n > 0)) return undefined;
  let eligible: Expr = () => true;
  const select = /select\s+([\s\S]*?)\s+insert\s+into\s+EligibilityStream/i.exec(siddhi);
  if (select) {
    const item = topLevelItems(select[1]).find((s) => /\s+as\s+isEligible$/i.test(s));
    if (item) {
      const parsed = parseExpression(item.replace(/\s+as\s+isEligible$/i, ''));
      if (!parsed) return undefined;
      eligible = parsed;
    }
  }
  return { keyTemplate: parts.map((p) => p.slice(1) as KeyVariable), eligible, limit: { count: n, windowMs } };
}
