/**
 * responsiveness (issue #22): do the answers follow the session? On the Last.fm world as the
 * evaluation's pipeline mode feeds it (tools/eval/online.ts: the catalog and the training split of
 * seed 42 through Kafka, one item model build, candidate sets rebuilt; here the history is two
 * hours old, so nobody has a session at the start), sampled listeners each play a session of
 * k = 1…5 plays of one artist from genres they do not play (none of the artist's genres is in the
 * listener's training artists' genres), through POST /events, one play at a time. After each play:
 *
 * - latency: from the play's 202 to the first GET /users/{id}/recommendations?kind=artist whose
 *   `session` shows the play (the artist's seed weight ≥ k − 0.5: each play adds ~1, and the
 *   plays of a session are seconds apart against a 15-minute half-life), polled back to back;
 * - share: of that answer's top 10, and of GET /users/{id}/radio?kind=artist&limit=10 (no seed:
 *   the session) right after, the items in the artist's neighbourhood — its item-model lists
 *   (co-listening and content, as the build wrote them) or one of its genres (`itemHasGenre`);
 *   also the items the answer gives "because you just played …" as a reason. k = 0 is the same
 *   before the first play (radio: seeded by the favourites).
 *
 * Then, with the pipeline idle: DynamoDB requests per answer (the in-process counter, every read
 * handler request), two passes over the session listeners and two over as many listeners without
 * a session, so the session's cost is read against the same world's no-session figure; and new
 * sessions from their first play (artists no answer has seeded yet: lists and names not cached),
 * one recommendation and one radio after each of 3 plays.
 */

import { waitUntilDrained } from '../local/pipeline.ts';
import { type RequestCounter, resetStores, type Stores, storesFromEnv } from '../shared/adapters/dynamodb/stores.ts';
import { ItemModelCache } from '../shared/adapters/item-model-cache.ts';
import { itemKindOf } from '../shared/domain/catalog/catalog.ts';
import { itemHasGenre } from '../shared/domain/ranking/finish.ts';
import { splitData } from '../tools/eval/data.ts';
import type { EvalData } from '../tools/eval/evaluate.ts';
import { type LastfmWorld, lastfmArtistId, lastfmUserId, startLastfmWorld } from '../tools/eval/online.ts';
import { getOrInit } from '../tools/eval/protocol.ts';
import { loadLastfm } from '../tools/loaders/lastfm.ts';
import { cleanups, infrastructure, log } from './env.ts';
import { median, percentile, rng } from './lib.ts';

const PLAYS = 5;
const TOP = 10;
const POLL_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

interface Answer {
  session: { strength: number; seeds: { artistId: string; name: string | null; weight: number }[] } | null;
  basis?: string;
  items: { artistId: string; reasons: string[] }[];
}

interface Step {
  k: number;
  latencyMs: number | null;
  recShare: number;
  radioShare: number;
  recJustPlayed: number;
  radioJustPlayed: number;
  strength: number;
  /** The answer's session names the played artist. */
  seedNamed: boolean;
}

/** A listener, the artist they play, and that artist's neighbourhood (product ids). */
interface Session {
  user: string;
  artist: string;
  neighbourhood: Set<string>;
}

/** The running world as the measurements use it: GET an answer, POST a play, wait for idle. */
interface Client {
  get(path: string): Promise<Answer>;
  /** Posts one play now; resolves at its 202. */
  play(user: string, artist: string): Promise<number>;
  idle(): Promise<void>;
}

const recsPath = (u: string) => `/users/${u}/recommendations?kind=artist&limit=${TOP}`;
const radioPath = (u: string) => `/users/${u}/radio?kind=artist&limit=${TOP}`;

function client(world: LastfmWorld): Client {
  const url = world.pipeline.url;
  const headers = { authorization: 'Bearer eval' };
  return {
    async get(path) {
      const res = await fetch(`${url}${path}`, { headers });
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Answer;
    },
    async play(user, artist) {
      const res = await fetch(`${url}/events`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: user, artistId: artist, ts: Date.now(), type: 'play' }),
      });
      const accepted = performance.now();
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`POST /events: ${res.status}`);
      return accepted;
    },
    idle: () => waitUntilDrained(world.pipeline.mappings, { timeoutMs: 120_000, quietChecks: 2, log }),
  };
}

/**
 * Listeners in a seeded shuffle, each with an artist drawn uniformly from those none of whose
 * genres any of their training artists carries (and not one of their own, training or held out);
 * the artist's neighbourhood from the item model as the build wrote it, plus its genres.
 */
class SessionPicker {
  private readonly rand = rng(42);
  readonly users: string[];
  private cursor = 0;
  private readonly own = new Map<string, Set<string>>();
  private readonly played = new Map<string, Set<string>>();
  private readonly lists = new ItemModelCache();

