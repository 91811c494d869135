/**
 * Approximate nearest-neighbour index over genre taste vectors, shaped for a DynamoDB table with
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
import { GENRE_COUNT, GENRES } from './genres.ts';
import { type SimilarityWeights, type SparseVector, similarity, type TasteFeatures } from './similarity.ts';

/** Upper edges of the ratio buckets (x₂/x₁); the last bucket ends at 1. */
export const DEFAULT_RATIO_BUCKETS: readonly number[] = [0.2, 0.4, 0.6, 0.8];

export interface CellScheme {
  ratioBuckets: readonly number[];
}

const DEFAULT_SCHEME: CellScheme = { ratioBuckets: DEFAULT_RATIO_BUCKETS };

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

interface CellRanking {
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

function rankCells(vector: ArrayLike<number>, scheme: CellScheme): CellRanking {
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

// ---------------------------------------------------------------------------------------------
// Compact encoding: "12:999,4:490" — genre index : weight relative to the largest, 0–999. The top 16
// genres are kept (~80 bytes); dropping more costs recall (near neighbours differ in the small ones).

const QUANT = 999;

/** Top `maxDims` positive components, scaled to the largest (so it stays 3 digits) and rounded. */
export function encodeVector(vector: ArrayLike<number>, maxDims = 16): string {
  const idx: number[] = [];
  let max = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (x > 0) {
      idx.push(i);
      if (x > max) max = x;
    }
  }
  if (max === 0) return '';
  idx.sort((i, j) => vector[j]! - vector[i]! || i - j);
  const parts: string[] = [];
  for (const i of idx.slice(0, maxDims)) {
    const qv = Math.round((vector[i]! / max) * QUANT);
    if (qv > 0) parts.push(`${i}:${qv}`);
  }
  return parts.join(',');
}

/** Dense L2-normalized vector from `encodeVector` output (unknown or malformed parts ignored). */
export function decodeVector(s: string): Float64Array {
  const v = new Float64Array(GENRE_COUNT);
  if (s === '') return v;
  let norm = 0;
  for (const part of s.split(',')) {
    const colon = part.indexOf(':');
    const i = Number(part.slice(0, colon));
    const x = Number(part.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(i) || i < 0 || i >= GENRE_COUNT || !(x > 0)) continue;
    v[i] = x;
    norm += x * x;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Artist sketch: the user's top artists in the same compact form, "artistId:weight,…" with the
// id URI-encoded (so ',' and ':' cannot clash) and the weight relative to the largest, 1–999.
// It lets a refresh rank candidates by artist overlap from the index entry alone.

/** Artists kept in a sketch (~32 × (id + 4) bytes). */
export const ARTIST_SKETCH_SIZE = 32;

/**
 * The `limit` largest positive scores, each raised to `exponent` (as `tasteFeatures`'
 * itemExponent: 1 keeps them, 0 binarizes), scaled to the largest and quantized to 1–999.
 * Ties by id, so the sketch is deterministic.
 */
export function encodeArtistSketch(
  scores: Readonly<Record<string, number>>,
  opts: { limit?: number; exponent?: number } = {},
): string {
  const limit = opts.limit ?? ARTIST_SKETCH_SIZE;
  const e = opts.exponent ?? 1;
  const entries: [string, number][] = [];
  for (const k in scores) {
    const v = scores[k]!;
    if (v > 0 && Number.isFinite(v)) entries.push([k, e === 0 ? 1 : v ** e]);
  }
  if (entries.length === 0 || limit <= 0) return '';
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = entries.slice(0, limit);
  const max = top[0]![1];
  return top.map(([k, v]) => `${encodeURIComponent(k)}:${Math.max(1, Math.round((v / max) * QUANT))}`).join(',');
}

/**
 * L2-normalized sparse artist vector from `encodeArtistSketch` output (malformed parts ignored),
 * each artist's weight multiplied by `itemWeight` first when given (IDF from the item model's
 * listener counts, as the exact similarity weighs full profiles).
 */
export function decodeArtistSketch(s: string | undefined, itemWeight?: (id: string) => number): SparseVector {
  const out: SparseVector = new Map();
  if (!s) return out;
  let norm = 0;
  for (const part of s.split(',')) {
    const colon = part.lastIndexOf(':');
    if (colon <= 0) continue;
    const x = Number(part.slice(colon + 1));
    if (!(x > 0) || !Number.isFinite(x)) continue;
    let id: string;
    try {
      id = decodeURIComponent(part.slice(0, colon));
    } catch {
      continue;
    }
    const w = itemWeight ? x * itemWeight(id) : x;
    if (!(w > 0)) continue;
    out.set(id, w);
    norm += w * w;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (const [k, x] of out) out.set(k, x * inv);
  }
  return out;
}

/** What a refresh knows of a user from an index entry (or its own profile update). */
export function indexTaste(
  genres: Float64Array,
  artistSketch: string | undefined,
  itemWeight?: (id: string) => number,
): TasteFeatures {
  return { genres, artists: decodeArtistSketch(artistSketch, itemWeight) };
}

/**
 * The score a refresh ranks candidates by: `similarity` (genre cosine + artist cosine, weighted)
 * over index tastes. The neighbour updater and the offline evaluation (`--neighbors index`) both
 * call this; the exact evaluation calls `similarity` on full profiles.
 */
export function neighborScore(
  query: TasteFeatures,
  candidate: TasteFeatures,
  weights: Readonly<Pick<SimilarityWeights, 'genreWeight' | 'artistWeight'>>,
): number {
  return similarity(query, candidate, { genreWeight: weights.genreWeight, artistWeight: weights.artistWeight });
}

/**
 * Upper bound of `neighborScore` for candidates whose genre cosine is at most `genreBound`: the
 * artist cosine is bounded only by 1, so with artistWeight > 0 the bound is
 * (g·genreBound + a) / (g + a), which equals genreBound when a = 0.
 */
export function blendedBound(
  genreBound: number,
  weights: Readonly<Pick<SimilarityWeights, 'genreWeight' | 'artistWeight'>>,
): number {
  const g = Math.max(0, weights.genreWeight);
  const a = Math.max(0, weights.artistWeight);
  if (!(g + a > 0)) return 0;
  return (g * genreBound + a * (a > 0 ? 1 : 0)) / (g + a);
}

export interface IndexCandidate {
  userId: string;
  taste: TasteFeatures;
  /** The entry's packed top items (`top-items-codec.ts`), decoded only for the neighbours kept. */
  top?: Uint8Array;
}

export interface SearchBudget {
  maxCells: number;
  maxItems: number;
}

/**
 * One neighbour search over the index, as a state machine so the same code runs against DynamoDB
 * (async, a wave of cells queried concurrently) and in memory (the evaluation):
 *
 *   for (let cells; (cells = s.nextCells()); ) for (const c of cells) s.offer(await read(c));
 *
 * Cells come best first by genre (`probePlan`, unoccupied ones skipped, at most `maxCells`);
 * candidates are ranked by `neighborScore`. The search stops when the budget is spent or when no
 * unread cell can beat the k-th neighbour under `blendedBound` (with an artist term this is
 * rarely before the budget: an unread user may share every artist).
 */
export class NeighborSearch {
  static readonly WAVE = 8;
  private readonly plan: ProbeEntry[];
  private readonly maxBoundFrom: Float64Array;
  private readonly best = new Map<string, number>();
  private next = 0;
  itemsSeen = 0;

  constructor(
    private readonly query: TasteFeatures,
    private readonly selfId: string,
    private readonly k: number,
    private readonly budget: SearchBudget,
    occupied: { has(cell: string): boolean },
    private readonly weights: Readonly<Pick<SimilarityWeights, 'genreWeight' | 'artistWeight'>>,
  ) {
    // Best cells first, empty ones skipped: the budget is spent on cells that hold users. When the
    // occupied cells are listable and a few thousand at most, only they are ranked (beyond that,
    // ranking all ~10k cells by number is as cheap as looking the names up).
    const names =
      occupied instanceof Set
        ? (occupied as Set<string>)
        : occupied instanceof Map
          ? (occupied as Map<string, unknown>)
          : undefined;
    const plan =
      names && names.size < 4000
        ? probePlanWithin(query.genres, names.keys())
        : probePlan(query.genres).filter((p) => occupied.has(p.cell));
    this.plan = plan.slice(0, Math.max(0, budget.maxCells));
    this.maxBoundFrom = new Float64Array(this.plan.length + 1);
    for (let i = this.plan.length - 1; i >= 0; i--)
      this.maxBoundFrom[i] = Math.max(this.maxBoundFrom[i + 1]!, blendedBound(this.plan[i]!.bound, weights));
  }

  /** The next wave of cells to read, or undefined when the search is done. */
  nextCells(): string[] | undefined {
    const i = this.next;
    if (i >= this.plan.length) return undefined;
    if (this.k > 0 && this.best.size >= this.k) {
      const worst = [...this.best.values()].sort((a, b) => b - a)[this.k - 1]!;
      if (this.maxBoundFrom[i]! <= worst) return undefined;
    }
    if (this.itemsSeen >= this.budget.maxItems) return undefined;
    this.next = i + NeighborSearch.WAVE;
    return this.plan.slice(i, i + NeighborSearch.WAVE).map((p) => p.cell);
  }

  offer(entries: Iterable<IndexCandidate>): void {
    for (const { userId, taste } of entries) {
      this.itemsSeen++;
      if (userId === this.selfId) continue;
      const s = neighborScore(this.query, taste, this.weights);
      // Unrelated tastes (no genre and no artist in common) are not neighbours, however few users there are.
      if (!(s > 0)) continue;
      const prev = this.best.get(userId);
      if (prev === undefined || s > prev) this.best.set(userId, s);
    }
  }

  result(): Neighbor[] {
    return mergeNeighbors(
      [],
      [...this.best].map(([userId, s]) => ({ userId, similarity: Math.round(s * 1e6) / 1e6 })),
      this.k,
    );
  }
}

// ---------------------------------------------------------------------------------------------

export interface Neighbor {
  userId: string;
  similarity: number;
}

function unitDot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function normalized(v: ArrayLike<number>): Float64Array {
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

const byNeighbor = (a: Neighbor, b: Neighbor) =>
  b.similarity - a.similarity || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);

/** Bounded best-k collector (k is small: a sorted insert beats a heap). */
class TopK {
  readonly items: Neighbor[] = [];
  constructor(readonly k: number) {}
  get worst(): number {
    return this.items.length < this.k ? Number.NEGATIVE_INFINITY : this.items[this.items.length - 1]!.similarity;
  }
  offer(userId: string, similarity: number): void {
    if (this.k <= 0) return;
    const items = this.items;
    if (items.length === this.k) {
      const last = items[items.length - 1]!;
      if (similarity < last.similarity || (similarity === last.similarity && userId >= last.userId)) return;
      items.pop();
    }
    let i = items.length;
    const n = { userId, similarity };
    while (i > 0 && byNeighbor(n, items[i - 1]!) < 0) i--;
    items.splice(i, 0, n);
  }
}

/** Exact k nearest by cosine (for recall measurement). */
export function exactTopK(
  vectors: Iterable<readonly [string, ArrayLike<number>]>,
  query: ArrayLike<number>,
  k: number,
  excludeUserId?: string,
): Neighbor[] {
  const q = normalized(query);
  const top = new TopK(k);
  for (const [id, v] of vectors) {
    if (id === excludeUserId) continue;
    top.offer(id, unitDot(q, v instanceof Float64Array && v.length === GENRE_COUNT ? v : normalized(v)));
  }
  return top.items;
}

export interface QueryOptions {
  /** Cells to read at most (DynamoDB Query calls; empty cells count). Default 256. */
  maxCells?: number;
  /** Stop after the cell that brings the items read to this many. Default unbounded. */
  maxItems?: number;
  excludeUserId?: string;
}

export interface QueryResult {
  neighbors: Neighbor[];
  itemsRead: number;
  cellsRead: number;
  /** True when the search stopped on the bound (the result is then exact). */
  exact: boolean;
}

/** In-memory model of the neighbour-index table (cell → userId → vector). */
export class InMemoryNeighborIndex {
  private readonly cells = new Map<string, Map<string, Float64Array>>();
  private readonly cellByUser = new Map<string, string>();

  constructor(private readonly opts: { scheme?: CellScheme; quantize?: boolean } = {}) {}

  get size(): number {
    return this.cellByUser.size;
  }

  get cellCount(): number {
    return this.cells.size;
  }

  /** Writes the user to its cell and removes it from the previous one if the cell changed. Returns the cell. */
  upsert(userId: string, vector: ArrayLike<number>): string {
    const v = this.opts.quantize ? decodeVector(encodeVector(vector)) : normalized(vector);
    const cell = cellOf(v, this.opts.scheme);
    const prev = this.cellByUser.get(userId);
    if (prev !== undefined && prev !== cell) this.cells.get(prev)?.delete(userId);
    let items = this.cells.get(cell);
    if (items === undefined) {
      items = new Map();
      this.cells.set(cell, items);
    }
    items.set(userId, v);
    this.cellByUser.set(userId, cell);
    return cell;
  }

  remove(userId: string): boolean {
    const cell = this.cellByUser.get(userId);
    if (cell === undefined) return false;
    this.cells.get(cell)?.delete(userId);
    this.cellByUser.delete(userId);
    return true;
  }

  cellOfUser(userId: string): string | undefined {
    return this.cellByUser.get(userId);
  }

  cellSize(cell: string): number {
    return this.cells.get(cell)?.size ?? 0;
  }

  *entries(): IterableIterator<[string, Float64Array]> {
    for (const items of this.cells.values()) yield* items;
  }

  query(vector: ArrayLike<number>, k: number, opts: QueryOptions = {}): QueryResult {
    const maxCells = opts.maxCells ?? 256;
    const maxItems = opts.maxItems ?? Number.POSITIVE_INFINITY;
    const q = normalized(vector);
    const top = new TopK(k);
    let itemsRead = 0;
    let cellsRead = 0;
    let exact = false;
    if (q.every((x) => x === 0)) return { neighbors: [], itemsRead: 0, cellsRead: 0, exact: true };
    const r = rankCells(q, this.opts.scheme ?? DEFAULT_SCHEME);
    for (let i = 0; ; i++) {
      if (i >= r.order.length || (top.items.length === k && r.maxBoundFrom[i]! <= top.worst)) {
        exact = true;
        break;
      }
      if (cellsRead >= maxCells || itemsRead >= maxItems) break;
      cellsRead++;
      const items = this.cells.get(r.name(r.order[i]!));
      if (items === undefined) continue;
      for (const [id, v] of items) {
        itemsRead++;
        if (id !== opts.excludeUserId) top.offer(id, unitDot(q, v));
      }
    }
    return { neighbors: top.items, itemsRead, cellsRead, exact };
  }
}

/**
 * Merge fresh candidates into the current neighbour list: candidates replace entries of the same
 * user (fresher similarity), best `k` kept, ties by userId.
 */
export function mergeNeighbors<N extends Neighbor>(current: readonly N[], candidates: readonly N[], k: number): N[] {
  const byId = new Map<string, N>();
  for (const n of current) byId.set(n.userId, n);
  for (const n of candidates) byId.set(n.userId, n);
  return [...byId.values()].sort(byNeighbor).slice(0, Math.max(0, k));
}

export interface RefreshPolicy {
  minIntervalMs: number;
  /** 1 − cosine(last snapshot, current) at or above which a refresh is due. */
  minDrift: number;
}

/** Whether a user's neighbours should be recomputed now. */
export function shouldRefresh(
  lastSnapshotVector: ArrayLike<number> | undefined,
  currentVector: ArrayLike<number>,
  lastRefreshTs: number | undefined,
  now: number,
  policy: RefreshPolicy,
): boolean {
  if (lastSnapshotVector === undefined || lastRefreshTs === undefined) return true;
  if (now - lastRefreshTs < policy.minIntervalMs) return false;
  const a = normalized(lastSnapshotVector);
  const b = normalized(currentVector);
  const za = a.every((x) => x === 0);
  const zb = b.every((x) => x === 0);
  if (za || zb) return za !== zb;
  const drift = 1 - unitDot(a, b);
  return drift >= policy.minDrift;
}

/**
 * A key of the sketch's strongest artists (the first `top`, as a set): an index entry is rewritten
 * when this changes, not on every small change of weights. 0 for an empty sketch.
 */
export function artistSketchKey(sketch: string | undefined, top = 8): number {
  if (!sketch) return 0;
  const ids: string[] = [];
  for (const part of sketch.split(',', top)) {
    const colon = part.lastIndexOf(':');
    if (colon > 0) ids.push(part.slice(0, colon));
  }
  ids.sort();
  // FNV-1a over the joined ids (ids are URI-encoded in the sketch, so ',' cannot occur in one).
  let h = 0x811c9dc5;
  const s = ids.join(',');
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

export interface IndexedState {
  cell: string;
  /** `encodeVector` output the entry was written with ('' when unknown). */
  indexedVec: string;
  indexedArtistsKey: number;
}

/**
 * Whether a refreshed user's index entry must be rewritten: it moved cell, or its genre vector
 * drifted by at least `minDrift` (1 − cosine) from what the entry holds, or its strongest artists
 * changed. Others rank the user by the entry, so small drifts are left until they add up.
 */
export function indexRewriteDue(
  previous: IndexedState | undefined,
  next: { cell: string; vector: ArrayLike<number>; artistsKey: number },
  minDrift: number,
): boolean {
  if (!previous || previous.indexedVec === '' || previous.cell !== next.cell) return true;
  if (previous.indexedArtistsKey !== next.artistsKey) return true;
  const a = normalized(decodeVector(previous.indexedVec));
  const b = normalized(next.vector);
  return 1 - unitDot(a, b) >= minDrift;
}
