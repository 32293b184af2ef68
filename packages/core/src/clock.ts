/** Time source. Services take a `Clock` so tests can move time with the fake one in `@gatehouse/testing`. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
