/**
 * The neighbour index's cells over genre taste vectors, shaped for a DynamoDB table with
 * PK `cell`, SK `userId` (one item per user, carrying `encodeVector(vector)`).
 *
 * Cells are derived from the vector alone (no training; works from the first user): a user lives
 * in ONE cell keyed by its top-2 genres (ordered) and the quantized ratio r = x₂/x₁ of their
 * weights: `rock/indie/2`; a user with a single genre lives in `rock/-`. A query ranks every
 * possible cell by the cosine between the query and the cell's best 2-genre centre
 * normalize(e_a + r·e_b), r within the bucket (`probePlan`; the query's own cell comes first), reads cells best first, and stops when the budget (cells / items) is spent or
 * when no remaining cell's upper bound can beat the current k-th neighbour (the answer is then
 * exact). Ranking by the centre beats ranking by the bound for recall at a fixed budget.
 *
 * The bound for cell (a, b, r ∈ [lo, hi]) and unit query q (x unit, non-negative, x_a = t,
 * x_b = r·t, every other x_c ≤ r·t): q·x ≤ t·(q_a + hi·q_b) + min(√(1 − (1+lo²)t²)·‖q_rest‖₂, hi·t·‖q_rest‖₁),
 * maximized over t in closed form (the right side is concave in t).
 */
import { GENRE_COUNT, GENRES } from '../genres.ts';

/** Upper edges of the ratio buckets (x₂/x₁); the last bucket ends at 1. */
export const DEFAULT_RATIO_BUCKETS: readonly number[] = [0.2, 0.4, 0.6, 0.8];

export interface CellScheme {
  ratioBuckets: readonly number[];
}

export const DEFAULT_SCHEME: CellScheme = { ratioBuckets: DEFAULT_RATIO_BUCKETS };

const EMPTY_CELL = '_';

function topTwo(v: ArrayLike<number>): [number, number] {
  let a = -1;
  let b = -1;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!(x > 0)) continue;
    if (x > va) {
      b = a;
      vb = va;
      a = i;
      va = x;
    } else if (x > vb) {
      b = i;
      vb = x;
    }
  }
  return [a, b];
}

function bucketOf(r: number, buckets: readonly number[]): number {
  let k = 0;
  while (k < buckets.length && r >= buckets[k]!) k++;
  return k;
}

/** The one cell a vector is written to. */
export function cellOf(vector: ArrayLike<number>, scheme: CellScheme = DEFAULT_SCHEME): string {
  const [a, b] = topTwo(vector);
  if (a < 0) return EMPTY_CELL;
  if (b < 0) return `${GENRES[a]}/-`;
  const r = vector[b]! / vector[a]!;
  return `${GENRES[a]}/${GENRES[b]}/${bucketOf(r, scheme.ratioBuckets)}`;
}

export interface ProbeEntry {
  cell: string;
  /** Ranking score: max over the bucket's r of cos(query, normalize(e_a + r·e_b)). */
  score: number;
  /** Upper bound of cos(query, x) for any x in the cell. */
  bound: number;
}

export interface CellRanking {
  /** Cell numbers, best first. */
  order: Uint32Array;
  score: Float64Array;
  bound: Float64Array;
  /** maxBoundFrom[i] = max bound over order[i..]; lets a query stop exactly. */
  maxBoundFrom: Float64Array;
  name: (cell: number) => string;
}

/**
 * What ranking cells for one query needs. Cell numbering: a·perA + 0 for "a/-", then
 * a·perA + 1 + bi·K + k with bi the index of b among the other genres and k the ratio bucket.
 */
function cellGeometry(vector: ArrayLike<number>, scheme: CellScheme) {
  const q = normalized(vector);
  let n1 = 0;
  for (let i = 0; i < GENRE_COUNT; i++) n1 += q[i]!;
  const edges = [0, ...scheme.ratioBuckets, 1];
  const K = edges.length - 1;
  return { q, n1, edges, K, perA: 1 + (GENRE_COUNT - 1) * K };
}

