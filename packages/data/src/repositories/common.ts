import type { Clock } from '@gatehouse/core';
import type { ScryptParams } from '../passwords.ts';

/** A page of a listing, with the total across all pages (WSO2's `count`/`pagination.total`). */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface PageRequest {
  /** 1..500, default 25. */
  limit?: number;
  /** Default 0. */
  offset?: number;
}

export interface RepositoryDeps {
  readonly clock: Clock;
  readonly passwordParams: ScryptParams;
}

export function pageBounds(req: PageRequest = {}): { limit: number; offset: number } {
  const limit = Math.min(Math.max(Math.trunc(req.limit ?? 25), 1), 500);
  const offset = Math.max(Math.trunc(req.offset ?? 0), 0);
  return { limit, offset };
}
