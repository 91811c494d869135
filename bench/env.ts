/**
 * The benchmarks' infrastructure: the real Kafka broker and DynamoDB Local (started once per run,
 * or external via KAFKA_BROKERS / DYNAMODB_ENDPOINT), a fresh name prefix per benchmark so runs
 * never share topics or tables, a synthetic catalog, and synthetic listen events.
 */
import { randomBytes } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type Infrastructure, provisionTopology, startInfrastructure } from '../local/infra/index.ts';
import { applyFunctionEnv, functionEnv } from '../local/runtime/functions.ts';
import { resetStores, type Stores, storesFromEnv } from '../shared/adapters/dynamodb/stores.ts';
import { artistItemId, genreKey, trackItemId } from '../shared/domain/catalog/catalog.ts';
import { GENRES } from '../shared/domain/genres.ts';
import type { ResolvedTopology } from '../shared/topology.ts';
import { rng, zipf } from './lib.ts';

export const log = (line: string) => process.stderr.write(`${line}\n`);

let infra: Promise<Infrastructure> | undefined;

export function infrastructure(): Promise<Infrastructure> {
  infra ??= startInfrastructure({ log: (l) => log(`[infra] ${l}`), logDir: '.data/bench-logs' });
  return infra;
}

/** Things to stop before the infrastructure (e.g. a running pipeline), newest first. */
export const cleanups: (() => Promise<void>)[] = [];

export async function stopInfrastructure(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  if (infra) await (await infra).stop();
  infra = undefined;
}

export interface BenchEnv {
  infra: Infrastructure;
  topology: ResolvedTopology;
  stores: Stores;
}

/** Provisions the topology under a new prefix and points the in-process handlers at it. */
export async function freshEnv(label: string): Promise<BenchEnv> {
  const i = await infrastructure();
  const topology = await provisionTopology(i, `b${randomBytes(3).toString('hex')}-${label}-`);
  applyFunctionEnv({
    ...functionEnv({ topology, kafkaBrokers: i.kafkaBrokers, dynamodbEndpoint: i.dynamodbEndpoint }),
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  resetStores(); // the store cache keeps table names from the previous env
  const stores = storesFromEnv();
  stores.counter.sizePuts = true; // where the write units go, single puts included
  return { infra: i, topology, stores };
}

// ---------------------------------------------------------------------------------------------
// Synthetic world: artists with 1–3 genres (popular genres more likely), tracks by artist, users
// whose taste is a few genres; plays Zipf-distributed over users and over each genre's tracks.

export interface World {
  tracks: { trackId: string; artistId: string; genres: Record<string, number> }[];
  users: string[];
  /** One listen event (plain JSON) for a random user at time ts. */
  event(ts: number, userId?: string): Record<string, unknown>;
}

export function syntheticWorld(opts: {
  users: number;
  artists: number;
  tracksPerArtist: number;
  seed?: number;
}): World {
  const random = rng(opts.seed ?? 1);
  const genrePick = zipf(GENRES.length, 0.8, random);
  const tracks: World['tracks'] = [];
  const byGenre = new Map<string, number[]>();
  for (let a = 0; a < opts.artists; a++) {
    const genres: Record<string, number> = {};
    const n = 1 + Math.floor(random() * 3);
    for (let g = 0; g < n; g++) genres[GENRES[genrePick()]!] = 1 / (g + 1);
    for (let t = 0; t < opts.tracksPerArtist; t++) {
      const idx = tracks.length;
      tracks.push({ trackId: `tr${a}-${t}`, artistId: `ar${a}`, genres });
      const main = Object.keys(genres)[0]!;
      const list = byGenre.get(main) ?? [];
      list.push(idx);
      byGenre.set(main, list);
    }
  }
  const genreList = [...byGenre.keys()];
  const users = Array.from({ length: opts.users }, (_, i) => `u${i}`);
  const tastes = users.map(() => {
    const k = 1 + Math.floor(random() * 3);
    return Array.from({ length: k }, () => genreList[Math.floor(random() ** 1.5 * genreList.length)]!);
  });
  const userPick = zipf(users.length, 0.9, random);
  const trackPickers = new Map<string, () => number>();
  for (const [g, list] of byGenre) trackPickers.set(g, zipf(list.length, 1.0, random));
  let seq = 0;
  const types = ['play', 'play', 'play', 'play', 'play', 'play', 'play', 'skip', 'like', 'dislike'] as const;
  return {
    tracks,
    users,
    event(ts, userId) {
      const u = userId === undefined ? userPick() : Number(userId.slice(1));
      const taste = tastes[u] ?? tastes[0]!;
      const g = taste[Math.floor(random() * taste.length)]!;
      const t = tracks[byGenre.get(g)![trackPickers.get(g)!()]!]!;
      const durationMs = 180_000;
      return {
        eventId: `e${++seq}-${randomBytes(4).toString('hex')}`,
        userId: userId ?? users[u]!,
        trackId: t.trackId,
        artistId: t.artistId,
        ts,
        type: types[Math.floor(random() * types.length)]!,
        msPlayed: Math.floor(random() * durationMs),
        durationMs,
        platform: 'web',
        country: 'GB',
      };
    },
  };
}

/** Writes the world's tracks and artists to the catalog table (BatchWrite, 25 per request). */
export async function loadCatalog(stores: Stores, world: World): Promise<void> {
  const items: Record<string, unknown>[] = [];
  const artists = new Map<string, Record<string, number>>();
  const now = Date.now();
  for (const t of world.tracks) {
    artists.set(t.artistId, t.genres);
    const primary = Object.keys(t.genres)[0]!;
    items.push({
      itemId: trackItemId(t.trackId),
      kind: 'track',
      id: t.trackId,
      name: `Track ${t.trackId}`,
      artistId: t.artistId,
      artistName: `Artist ${t.artistId}`,
      genres: t.genres,
      primaryGenre: primary,
      genreKey: genreKey('track', primary),
      popularity: 1 + (Number.parseInt(t.trackId.slice(2), 10) % 100),
      updatedAt: now,
    });
  }
  for (const [id, genres] of artists) {
    const primary = Object.keys(genres)[0]!;
    items.push({
      itemId: artistItemId(id),
      kind: 'artist',
      id,
      name: `Artist ${id}`,
      genres,
      primaryGenre: primary,
      genreKey: genreKey('artist', primary),
      popularity: 50,
      updatedAt: now,
    });
  }
  const table = stores.tableNames.catalog;
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  const worker = async () => {
    for (let c = chunks.shift(); c; c = chunks.shift()) {
      let pending: unknown[] | undefined = c.map((Item) => ({ PutRequest: { Item } }));
      while (pending && pending.length > 0) {
        const res: { UnprocessedItems?: Record<string, unknown[]> } = await stores.client.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending as never } }),
        );
        pending = res.UnprocessedItems?.[table];
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