/** Score and bound of cell a/b/k for the query (a/- cells: both are q_a). */
function twoGenreCell(g: ReturnType<typeof cellGeometry>, a: number, b: number, k: number) {
  const qa = g.q[a]!;
  const qb = g.q[b]!;
  const r2 = Math.sqrt(Math.max(0, 1 - qa * qa - qb * qb));
  const r1 = Math.max(0, g.n1 - qa - qb);
  const lo = g.edges[k]!;
  const hi = g.edges[k + 1]!;
  return { score: centreScore(qa, qb, lo, hi), bound: cellBound(qa, qb, r2, r1, lo, hi, GENRE_COUNT) };
}

export function rankCells(vector: ArrayLike<number>, scheme: CellScheme): CellRanking {
  const G = GENRE_COUNT;
  const g = cellGeometry(vector, scheme);
  const { q, K, perA } = g;
  const N = G * perA;
  const score = new Float64Array(N);
  const bound = new Float64Array(N);
  for (let a = 0; a < G; a++) {
    const qa = q[a]!;
    const base = a * perA;
    score[base] = qa;
    bound[base] = qa;
    let bi = 0;
    for (let b = 0; b < G; b++) {
      if (b === a) continue;
      const off = base + 1 + bi * K;
      for (let k = 0; k < K; k++) {
        const cell = twoGenreCell(g, a, b, k);
        score[off + k] = cell.score;
        bound[off + k] = cell.bound;
      }
      bi++;
    }
  }
  const order = new Uint32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  order.sort((x, y) => score[y]! - score[x]! || x - y);
  const maxBoundFrom = new Float64Array(N + 1);
  for (let i = N - 1; i >= 0; i--) maxBoundFrom[i] = Math.max(maxBoundFrom[i + 1]!, bound[order[i]!]!);
  const name = (cell: number): string => {
    const a = Math.floor(cell / perA);
    const rem = cell - a * perA;
    if (rem === 0) return `${GENRES[a]}/-`;
    const bi = Math.floor((rem - 1) / K);
    const k = rem - 1 - bi * K;
    const b = bi < a ? bi : bi + 1;
    return `${GENRES[a]}/${GENRES[b]}/${k}`;
  };
  return { order, score, bound, maxBoundFrom, name };
}

/**
 * Cells ranked best first by their centre's cosine to the query (ties by cell number), each with
 * its upper bound. `limit` caps the list (there are G + G·(G−1)·buckets possible cells).
 */
export function probePlan(vector: ArrayLike<number>, opts: { limit?: number; scheme?: CellScheme } = {}): ProbeEntry[] {
  let any = false;
  for (let i = 0; i < vector.length; i++) if ((vector[i] ?? 0) > 0) any = true;
  if (!any) return [{ cell: EMPTY_CELL, score: 0, bound: 0 }];
  const r = rankCells(vector, opts.scheme ?? DEFAULT_SCHEME);
  const n = Math.min(r.order.length, opts.limit ?? r.order.length);
  const out: ProbeEntry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = r.order[i]!;
    out[i] = { cell: r.name(c), score: r.score[c]!, bound: r.bound[c]! };
  }
  return out;
}

/** Cell name → cell number (rankCells' numbering), per scheme, built once. */
const cellNumberCache = new WeakMap<CellScheme, Map<string, number>>();

function cellNumbers(scheme: CellScheme): Map<string, number> {
  let map = cellNumberCache.get(scheme);
  if (!map) {
    const K = scheme.ratioBuckets.length + 1;
    const perA = 1 + (GENRE_COUNT - 1) * K;
    map = new Map();
    for (let a = 0; a < GENRE_COUNT; a++) {
      map.set(`${GENRES[a]}/-`, a * perA);
      let bi = 0;
      for (let b = 0; b < GENRE_COUNT; b++) {
        if (b === a) continue;
        for (let k = 0; k < K; k++) map.set(`${GENRES[a]}/${GENRES[b]}/${k}`, a * perA + 1 + bi * K + k);
        bi++;
      }
    }
    cellNumberCache.set(scheme, map);
  }
  return map;
}

