/**
 * Artist diversity of an answer: at most `maxPerArtist` items of one artist, taken best first from
 * a ranked pool (the ranking is asked for more than `limit`, `diversityPool`), and, for radio, no
 * artist twice in a row where the pool allows. Items whose artist is unknown are not capped: an
 * artist recommendation is its own artist.
 */

/** How many ranked items to ask for so that `limit` survive a cap of `maxPerArtist`. */
export function diversityPool(limit: number, maxPerArtist: number, max = 500): number {
  if (maxPerArtist >= limit) return limit;
  return Math.min(max, Math.max(limit * 3, limit + 20));
}

/** The best `limit` of `ranked` with at most `maxPerArtist` per artist (fewer when the pool runs out). */
export function capPerArtist<T extends { id: string }>(
  ranked: readonly T[],
  artistOf: (id: string) => string | undefined,
  maxPerArtist: number,
  limit: number,
): T[] {
  const out: T[] = [];
  const per = new Map<string, number>();
  for (const item of ranked) {
    if (out.length >= limit) break;
    const artist = artistOf(item.id);
    if (artist !== undefined) {
      const n = per.get(artist) ?? 0;
      if (n >= maxPerArtist) continue;
      per.set(artist, n + 1);
    }
    out.push(item);
  }
  return out;
}

/**
 * The same items reordered so that no artist plays twice in a row where avoidable: each position
 * takes the best remaining item whose artist differs from the previous one's.
 */
export function spreadArtists<T extends { id: string }>(
  items: readonly T[],
  artistOf: (id: string) => string | undefined,
): T[] {
  const left = [...items];
  const out: T[] = [];
  let previous: string | undefined;
  while (left.length > 0) {
    let k = left.findIndex((item) => {
      const a = artistOf(item.id);
      return a === undefined || a !== previous;
    });
    if (k < 0) k = 0;
    const [item] = left.splice(k, 1);
    out.push(item!);
    previous = artistOf(item!.id);
  }
  return out;
}
