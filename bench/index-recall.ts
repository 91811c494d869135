/**
 * index: recall@10 of the cell index (the in-memory model of the neighbour-index table, with the
 * topology's search budget and the stored 16-dim quantization) against exact search, and the
 * fraction of profiles read per refresh; hnswlib-node (HNSW) on the same vectors as the peer.
 * Synthetic taste vectors at N = 10k, 100k, 1M, and Last.fm users' genre vectors built with
 * shared/domain (artist tags → genreWeightsFromTags; user plays → buildProfile).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENRE_COUNT, GENRES, genreWeightsFromTags } from '../shared/domain/genres.ts';
import { buildProfile } from '../shared/domain/profile/profile.ts';
import { genreVector } from '../shared/domain/similarity.ts';
import { resolveSettings } from '../shared/topology.ts';
import { log } from './env.ts';
import { exactTopK, InMemoryNeighborIndex } from './in-memory-index.ts';
import { median, rng, zipf } from './lib.ts';

const K = 10;

/** Taste vectors: 1–4 main genres (popular genres likelier, weights skewed) plus a few faint ones. */
export function syntheticVectors(n: number, seed = 3): Float64Array[] {
  const random = rng(seed);
  const pick = zipf(GENRE_COUNT, 1.0, random);
  const out: Float64Array[] = new Array(n);
  for (let u = 0; u < n; u++) {
    const v = new Float64Array(GENRE_COUNT);
    const main = 1 + Math.floor(random() * 4);
    for (let g = 0; g < main; g++) v[pick()]! += random() ** 2 + 0.05;
    const faint = 2 + Math.floor(random() * 6);
    for (let g = 0; g < faint; g++) v[Math.floor(random() * GENRE_COUNT)]! += random() * 0.08;
    let norm = 0;
    for (let i = 0; i < GENRE_COUNT; i++) norm += v[i]! * v[i]!;
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < GENRE_COUNT; i++) v[i]! *= inv;
    out[u] = v;
  }
  return out;
}

export interface RecallFigures {
  n: number;
  queries: number;
  recallAt10: number;
  fractionRead: number;
  itemsReadMedian: number;
  cellsReadMedian: number;
  exactStops: number;
  usPerQuery: number;
  hnsw?: { recallAt10: number; usPerQuery: number; buildSeconds: number; ef: number; m: number };
}

type Hnswlib = typeof import('hnswlib-node');
let hnswlib: Hnswlib | undefined;

/** hnswlib-node is a native addon; npm 11 skips its build script unless approved (see BENCHMARKS.md). */
async function loadHnswlib(): Promise<Hnswlib | undefined> {
  try {
    hnswlib ??= ((await import('hnswlib-node')) as { default: Hnswlib }).default;
  } catch (err) {
    log(`index: hnswlib-node unavailable, HNSW peer skipped (${(err as Error).message.split('\n')[0]})`);
  }
  return hnswlib;
}

export function measureRecall(
  vectors: Float64Array[],
  opts: { queries: number; hnsw: boolean; label: string; seed?: number },
): RecallFigures {
  const settings = resolveSettings();
  const n = vectors.length;
  const ids = vectors.map((_, i) => `u${i}`);
  const index = new InMemoryNeighborIndex({ quantize: true });
  for (let i = 0; i < n; i++) index.upsert(ids[i]!, vectors[i]!);
  const entries: [string, Float64Array][] = vectors.map((v, i) => [ids[i]!, v]);
  const random = rng(opts.seed ?? 9);
  const qs = Array.from({ length: Math.min(opts.queries, n) }, () => Math.floor(random() * n));
  const truth = qs.map((q) => new Set(exactTopK(entries, vectors[q]!, K, ids[q]).map((x) => x.userId)));

  const recalls: number[] = [];
  const items: number[] = [];
  const cells: number[] = [];
  let exactStops = 0;
  const t0 = performance.now();
  for (const [j, q] of qs.entries()) {
    const r = index.query(vectors[q]!, K, {
      maxCells: settings.NEIGHBOR_MAX_CELLS,
      maxItems: settings.NEIGHBOR_MAX_ITEMS,
      excludeUserId: ids[q]!,
    });
    recalls.push(r.neighbors.filter((x) => truth[j]!.has(x.userId)).length / K);
    items.push(r.itemsRead);
    cells.push(r.cellsRead);
    if (r.exact) exactStops++;
  }
  const usPerQuery = ((performance.now() - t0) * 1000) / qs.length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const fig: RecallFigures = {
    n,
    queries: qs.length,
    recallAt10: mean(recalls),
    fractionRead: mean(items) / n,
    itemsReadMedian: median(items),
    cellsReadMedian: median(cells),
    exactStops,
    usPerQuery,
  };

  log(
    `index[${opts.label}]: cells recall@10 ${fig.recallAt10.toFixed(3)} reading ${(fig.fractionRead * 100).toFixed(2)}% (${fig.usPerQuery.toFixed(0)} µs/query)`,
  );
  if (opts.hnsw && hnswlib) {
    const m = 16;
    const ef = 64;
    const tb = performance.now();
    const h = new hnswlib.HierarchicalNSW('cosine', GENRE_COUNT);
    h.initIndex(n, m, 100, 100);
    for (let i = 0; i < n; i++) {
      h.addPoint(Array.from(vectors[i]!), i);
      if (i > 0 && i % 200_000 === 0) log(`index[${opts.label}]: HNSW build ${i}/${n}…`);
    }
    const buildSeconds = (performance.now() - tb) / 1000;
    h.setEf(ef);
    const hr: number[] = [];
    const tq = performance.now();
    for (const [j, q] of qs.entries()) {
      const res = h.searchKnn(Array.from(vectors[q]!), K + 1);
      const found = res.neighbors.filter((x) => x !== q).slice(0, K);
      hr.push(found.filter((x) => truth[j]!.has(ids[x]!)).length / K);
    }
    fig.hnsw = { recallAt10: mean(hr), usPerQuery: ((performance.now() - tq) * 1000) / qs.length, buildSeconds, ef, m };
  }
  return fig;
}

