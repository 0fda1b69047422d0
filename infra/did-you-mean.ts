/** The key a typo meant, for the problem that names an unknown key. */
import { configKeys, type ConfigKey } from "./settings";

/** Keys set in the namespace that the program does not read, each with the closest known one. */
export function unknownKeys(setKeys: readonly string[]): [string, ConfigKey][] {
  const known: readonly string[] = configKeys;
  return setKeys
    .filter((key) => !known.includes(key))
    .map((key) => [key, closestOf(key, configKeys)]);
}

export function closestOf<K extends string>(key: string, candidates: readonly K[]): K {
  let best: K = candidates[0]!;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, for suggesting the key a typo meant. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + cost);
    }
    row = next;
  }
  return row[b.length]!;
}
