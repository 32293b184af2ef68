/** Levenshtein distance, two rows. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export interface SuggestOptions {
  /** The part of the word the typo budget is measured on (the last segment of a dotted path). Default: the word. */
  readonly base?: string;
  /** Also suggest a candidate that the word starts with (`warning` → `warn`). */
  readonly prefix?: boolean;
  readonly quote?: (s: string) => string;
}

/** The closest candidate, if it is close enough to be a typo: at most a third of `base` wrong. */
export function closest(word: string, candidates: Iterable<string>, options: SuggestOptions = {}): string | undefined {
  const w = word.toLowerCase();
  const budget = Math.max(1, Math.floor((options.base ?? word).length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (bestDistance <= budget) return best;
  if (options.prefix) {
    for (const c of candidates) if (c.length >= 3 && w.startsWith(c.toLowerCase())) return c;
  }
  return undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>, options: SuggestOptions = {}): string {
  const match = closest(word, [...candidates], options);
  const quote = options.quote ?? ((s: string) => `\`${s}\``);
  return match === undefined ? '' : `; did you mean ${quote(match)}?`;
}
