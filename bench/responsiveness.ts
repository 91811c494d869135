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
import { resetStores, storesFromEnv } from '../shared/adapters/dynamodb/stores.ts';
import { ItemModelCache } from '../shared/adapters/item-model-cache.ts';
import { itemKindOf } from '../shared/domain/catalog.ts';
import { itemHasGenre } from '../shared/domain/ranking/finish.ts';
import { splitData } from '../tools/eval/data.ts';
import { lastfmArtistId, lastfmUserId, startLastfmWorld } from '../tools/eval/online.ts';
import { getOrInit } from '../tools/eval/protocol.ts';
import { loadLastfm } from '../tools/loaders/lastfm.ts';
import { cleanups, infrastructure, log } from './env.ts';
import { median, percentile, rng } from './lib.ts';

const PLAYS = 5;
const TOP = 10;
const POLL_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  strength: number | null;
  /** The answer's session names the played artist. */
  seedNamed: boolean;
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
  const url = world.pipeline.url;
  const get = async (path: string): Promise<Answer> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer eval' } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Answer;
  };
  try {
    log(
      `responsiveness: world ready (feed ${world.seconds.feed.toFixed(0)} s, drain ${world.seconds.drain.toFixed(0)} s, item model ${world.seconds.itemModel.toFixed(0)} s)`,
    );
    const stores = storesFromEnv();
    const lists = new ItemModelCache();

    // Listeners and their artist: genres the listener's training artists never carry.
    const own = new Map<string, Set<string>>();
    for (const r of [...data.train, ...data.test]) getOrInit(own, r.user, () => new Set()).add(r.item);
    const genresOf = (a: string) => {
      const g = data.genres.get(a) ?? {};
      return Object.keys(g).filter((x) => itemHasGenre(g, x));
    };
    const played = new Map<string, Set<string>>();
    for (const r of data.train) {
      const s = getOrInit(played, r.user, () => new Set());
      for (const g of Object.keys(data.genres.get(r.item) ?? {})) s.add(g);
    }
    const rand = rng(42);
    const users = [...played.keys()].sort();
    for (let i = users.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [users[i], users[j]] = [users[j]!, users[i]!];
    }
    type Session = { user: string; artist: string; neighbourhood: Set<string> };
    /** The next `n` listeners of the shuffled order with an artist from genres they do not play. */
    let cursor = 0;
    const pick = async (n: number): Promise<Session[]> => {
      const out: Session[] = [];
      while (out.length < n && cursor < users.length) {
        const user = users[cursor++]!;
        const eligible = data.items.filter((a) => {
          const gs = genresOf(a);
          return gs.length > 0 && !own.get(user)!.has(a) && gs.every((g) => !played.get(user)!.has(g));
        });
        if (eligible.length === 0) continue;
        const artist = eligible[Math.floor(rand() * eligible.length)]!;
        const id = lastfmArtistId(artist);
        const model = (await lists.lists(stores, itemKindOf('artist'), [id])).get(id);
        const neighbourhood = new Set([...(model?.similar?.ids ?? []), ...(model?.content?.ids ?? [])]);
        const gs = genresOf(artist);
        for (const a of data.items) {
          const g = data.genres.get(a) ?? {};
          if (gs.some((x) => itemHasGenre(g, x))) neighbourhood.add(lastfmArtistId(a));
        }
        neighbourhood.delete(id);
        out.push({ user: lastfmUserId(user), artist: id, neighbourhood });
      }
      return out;
    };
    const sessions = await pick(listeners);
    log(`responsiveness: ${sessions.length} listeners, ${concurrency} sessions at a time, ${PLAYS} plays each`);

    const share = (a: Answer, n: Set<string>) => a.items.slice(0, TOP).filter((i) => n.has(i.artistId)).length / TOP;
    const justPlayed = (a: Answer) =>
      a.items.slice(0, TOP).filter((i) => i.reasons.some((r) => r.startsWith('because you just played'))).length / TOP;
    const steps: Step[] = [];
    let failed = 0;
    const play = async (user: string, artist: string) => {
      const res = await fetch(`${url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer eval' },
        body: JSON.stringify({ userId: user, artistId: artist, ts: Date.now(), type: 'play' }),
      });
      const accepted = performance.now();
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`POST /events: ${res.status}`);
      return accepted;
    };
    const run = async (s: Session) => {
      const recPath = `/users/${s.user}/recommendations?kind=artist&limit=${TOP}`;
      const radioPath = `/users/${s.user}/radio?kind=artist&limit=${TOP}`;
      const before = await get(recPath);
      const radio0 = await get(radioPath);
      steps.push({
        k: 0,
        latencyMs: null,
        recShare: share(before, s.neighbourhood),
        radioShare: share(radio0, s.neighbourhood),
        recJustPlayed: justPlayed(before),
        radioJustPlayed: justPlayed(radio0),
        strength: before.session?.strength ?? 0,
        seedNamed: false,
      });
      for (let k = 1; k <= PLAYS; k++) {
        const accepted = await play(s.user, s.artist);
        let answer: Answer | undefined;
        let latencyMs: number | null = null;
        while (performance.now() - accepted < POLL_TIMEOUT_MS) {
          const a = await get(recPath);
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
          answer = await get(recPath);
        }
        const radio = await get(radioPath);
        steps.push({
          k,
          latencyMs,
          recShare: share(answer, s.neighbourhood),
          radioShare: share(radio, s.neighbourhood),
          recJustPlayed: justPlayed(answer),
          radioJustPlayed: justPlayed(radio),
          strength: answer.session?.strength ?? 0,
          seedNamed: answer.session?.seeds.some((x) => x.artistId === s.artist && x.name !== null) === true,
        });
      }
    };
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < sessions.length) await run(sessions[next++]!);
      }),
    );
    const sessionSeconds = (performance.now() - started) / 1000;

    const byK = Array.from({ length: PLAYS + 1 }, (_, k) => {
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
        strengthMedian: median(at.map((x) => x.strength ?? 0)),
        seedNamedShare: mean(at.map((x) => (x.seedNamed ? 1 : 0))),
        ...(k > 0
          ? { latencyP50Ms: percentile(lat, 50), latencyP99Ms: percentile(lat, 99), latencyMaxMs: Math.max(...lat) }
          : {}),
      };
    });
    const allLatencies = steps.map((x) => x.latencyMs).filter((x): x is number => x !== null);

    // Read-path cost with the pipeline idle: every request the read handler makes, counted in-process.
    await waitUntilDrained(world.pipeline.mappings, { timeoutMs: 120_000, quietChecks: 2, log });
    const withSession = sessions.map((s) => s.user);
    // Listeners no session was sampled from (the shuffled order's next ones), and beyond them
    // as many again for the first answer after a new seed.
    const without = users.slice(cursor, cursor + withSession.length).map(lastfmUserId);
    cursor += withSession.length;
    const c = stores.counter;
    const readsPer = async (group: string[], path: (u: string) => string) => {
      const passes: number[] = [];
      for (let pass = 0; pass < 2; pass++) {
        c.reset();
        for (const u of group) await get(path(u));
        passes.push(c.reads / group.length);
      }
      return { firstPass: passes[0]!, secondPass: passes[1]! };
    };
    const recs = (u: string) => `/users/${u}/recommendations?kind=artist&limit=${TOP}`;
    const radios = (u: string) => `/users/${u}/radio?kind=artist&limit=${TOP}`;
    const warm = {
      recommendationWithSession: await readsPer(withSession, recs),
      recommendationWithoutSession: await readsPer(without, recs),
      radioWithSession: await readsPer(withSession, radios),
      radioWithoutSession: await readsPer(without, radios),
    };
    // Sessions as a listener lives them, counted from their first play: fresh listeners (artists no
    // answer has seeded yet, so neither their lists nor their names are in the container's caches)
    // each play 3 plays, and after each play, once the pipeline is idle again, ask for their
    // recommendations and their radio once.
    const fresh = await pick(withSession.length);
    const freshUsers = fresh.map((s) => s.user);
    const perPlay: { recommendation: number; radio: number }[] = [];
    let reads = 0;
    for (let k = 1; k <= 3; k++) {
      for (const s of fresh) await play(s.user, s.artist);
      await waitUntilDrained(world.pipeline.mappings, { timeoutMs: 120_000, quietChecks: 2, log });
      c.reset();
      for (const u of freshUsers) await get(recs(u));
      const recReads = c.reads;
      for (const u of freshUsers) await get(radios(u));
      reads += c.reads;
      perPlay.push({ recommendation: recReads / fresh.length, radio: (c.reads - recReads) / fresh.length });
    }
    const newSessions = { perPlay, meanPerAnswer: reads / (fresh.length * 2 * 3) };
    const readRequests = { ...warm, newSessions };
    const at3 = byK[3]!;
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
      latencyP50Ms: percentile(allLatencies, 50),
      latencyP99Ms: percentile(allLatencies, 99),
      after3Plays: {
        radioInNeighbourhood: at3.radioShareMedian * TOP,
        recommendationsInNeighbourhood: at3.recShareMedian * TOP,
      },
      readRequests,
    };
  } finally {
    cleanups.splice(cleanups.indexOf(world.stop), 1);
    await world.stop();
  }
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