  constructor(
    private readonly data: EvalData,
    private readonly stores: Stores,
  ) {
    for (const r of [...data.train, ...data.test]) getOrInit(this.own, r.user, () => new Set()).add(r.item);
    for (const r of data.train) {
      const genres = getOrInit(this.played, r.user, () => new Set());
      for (const g of Object.keys(data.genres.get(r.item) ?? {})) genres.add(g);
    }
    this.users = [...this.played.keys()].sort();
    for (let i = this.users.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [this.users[i], this.users[j]] = [this.users[j]!, this.users[i]!];
    }
  }

  private genresOf(a: string): string[] {
    const g = this.data.genres.get(a) ?? {};
    return Object.keys(g).filter((x) => itemHasGenre(g, x));
  }

  /** The next `n` listeners of the order that have such an artist. */
  async next(n: number): Promise<Session[]> {
    const out: Session[] = [];
    while (out.length < n && this.cursor < this.users.length) {
      const user = this.users[this.cursor++]!;
      const eligible = this.data.items.filter((a) => {
        const gs = this.genresOf(a);
        return gs.length > 0 && !this.own.get(user)!.has(a) && gs.every((g) => !this.played.get(user)!.has(g));
      });
      if (eligible.length === 0) continue;
      const artist = eligible[Math.floor(this.rand() * eligible.length)]!;
      out.push({ user: lastfmUserId(user), artist: lastfmArtistId(artist), neighbourhood: await this.around(artist) });
    }
    return out;
  }

  /** The next `n` listeners of the order, whatever their artists (no session is played for them). */
  skip(n: number): string[] {
    const out = this.users.slice(this.cursor, this.cursor + n).map(lastfmUserId);
    this.cursor += out.length;
    return out;
  }

  private async around(artist: string): Promise<Set<string>> {
    const id = lastfmArtistId(artist);
    const model = (await this.lists.lists(this.stores, itemKindOf('artist'), [id])).get(id);
    const out = new Set([...(model?.similar?.ids ?? []), ...(model?.content?.ids ?? [])]);
    const genres = this.genresOf(artist);
    for (const a of this.data.items) {
      const g = this.data.genres.get(a) ?? {};
      if (genres.some((x) => itemHasGenre(g, x))) out.add(lastfmArtistId(a));
    }
    out.delete(id);
    return out;
  }
}

function step(k: number, s: Session, rec: Answer, radio: Answer, latencyMs: number | null): Step {
  const top = (a: Answer) => a.items.slice(0, TOP);
  const share = (a: Answer) => top(a).filter((i) => s.neighbourhood.has(i.artistId)).length / TOP;
  const justPlayed = (a: Answer) =>
    top(a).filter((i) => i.reasons.some((r) => r.startsWith('because you just played'))).length / TOP;
  return {
    k,
    latencyMs,
    recShare: share(rec),
    radioShare: share(radio),
    recJustPlayed: justPlayed(rec),
    radioJustPlayed: justPlayed(radio),
    strength: rec.session?.strength ?? 0,
    seedNamed: rec.session?.seeds.some((x) => x.artistId === s.artist && x.name !== null) === true,
  };
}

/** One listener's session: the answers before it (k = 0), then after each of PLAYS plays. */
async function playSession(c: Client, s: Session): Promise<{ steps: Step[]; failed: number }> {
  const steps = [step(0, s, await c.get(recsPath(s.user)), await c.get(radioPath(s.user)), null)];
  let failed = 0;
  for (let k = 1; k <= PLAYS; k++) {
    const accepted = await c.play(s.user, s.artist);
    let answer: Answer | undefined;
    let latencyMs: number | null = null;
    while (performance.now() - accepted < POLL_TIMEOUT_MS) {
      const a = await c.get(recsPath(s.user));
      const seed = a.session?.seeds.find((x) => x.artistId === s.artist);
      if (seed && seed.weight >= k - 0.5) {
        latencyMs = performance.now() - accepted;
        answer = a;
        break;
      }
      await sleep(10);
    }
    if (!answer) {
      failed++;
      log(`responsiveness: ${s.user} play ${k} not in an answer after ${POLL_TIMEOUT_MS / 1000} s`);
      answer = await c.get(recsPath(s.user));
    }
    steps.push(step(k, s, answer, await c.get(radioPath(s.user)), latencyMs));
  }
  return { steps, failed };
}

/** Per k: median (and mean) shares, "just played" items, strength, latency. */
function summarize(steps: readonly Step[]) {
  return Array.from({ length: PLAYS + 1 }, (_, k) => {
    const at = steps.filter((x) => x.k === k);
    const lat = at.map((x) => x.latencyMs).filter((x): x is number => x !== null);
    return {
      k,
      listeners: at.length,
      recShareMedian: median(at.map((x) => x.recShare)),
      recShareMean: mean(at.map((x) => x.recShare)),
      radioShareMedian: median(at.map((x) => x.radioShare)),
      radioShareMean: mean(at.map((x) => x.radioShare)),
      recJustPlayedMedian: median(at.map((x) => x.recJustPlayed)),
      radioJustPlayedMedian: median(at.map((x) => x.radioJustPlayed)),
      strengthMedian: median(at.map((x) => x.strength)),
      seedNamedShare: mean(at.map((x) => (x.seedNamed ? 1 : 0))),
      ...(k > 0
        ? { latencyP50Ms: percentile(lat, 50), latencyP99Ms: percentile(lat, 99), latencyMaxMs: Math.max(...lat) }
        : {}),
    };
  });
}