/**
 * `probePlan` restricted to the given cells (e.g. the occupied ones), in the same order with the
 * same scores and bounds, computing only those: with a few hundred occupied cells this skips
 * ranking all G + G·(G−1)·buckets of them, which was most of a refresh's CPU.
 */
export function probePlanWithin(
  vector: ArrayLike<number>,
  cells: Iterable<string>,
  scheme: CellScheme = DEFAULT_SCHEME,
): ProbeEntry[] {
  let any = false;
  for (let i = 0; i < vector.length; i++) if ((vector[i] ?? 0) > 0) any = true;
  if (!any) return [...cells].includes(EMPTY_CELL) ? [{ cell: EMPTY_CELL, score: 0, bound: 0 }] : [];
  const g = cellGeometry(vector, scheme);
  const { K, perA } = g;
  const numbers = cellNumbers(scheme);
  const found: (ProbeEntry & { n: number })[] = [];
  for (const cell of cells) {
    const n = numbers.get(cell);
    if (n === undefined) continue;
    const a = Math.floor(n / perA);
    const rem = n - a * perA;
    if (rem === 0) {
      found.push({ cell, score: g.q[a]!, bound: g.q[a]!, n });
      continue;
    }
    const bi = Math.floor((rem - 1) / K);
    found.push({ cell, ...twoGenreCell(g, a, bi < a ? bi : bi + 1, rem - 1 - bi * K), n });
  }
  found.sort((x, y) => y.score - x.score || x.n - y.n);
  return found.map(({ cell, score, bound }) => ({ cell, score, bound }));
}

/** max over r ∈ [lo, hi] of cos(q, normalize(e_a + r·e_b)): the best 2-genre centre of the cell, ignoring the rest. */
function centreScore(qa: number, qb: number, lo: number, hi: number): number {
  const rStar = qa > 0 ? qb / qa : hi;
  const r = Math.min(hi, Math.max(lo, rStar));
  return (qa + r * qb) / Math.sqrt(1 + r * r);
}

function cellBound(qa: number, qb: number, r2: number, r1: number, lo: number, hi: number, G: number): number {
  const A = qa + hi * qb;
  const B = hi * r1;
  const c = 1 + lo * lo;
  const tHi = 1 / Math.sqrt(c);
  const tLo = 1 / Math.sqrt(1 + (G - 1) * hi * hi);
  // g(t) = tA + min(r2·√(1 − c t²), tB) is concave; its free maximum is at max(t*, tc).
  const tStar = A > 0 || r2 > 0 ? A / Math.sqrt(c * (A * A + r2 * r2 * c)) : tHi;
  const tc = r2 > 0 || B > 0 ? r2 / Math.sqrt(r2 * r2 * c + B * B) : tHi;
  const t = Math.min(tHi, Math.max(tLo, Math.max(tStar, tc)));
  const rest = Math.min(r2 * Math.sqrt(Math.max(0, 1 - c * t * t)), t * B);
  return Math.min(1, t * A + rest);
}

/** The `maxCells` best cells to read for a query vector. */
export function probeCells(vector: ArrayLike<number>, opts: { maxCells: number; scheme?: CellScheme }): string[] {
  return probePlan(vector, { limit: opts.maxCells, ...(opts.scheme ? { scheme: opts.scheme } : {}) }).map(
    (p) => p.cell,
  );
}

export function unitDot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function normalized(v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(GENRE_COUNT);
  let n = 0;
  for (let i = 0; i < GENRE_COUNT; i++) {
    const x = Math.max(0, v[i] ?? 0);
    out[i] = x;
    n += x * x;
  }
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < out.length; i++) out[i]! *= inv;
  }
  return out;
}