/** Last.fm hetrec-2011 users as genre vectors, through the domain code (no I/O in the domain). */
export function lastfmVectors(dir: string): Float64Array[] {
  const read = (f: string) => readFileSync(join(dir, f), 'latin1').split(/\r?\n/).slice(1).filter(Boolean);
  const tagName = new Map<string, string>();
  for (const line of read('tags.dat')) {
    const [id, value] = line.split('\t');
    if (id && value) tagName.set(id, value);
  }
  const artistTags = new Map<string, Map<string, number>>();
  for (const line of read('user_taggedartists.dat')) {
    const [, artistId, tagId] = line.split('\t');
    const tag = tagName.get(tagId!);
    if (!artistId || !tag) continue;
    let m = artistTags.get(artistId);
    if (!m) {
      m = new Map();
      artistTags.set(artistId, m);
    }
    m.set(tag, (m.get(tag) ?? 0) + 1);
  }
  const artistGenres = new Map<string, Record<string, number>>();
  for (const [artistId, tags] of artistTags) {
    const w = genreWeightsFromTags([...tags].map(([tag, count]) => ({ tag, count })));
    if (Object.keys(w).length > 0) artistGenres.set(artistId, w);
  }
  const plays = new Map<string, { artistId: string; weight: number }[]>();
  for (const line of read('user_artists.dat')) {
    const [userId, artistId, weight] = line.split('\t');
    if (!userId || !artistId) continue;
    let list = plays.get(userId);
    if (!list) {
      list = [];
      plays.set(userId, list);
    }
    list.push({ artistId, weight: Number(weight) });
  }
  const ts = Date.UTC(2011, 0, 1);
  const out: Float64Array[] = [];
  for (const [userId, list] of plays) {
    const events = list.map((p, i) => ({
      eventId: `${userId}-${i}`,
      artistId: p.artistId,
      ts,
      type: 'play' as const,
      plays: p.weight,
    }));
    const profile = buildProfile(userId, events, {
      genresOf: (e) => artistGenres.get(e.artistId),
      weightOf: (e) => Math.log1p(e.plays),
      recentEventIdsCapacity: 0,
    });
    const v = genreVector(profile.genres);
    if (v.some((x) => x > 0)) out.push(v);
  }
  return out;
}

export async function indexBench(quick: boolean, lastfmDir: string | undefined) {
  await loadHnswlib();
  const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const bySize: RecallFigures[] = [];
  for (const n of sizes) {
    log(`index: N = ${n}…`);
    const fig = measureRecall(syntheticVectors(n), {
      queries: quick ? 100 : 200,
      hnsw: true,
      label: String(n),
    });
    log(
      `index: N = ${n}: recall@10 ${fig.recallAt10.toFixed(3)} reading ${(fig.fractionRead * 100).toFixed(2)}%; HNSW ${fig.hnsw?.recallAt10.toFixed(3)}`,
    );
    bySize.push(fig);
  }
  let lastfm: (RecallFigures & { users: number }) | { skipped: string } = { skipped: 'no --lastfm directory' };
  if (lastfmDir && existsSync(join(lastfmDir, 'user_artists.dat'))) {
    const vectors = lastfmVectors(lastfmDir);
    lastfm = { users: vectors.length, ...measureRecall(vectors, { queries: 500, hnsw: true, label: 'lastfm' }) };
  } else if (lastfmDir) lastfm = { skipped: `${lastfmDir} has no user_artists.dat` };
  const largest = bySize.at(-1)!;
  return {
    n: largest.n,
    recallAt10: largest.recallAt10,
    fractionRead: largest.fractionRead,
    hnswRecallAt10: largest.hnsw?.recallAt10 ?? Number.NaN,
    bySize,
    lastfm,
    genres: GENRES.length,
  };
}