/**
 * DynamoDB requests per answer with the pipeline idle (every request the read handler makes,
 * the in-process counter): two passes over the session listeners and over as many without a
 * session; then new sessions (artists no answer has seeded yet) of 3 plays, with a recommendation
 * and a radio after each play.
 */
async function readCost(c: Client, counter: RequestCounter, picker: SessionPicker, withSession: string[]) {
  await c.idle();
  const without = picker.skip(withSession.length);
  const passes = async (group: string[], path: (u: string) => string) => {
    const perAnswer: number[] = [];
    for (let pass = 0; pass < 2; pass++) {
      counter.reset();
      for (const u of group) await c.get(path(u));
      perAnswer.push(counter.reads / group.length);
    }
    return { firstPass: perAnswer[0]!, secondPass: perAnswer[1]! };
  };
  const warm = {
    recommendationWithSession: await passes(withSession, recsPath),
    recommendationWithoutSession: await passes(without, recsPath),
    radioWithSession: await passes(withSession, radioPath),
    radioWithoutSession: await passes(without, radioPath),
  };
  const fresh = await picker.next(withSession.length);
  const perPlay: { recommendation: number; radio: number }[] = [];
  let reads = 0;
  for (let k = 1; k <= 3; k++) {
    for (const s of fresh) await c.play(s.user, s.artist);
    await c.idle();
    counter.reset();
    for (const s of fresh) await c.get(recsPath(s.user));
    const recReads = counter.reads;
    for (const s of fresh) await c.get(radioPath(s.user));
    reads += counter.reads;
    perPlay.push({ recommendation: recReads / fresh.length, radio: (counter.reads - recReads) / fresh.length });
  }
  return { ...warm, newSessions: { perPlay, meanPerAnswer: reads / (fresh.length * 2 * 3) } };
}

export async function responsivenessBench(quick: boolean, lastfmDir: string | undefined) {
  if (!lastfmDir) return { skipped: 'no Last.fm dataset (--lastfm <dir>)' };
  const listeners = quick ? 12 : 60;
  const concurrency = 3;
  const ds = await loadLastfm(lastfmDir, {});
  const { data } = splitData(ds, { seed: 42, k: TOP, core: 10, validation: false, tags: 'heldout-free' });
  log(`responsiveness: Last.fm training split of seed 42, ${data.train.length} plays; starting the world…`);
  resetStores(); // the in-process handlers' stores must point at this world's tables
  const world = await startLastfmWorld(data, (l) => log(`responsiveness: ${l}`), {
    infra: await infrastructure(),
    ts: Date.now() - 2 * 3_600_000,
  });
  cleanups.push(world.stop);
  try {
    log(
      `responsiveness: world ready (feed ${world.seconds.feed.toFixed(0)} s, drain ${world.seconds.drain.toFixed(0)} s, item model ${world.seconds.itemModel.toFixed(0)} s)`,
    );
    const stores = storesFromEnv();
    const c = client(world);
    const picker = new SessionPicker(data, stores);
    const sessions = await picker.next(listeners);
    log(`responsiveness: ${sessions.length} listeners, ${concurrency} sessions at a time, ${PLAYS} plays each`);
    const steps: Step[] = [];
    let failed = 0;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < sessions.length) {
          const r = await playSession(c, sessions[next++]!);
          steps.push(...r.steps);
          failed += r.failed;
        }
      }),
    );
    const sessionSeconds = (performance.now() - started) / 1000;
    const byK = summarize(steps);
    const latencies = steps.map((x) => x.latencyMs).filter((x): x is number => x !== null);
    const readRequests = await readCost(
      c,
      stores.counter,
      picker,
      sessions.map((s) => s.user),
    );
    return {
      listeners: sessions.length,
      neighbourhoodMedian: median(sessions.map((x) => x.neighbourhood.size)),
      catalogArtists: data.items.length,
      playsPerSession: PLAYS,
      concurrentSessions: concurrency,
      top: TOP,
      world: { events: world.events, seconds: world.seconds },
      sessionSeconds,
      failedPolls: failed,
      byK,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      after3Plays: {
        radioInNeighbourhood: byK[3]!.radioShareMedian * TOP,
        recommendationsInNeighbourhood: byK[3]!.recShareMedian * TOP,
      },
      readRequests,
    };
  } finally {
    cleanups.splice(cleanups.indexOf(world.stop), 1);
    await world.stop();
  }
}
