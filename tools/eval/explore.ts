/**
 * Scratch exploration on the VALIDATION split only (dense re-implementation for speed; the
 * winners are then ported to shared/domain and re-measured through runSystem).
 *   npx tsx tools/eval/explore.ts ../shared/datasets/lastfm-hetrec2011 42
 */
import { tasteVector } from '../../shared/domain/similarity.ts';
import { artistGenresOf, loadLastfm } from '../loaders/lastfm.ts';
import { buildProfiles, type EvalData } from './evaluate.ts';
import { dedupe, evaluateLists, getOrInit, type Interaction, kCore, randomSplit } from './protocol.ts';

const USAGE = `Usage: npx tsx tools/eval/explore.ts [<lastfm dir>] [<seed>] [<grid>]

Grid searches on the VALIDATION split of <seed> (default 42) with a fast dense re-implementation of
the system's scoring; winners are ported to shared/domain and re-measured with \`npm run eval\`.
Never reads the test split.

  <lastfm dir>  Last.fm hetrec-2011 directory (default ../shared/datasets/lastfm-hetrec2011)
  <grid>        all (user + hybrid), user, hybrid, grid2, grid3, grid4, tags, tags2, usertags, extra, joint
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const [dir = '../shared/datasets/lastfm-hetrec2011', seedArg = '42', which = 'all'] = process.argv.slice(2);
const seed = Number(seedArg);
const ds = await loadLastfm(dir, {});
const rows: Interaction[] = ds.userArtists.map((r) => ({ user: r.userId, item: r.artistId, plays: r.plays }));
const filtered = kCore(dedupe(rows), 10);
const items = [...new Set(filtered.map((r) => r.item))].sort();
let { train } = randomSplit(filtered, seed, 0.2);
const vs = randomSplit(train, seed + 1, 0.2);
train = vs.train;
const test = vs.test;
const data: EvalData = { train, test, items, genres: ds.tagging.artistGenres, k: 10 };

const users = [...new Set(filtered.map((r) => r.user))].sort();
const U = users.length;
const I = items.length;
const uix = new Map(users.map((u, i) => [u, i]));
const iix = new Map(items.map((x, i) => [x, i]));
const R = new Float64Array(U * I);
for (const r of train) R[uix.get(r.user)! * I + iix.get(r.item)!] = 1;
const userItems: number[][] = users.map(() => []);
for (const r of train) userItems[uix.get(r.user)!]!.push(iix.get(r.item)!);
const deg = new Float64Array(I);
for (const l of userItems) for (const i of l) deg[i]!++;
const tests = new Map<string, Set<string>>();
for (const r of test) {
  getOrInit(tests, r.user, () => new Set<string>()).add(r.item);
}
const profiles = buildProfiles(data, 'binary');
const G = users.map((u) => tasteVector(profiles.get(u)!));

function evalScores(score: (u: number) => Float64Array) {
  const lists = new Map<string, string[]>();
  for (const user of tests.keys()) {
    const u = uix.get(user)!;
    const s = score(u);
    for (const i of userItems[u]!) s[i] = Number.NEGATIVE_INFINITY;
    const idx = [...s.keys()].filter((i) => s[i]! > 0);
    idx.sort((a, b) => s[b]! - s[a]! || (items[a]! < items[b]! ? -1 : 1));
    lists.set(
      user,
      idx.slice(0, 10).map((i) => items[i]!),
    );
  }
  return evaluateLists(lists, tests, 10, I);
}

// ---- user-user similarity
interface SimOpts {
  idf: number; // item weight = deg^-idf (0 = none)
  q: number; // asymmetry (0.5 = cosine)
  shrink: number;
  genre: number; // genre weight vs artist weight 0.5
}
function userSims(o: SimOpts): Float64Array {
  const w = Float64Array.from(deg, (d) => (d > 0 ? d ** -o.idf : 0));
  const norm2 = new Float64Array(U);
  for (let u = 0; u < U; u++) for (const i of userItems[u]!) norm2[u]! += w[i]! * w[i]!;
  const S = new Float64Array(U * U);
  const byItem: number[][] = items.map(() => []);
  for (let u = 0; u < U; u++) for (const i of userItems[u]!) byItem[i]!.push(u);
  const acc = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    acc.fill(0);
    for (const i of userItems[u]!) {
      const ww = w[i]! * w[i]!;
      for (const v of byItem[i]!) acc[v]! += ww;
    }
    for (let v = 0; v < U; v++) {
      if (v === u) continue;
      let a = 0;
      if (acc[v]! > 0) {
        a = acc[v]! / (norm2[u]! ** o.q * norm2[v]! ** (1 - o.q) + o.shrink);
      }
      let g = 0;
      if (o.genre > 0 && acc[v]! > 0) {
        const gu = G[u]!;
        const gv = G[v]!;
        for (let k = 0; k < gu.length; k++) g += gu[k]! * gv[k]!;
      }
      S[u * U + v] = (o.genre * g + 0.5 * a) / (o.genre + 0.5);
    }
  }
  return S;
}

function topNeighbors(S: Float64Array, k: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let u = 0; u < U; u++) {
    const idx: number[] = [];
    for (let v = 0; v < U; v++) if (S[u * U + v]! > 0) idx.push(v);
    idx.sort((a, b) => S[u * U + b]! - S[u * U + a]! || a - b);
    out.push(Int32Array.from(idx.slice(0, k)));
  }
  return out;
}

interface UserPart {
  alpha: number;
  k: number;
  gamma: number; // neighbour row normalisation: divide by n_v^gamma (l2 of binary with γ→ n^0.5)
}
function userScore(S: Float64Array, nb: Int32Array[], p: UserPart, u: number): Float64Array {
  const s = new Float64Array(I);
  const l = nb[u]!;
  for (let t = 0; t < Math.min(p.k, l.length); t++) {
    const v = l[t]!;
    const f = S[u * U + v]! ** p.alpha / userItems[v]!.length ** p.gamma;
    for (const i of userItems[v]!) s[i]! += f;
  }
  return s;
}

// ---- item-item (RP3beta-like)
function rp3(alpha: number, beta: number, topK: number): { j: Int32Array; w: Float64Array }[] {
  const W = new Float64Array(I * I);
  for (const row of userItems) {
    const us = (1 / row.length) ** alpha;
    for (const i of row) {
      const w = (1 / deg[i]!) ** alpha * us;
      for (const j of row) if (j !== i) W[i * I + j]! += w;
    }
  }
  const kept: { j: Int32Array; w: Float64Array }[] = [];
  for (let i = 0; i < I; i++) {
    const r: [number, number][] = [];
    for (let j = 0; j < I; j++) {
      const w = W[i * I + j]! * (deg[j]! > 0 ? deg[j]! ** -beta : 0);
      if (w > 0) r.push([j, w]);
    }
    r.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const t = r.slice(0, topK);
    kept.push({ j: Int32Array.from(t.map((x) => x[0])), w: Float64Array.from(t.map((x) => x[1])) });
  }
  return kept;
}
function itemScore(M: { j: Int32Array; w: Float64Array }[], u: number): Float64Array {
  const s = new Float64Array(I);
  for (const i of userItems[u]!) {
    const { j, w } = M[i]!;
    for (let t = 0; t < j.length; t++) s[j[t]!]! += w[t]!;
  }
  return s;
}
const maxOf = (a: Float64Array) => a.reduce((m, x) => (x > m ? x : m), 0);

function run(label: string, f: (u: number) => Float64Array) {
  const m = evalScores(f);
  console.log(
    `${label}\tnDCG ${m['ndcg@k'].toFixed(4)}\tP ${m['precision@k'].toFixed(4)}\tcov ${m.coverage.toFixed(3)}`,
  );
  return m['ndcg@k'];
}

const popPen = (beta: number) => Float64Array.from(deg, (d) => Math.max(1, d) ** -beta);
function userOnly(S: Float64Array, nb: Int32Array[], p: UserPart, beta: number) {
  const pen = popPen(beta);
  return (u: number) => {
    const s = userScore(S, nb, p, u);
    for (let i = 0; i < I; i++) s[i]! *= pen[i]!;
    return s;
  };
}

const base: SimOpts = { idf: 0, q: 0.5, shrink: 0, genre: 0.1 };
const up: UserPart = { alpha: 2, k: 100, gamma: 0.5 };
const t0 = performance.now();
if (which === 'all' || which === 'user') {
  for (const o of [
    base,
    { ...base, genre: 0 },
    { ...base, idf: 0.25 },
    { ...base, idf: 0.5 },
    { ...base, q: 0.7 },
    { ...base, shrink: 2 },
    { ...base, idf: 0.25, q: 0.7 },
  ]) {
    const S = userSims(o);
    const nb = topNeighbors(S, 400);
    for (const p of [up, { ...up, k: 200 }, { ...up, alpha: 3 }, { ...up, gamma: 0 }, { ...up, gamma: 1 }])
      for (const beta of [0.3, 0.4])
        run(`user ${JSON.stringify(o)} ${JSON.stringify(p)} β=${beta}`, userOnly(S, nb, p, beta));
    console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s`);
  }
}
if (which === 'all' || which === 'hybrid') {
  const S = userSims(base);
  const nb = topNeighbors(S, 400);
  for (const [a, b, k] of [
    [0.7, 0.4, 200],
    [1, 0.5, 100],
    [0.7, 0.3, 100],
  ] as const) {
    const M = rp3(a, b, k);
    run(`rp3 ${a},${b},${k}`, (u) => itemScore(M, u));
    for (const beta of [0.3, 0.4])
      for (const wItem of [0.3, 0.5, 0.7]) {
        const pen = popPen(beta);
        run(`hybrid rp3 ${a},${b},${k} β=${beta} w=${wItem}`, (u) => {
          const su = userScore(S, nb, up, u);
          for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
          const si = itemScore(M, u);
          const mu = maxOf(su) || 1;
          const mi = maxOf(si) || 1;
          for (let i = 0; i < I; i++) su[i] = ((1 - wItem) * su[i]!) / mu + (wItem * si[i]!) / mi;
          return su;
        });
      }
    console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s`);
  }
}
if (which === 'grid2') {
  const Ms = new Map<string, { j: Int32Array; w: Float64Array }[]>();
  for (const [a, b, k] of [
    [0.7, 0.4, 200],
    [1, 0.5, 100],
  ] as const)
    Ms.set(`${a},${b},${k}`, rp3(a, b, k));
  for (const idf of [0.5, 0.75, 1])
    for (const genre of [0.1, 0.2]) {
      const o = { ...base, idf, genre };
      const S = userSims(o);
      const nb = topNeighbors(S, 400);
      for (const k of [100, 200])
        for (const beta of [0.3, 0.4]) {
          const p = { ...up, k };
          const pen = popPen(beta);
          run(`user idf=${idf} g=${genre} k=${k} β=${beta}`, userOnly(S, nb, p, beta));
          for (const [mk, M] of Ms)
            for (const wItem of [0.3, 0.5])
              run(`  hybrid idf=${idf} g=${genre} k=${k} β=${beta} rp3=${mk} w=${wItem}`, (u) => {
                const su = userScore(S, nb, p, u);
                for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
                const si = itemScore(M, u);
                const mu = maxOf(su) || 1;
                const mi = maxOf(si) || 1;
                for (let i = 0; i < I; i++) su[i] = ((1 - wItem) * su[i]!) / mu + (wItem * si[i]!) / mi;
                return su;
              });
        }
      console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s`);
    }
}
if (which === 'grid3') {
  const Ms = new Map<string, { j: Int32Array; w: Float64Array }[]>();
  for (const [a, b, k] of [
    [0.7, 0.4, 200],
    [0.8, 0.4, 200],
    [0.7, 0.45, 300],
  ] as const)
    Ms.set(`${a},${b},${k}`, rp3(a, b, k));
  for (const genre of [0.2, 0.3]) {
    const o = { ...base, idf: 0.5, genre };
    const S = userSims(o);
    const nb = topNeighbors(S, 400);
    for (const alpha of [1.5, 2])
      for (const k of [100, 150])
        for (const beta of [0.35, 0.4, 0.45]) {
          const p = { ...up, k, alpha };
          const pen = popPen(beta);
          for (const [mk, M] of Ms)
            for (const wItem of [0.4, 0.5, 0.6])
              run(`  hybrid g=${genre} a=${alpha} k=${k} β=${beta} rp3=${mk} w=${wItem}`, (u) => {
                const su = userScore(S, nb, p, u);
                for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
                const si = itemScore(M, u);
                const mu = maxOf(su) || 1;
                const mi = maxOf(si) || 1;
                for (let i = 0; i < I; i++) su[i] = ((1 - wItem) * su[i]!) / mu + (wItem * si[i]!) / mi;
                return su;
              });
        }
    console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s`);
  }
}
if (which === 'grid4') {
  const M = rp3(0.7, 0.4, 200);
  const p = { ...up, k: 100 };
  const pen = popPen(0.4);
  const blend =
    (S: Float64Array, nb: Int32Array[], w: number, mode: 'max' | 'sum' | 'l2' | 'rank' | 'z') => (u: number) => {
      const su = userScore(S, nb, p, u);
      for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
      const si = itemScore(M, u);
      for (const i of userItems[u]!) {
        su[i] = 0;
        si[i] = 0;
      }
      const norm = (a: Float64Array): Float64Array => {
        if (mode === 'max') {
          const m = maxOf(a) || 1;
          return a.map((x) => x / m);
        }
        if (mode === 'sum') {
          const m = a.reduce((x, y) => x + y, 0) || 1;
          return a.map((x) => x / m);
        }
        if (mode === 'l2') {
          const m = Math.sqrt(a.reduce((x, y) => x + y * y, 0)) || 1;
          return a.map((x) => x / m);
        }
        if (mode === 'z') {
          const nz = a.filter((x) => x > 0);
          const mean = nz.reduce((x, y) => x + y, 0) / Math.max(1, nz.length);
          const sd = Math.sqrt(nz.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, nz.length)) || 1;
          return a.map((x) => (x > 0 ? 10 + (x - mean) / sd : 0));
        }
        const idx = [...a.keys()].filter((i) => a[i]! > 0).sort((x, y) => a[y]! - a[x]!);
        const r = new Float64Array(I);
        idx.forEach((i, k) => {
          r[i] = 1 / (20 + k);
        });
        return r;
      };
      const nu = norm(su);
      const ni = norm(si);
      for (let i = 0; i < I; i++) su[i] = (1 - w) * nu[i]! + w * ni[i]!;
      return su;
    };
  for (const q of [0.5, 0.6, 0.7]) {
    const S = userSims({ ...base, idf: 0.5, genre: 0.2, q });
    const nb = topNeighbors(S, 400);
    for (const mode of ['max', 'sum', 'l2', 'rank', 'z'] as const)
      for (const w of [0.4, 0.5, 0.6]) run(`q=${q} ${mode} w=${w}`, blend(S, nb, w, mode));
    console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s`);
  }
}
if (which === 'tags' || which === 'tags2' || which === 'joint' || which === 'extra' || which === 'usertags') {
  // held-out-free artist tag vectors (TF-IDF over tags), item-item cosine top-K
  const { test: outerTest } = randomSplit(filtered, seed, 0.2);
  const held = new Set([...outerTest, ...test].map((r) => `${r.user}\u0000${r.item}`));
  const tagIx = new Map<string, number>();
  const tv: Map<number, number>[] = items.map(() => new Map());
  for (const a of ds.tagging.assignments) {
    if (held.has(`${a.userId}\u0000${a.artistId}`)) continue;
    const i = iix.get(a.artistId);
    if (i === undefined) continue;
    let t = tagIx.get(a.tag);
    if (t === undefined) {
      t = tagIx.size;
      tagIx.set(a.tag, t);
    }
    tv[i]!.set(t, (tv[i]!.get(t) ?? 0) + 1);
  }
  const df = new Float64Array(tagIx.size);
  for (const m of tv) for (const t of m.keys()) df[t]!++;
  const vecs = tv.map((m) => {
    const v = new Map<number, number>();
    let n = 0;
    for (const [t, c] of m) {
      const x = Math.log1p(c) * Math.log(I / df[t]!);
      v.set(t, x);
      n += x * x;
    }
    n = Math.sqrt(n) || 1;
    for (const [t, x] of v) v.set(t, x / n);
    return v;
  });
  console.log(`tagged artists ${vecs.filter((v) => v.size > 0).length} / ${I}, tags ${tagIx.size}`);
  if (which === 'tags2') {
    // genre-mapped content (what the catalog already carries), held-out-free
    const gm = artistGenresOf(ds.tagging.assignments, (a) => held.has(`${a.userId}\u0000${a.artistId}`));
    for (let i = 0; i < I; i++) {
      const g = gm.get(items[i]!) ?? {};
      const v = new Map<number, number>();
      let n = 0;
      for (const k in g) {
        const x = g[k]!;
        if (!(x > 0)) continue;
        let t = tagIx.get(`genre:${k}`);
        if (t === undefined) {
          t = tagIx.size;
          tagIx.set(`genre:${k}`, t);
        }
        v.set(t, x);
        n += x * x;
      }
      n = Math.sqrt(n) || 1;
      for (const [t, x] of v) v.set(t, x / n);
      vecs[i] = v;
    }
  }
  const CK = Number(process.env.CK ?? 50);
  const C: { j: Int32Array; w: Float64Array }[] = [];
  for (let i = 0; i < I; i++) {
    const r: [number, number][] = [];
    for (let j = 0; j < I; j++) {
      if (j === i) continue;
      const [a, b] = vecs[i]!.size < vecs[j]!.size ? [vecs[i]!, vecs[j]!] : [vecs[j]!, vecs[i]!];
      let s = 0;
      for (const [t, x] of a) {
        const y = b.get(t);
        if (y !== undefined) s += x * y;
      }
      if (s > 0) r.push([j, s]);
    }
    r.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    const t = r.slice(0, CK);
    C.push({ j: Int32Array.from(t.map((x) => x[0])), w: Float64Array.from(t.map((x) => x[1])) });
  }
  if (which === 'usertags') {
    const M = rp3(0.7, 0.4, 200);
    const pen = popPen(0.4);
    // user tag profile: sum of own artists' TF-IDF tag vectors, L2-normalized (dense over tags)
    const T = tagIx.size;
    const UT = new Float64Array(U * T);
    for (let u = 0; u < U; u++) {
      let n = 0;
      for (const i of userItems[u]!) for (const [t, x] of vecs[i]!) UT[u * T + t]! += x;
      for (let t = 0; t < T; t++) n += UT[u * T + t]! ** 2;
      n = Math.sqrt(n) || 1;
      for (let t = 0; t < T; t++) UT[u * T + t]! /= n;
    }
    const blend = (S: Float64Array, nb: Int32Array[], wc: number) => (u: number) => {
      const su = userScore(S, nb, up, u);
      for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
      const si = itemScore(M, u);
      const sc = itemScore(C, u);
      for (const i of userItems[u]!) su[i] = si[i] = sc[i] = 0;
      const mu = maxOf(su) || 1;
      const mi = maxOf(si) || 1;
      const mc = maxOf(sc) || 1;
      for (let i = 0; i < I; i++) su[i] = (0.5 * su[i]!) / mu + (0.5 * si[i]!) / mi + (wc * sc[i]!) / mc;
      return su;
    };
    const S0 = userSims({ ...base, idf: 0.5, genre: 0 });
    for (const tw of [0.1, 0.2, 0.4]) {
      const S = new Float64Array(U * U);
      for (let u = 0; u < U; u++)
        for (let v = 0; v < U; v++) {
          const a = S0[u * U + v]!; // = 0.5*cos/0.5 = cos (genre 0)
          if (a <= 0) continue;
          let g = 0;
          for (let t = 0; t < T; t++) g += UT[u * T + t]! * UT[v * T + t]!;
          S[u * U + v] = (tw * g + 0.5 * a) / (tw + 0.5);
        }
      const nb = topNeighbors(S, 400);
      for (const wc of [0, 0.2]) run(`user tag-profile sim weight ${tw}, content κ ${wc}`, blend(S, nb, wc));
      console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s`);
    }
    process.exit(0);
  }
  if (which === 'extra') {
    const M = rp3(0.7, 0.4, 200);
    const S = userSims({ ...base, idf: 0.5, genre: 0.2 });
    const nb = topNeighbors(S, 400);
    const pen = popPen(0.4);
    // item cosine (ItemKNN) lists, top-100
    const byItem: number[][] = items.map(() => []);
    for (let u = 0; u < U; u++) for (const i of userItems[u]!) byItem[i]!.push(u);
    const K: { j: Int32Array; w: Float64Array }[] = [];
    const acc = new Float64Array(I);
    for (let i = 0; i < I; i++) {
      acc.fill(0);
      for (const u of byItem[i]!) for (const j of userItems[u]!) if (j !== i) acc[j]! += 1;
      const r: [number, number][] = [];
      for (let j = 0; j < I; j++) if (acc[j]! > 0) r.push([j, acc[j]! / Math.sqrt(deg[i]! * deg[j]!)]);
      r.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const t = r.slice(0, 100);
      K.push({ j: Int32Array.from(t.map((x) => x[0])), w: Float64Array.from(t.map((x) => x[1])) });
    }
    // mean log popularity per user (for a personalized penalty)
    const mlp = userItems.map((l) => l.reduce((a, i) => a + Math.log(deg[i]!), 0) / Math.max(1, l.length));
    const avg = mlp.reduce((a, b) => a + b, 0) / U;
    const score = (u: number, wk: number, extraBeta: number, pers: number) => {
      const su = userScore(S, nb, up, u);
      for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
      const si = itemScore(M, u);
      const sc = itemScore(C, u);
      const sk = wk > 0 ? itemScore(K, u) : new Float64Array(I);
      for (const i of userItems[u]!) su[i] = si[i] = sc[i] = sk[i] = 0;
      const mu = maxOf(su) || 1;
      const mi = maxOf(si) || 1;
      const mc = maxOf(sc) || 1;
      const mk = maxOf(sk) || 1;
      const b = extraBeta + pers * (mlp[u]! - avg);
      for (let i = 0; i < I; i++)
        su[i] =
          ((0.5 * su[i]!) / mu + (0.5 * si[i]!) / mi + (0.2 * sc[i]!) / mc + (wk * sk[i]!) / mk) *
          Math.max(1, deg[i]!) ** -b;
      return su;
    };
    run('base', (u) => score(u, 0, 0, 0));
    for (const wk of [0.1, 0.2, 0.4]) run(`+itemknn ${wk}`, (u) => score(u, wk, 0, 0));
    for (const eb of [-0.1, -0.05, 0.05, 0.1]) run(`extra β ${eb}`, (u) => score(u, 0, eb, 0));
    for (const pe of [-0.1, -0.05, 0.05, 0.1]) run(`personal β slope ${pe}`, (u) => score(u, 0, 0, pe));
    process.exit(0);
  }
  if (which === 'joint') {
    const M = rp3(0.7, 0.4, 200);
    for (const idf of [0.5, 0.75])
      for (const genre of [0.2, 0.3]) {
        const S = userSims({ ...base, idf, genre });
        const nb = topNeighbors(S, 400);
        for (const beta of [0.3, 0.4, 0.5]) {
          const pen = popPen(beta);
          for (const w of [0.4, 0.5, 0.6])
            for (const wc of [0.15, 0.2, 0.3])
              run(`joint idf=${idf} g=${genre} β=${beta} ω=${w} κ=${wc}`, (u) => {
                const su = userScore(S, nb, up, u);
                for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
                const si = itemScore(M, u);
                const sc = itemScore(C, u);
                for (const i of userItems[u]!) su[i] = si[i] = sc[i] = 0;
                const mu = maxOf(su) || 1;
                const mi = maxOf(si) || 1;
                const mc = maxOf(sc) || 1;
                for (let i = 0; i < I; i++) su[i] = ((1 - w) * su[i]!) / mu + (w * si[i]!) / mi + (wc * sc[i]!) / mc;
                return su;
              });
        }
        console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s`);
      }
    process.exit(0);
  }
  run('content only', (u) => itemScore(C, u));
  const M = rp3(0.7, 0.4, 200);
  const S = userSims({ ...base, idf: 0.5, genre: 0.2 });
  const nb = topNeighbors(S, 400);
  const pen = popPen(0.4);
  for (const wc of [0.2, 0.3, 0.5])
    for (const cb of [0, 0.2])
      run(`hybrid + content wc=${wc} contentβ=${cb}`, (u) => {
        const su = userScore(S, nb, up, u);
        for (let i = 0; i < I; i++) su[i]! *= pen[i]!;
        const si = itemScore(M, u);
        const sc = itemScore(C, u);
        for (let i = 0; i < I; i++) sc[i]! *= deg[i]! > 0 ? deg[i]! ** -cb : 0;
        for (const i of userItems[u]!) su[i] = si[i] = sc[i] = 0;
        const mu = maxOf(su) || 1;
        const mi = maxOf(si) || 1;
        const mc = maxOf(sc) || 1;
        for (let i = 0; i < I; i++) su[i] = (0.5 * su[i]!) / mu + (0.5 * si[i]!) / mi + (wc * sc[i]!) / mc;
        return su;
      });
}
