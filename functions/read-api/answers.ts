/**
 * The ranked answers: `GET /users/{id}/recommendations` and `GET /users/{id}/radio`. Both read the
 * profile and the precomputed candidate set in one BatchGet and run the one ranking
 * (shared/domain/ranking) with what just changed:
 * - the profile's items are excluded at once (a track played a second ago is gone);
 * - the session (the profile's recent plays) pulls in its items' co-listening and content
 *   neighbours from the item model (lists cached per container), taking the session's strength
 *   as its share of the positions — recommendations follow a change of mood on the very next
 *   request; radio gives that part 80 % (RADIO_SEED_STRENGTH), seeded by an item, else by the
 *   session, else by the listener's favourites;
 * - at most `maxPerArtist` items of one artist, and `exclude`d ids never.
 * A listener without a candidate set yet gets the genre part (their first refresh follows their
 * first profile write within a second; listeners stored before candidate sets existed get one from
 * the next item model build's announcement); unknown users get popular items.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { getProfileAndCandidates } from '../../shared/adapters/dynamodb/candidates.ts';
import type { Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { type CatalogItem, type CatalogKind, catalogItemId, itemKindOf } from '../../shared/domain/catalog/catalog.ts';
import { rankingOf, type Variant } from '../../shared/domain/experiments/variants.ts';
import type { Profile } from '../../shared/domain/profile/profile.ts';
import { topEntries } from '../../shared/domain/profile/profile.ts';
import { unpackCandidateSet } from '../../shared/domain/ranking/candidate-codec.ts';
import { capPerArtist, diversityPool, spreadArtists } from '../../shared/domain/ranking/diversity.ts';
import type { NowPart } from '../../shared/domain/ranking/finish.ts';
import type { RankingParams } from '../../shared/domain/ranking/params.ts';
import { rankCandidates } from '../../shared/domain/ranking/rank.ts';
import { nowScores, type RecentListen, sessionOf } from '../../shared/domain/ranking/session.ts';
import type { Recommendation, RecommendStrategy } from '../../shared/domain/ranking/types.ts';
import { listenerVariant } from '../../shared/handlers/experiment.ts';
import { type HttpResult, json, parseQuery, pathParam, problem } from '../../shared/handlers/http.ts';
import { recordServed } from '../../shared/handlers/served-lists.ts';
import {
  candidateGenres,
  catalogOf,
  describe,
  excludeParam,
  genreParam,
  itemCache,
  itemIdParam,
  itemModel,
  kindParam,
  labelOf,
  limitParam,
  maxPerArtistParam,
  popularOf,
  settings,
  toCandidate,
} from './catalog-view.ts';

const session = {
  halfLifeMs: settings.SESSION_HALF_LIFE_MINUTES * 60_000,
  windowMs: settings.SESSION_WINDOW_MINUTES * 60_000,
  maxStrength: settings.SESSION_MAX_STRENGTH,
  saturation: settings.SESSION_SATURATION,
  likeWeight: settings.SESSION_LIKE_WEIGHT,
};

const RecommendationsQuery = z.object({
  limit: limitParam(settings.RECOMMENDATIONS_MAX_LIMIT, settings.RECOMMENDATIONS_DEFAULT_LIMIT),
  genre: genreParam,
  kind: kindParam,
  maxPerArtist: maxPerArtistParam(settings.RECOMMENDATIONS_MAX_PER_ARTIST),
  exclude: excludeParam,
});

const RadioQuery = z.object({
  limit: limitParam(settings.RECOMMENDATIONS_MAX_LIMIT, settings.RECOMMENDATIONS_DEFAULT_LIMIT),
  seed: itemIdParam.optional(),
  seedKind: z.enum(['track', 'artist']).optional(),
  kind: kindParam,
  maxPerArtist: maxPerArtistParam(settings.RECOMMENDATIONS_MAX_PER_ARTIST),
  exclude: excludeParam,
});

/** What seeds the "now" part, and with which strength. */
interface NowSeeds {
  seeds: Map<string, number>;
  strength: number;
  /** Ids never answered: the recent items, the seed. */
  avoid: Set<string>;
}

interface AnswerInput {
  stores: Stores;
  kind: CatalogKind;
  profile: Profile | undefined;
  candidates: Uint8Array | undefined;
  genre?: string | undefined;
  limit: number;
  maxPerArtist: number;
  exclude: ReadonlySet<string>;
  now: NowSeeds;
  /** Radio: no artist twice in a row where the pool allows. */
  spread?: boolean;
  /** The listener's variant's ranking parameters. */
  params: RankingParams;
}

interface Answer {
  strategy: RecommendStrategy;
  items: Recommendation[];
  catalog: Map<string, CatalogItem>;
  /** The session's or seed's items, by id (their names). */
  seedItems: Map<string, CatalogItem>;
}

/** Items named ahead per answered item, within one BatchGet's 100 keys (with the seeds). */
const NAMES_AHEAD = 2;
const BATCH_GET_KEYS = 100;

const recentOf = (profile: Profile | undefined): readonly RecentListen[] => profile?.recent ?? [];

/** The one ranking with the session's part, the exclusions and the artist cap; items with their catalog entries. */
async function answer(input: AnswerInput): Promise<Answer> {
  const { stores, kind, profile, now } = input;
  const hasSession = now.strength > 0 && now.seeds.size > 0;
  // The popular items and the seeds' item-model lists do not depend on each other.
  const [catalog, lists] = await Promise.all([
    popularOf(stores, kind, candidateGenres(input.genre, profile)),
    hasSession ? itemModel.lists(stores, itemKindOf(kind), [...now.seeds.keys()]) : undefined,
  ]);
  const exclude = new Set([...input.exclude, ...now.avoid]);
  const seedItems = new Map<string, CatalogItem>();
  let nowPart: NowPart | undefined;
  if (lists) {
    const scores = nowScores(
      now.seeds,
      (id) => lists.get(id),
      input.params,
      (id) => exclude.has(id),
    );
    // One catalog request names the seeds and the items the session most likely brings into the
    // answer (its best now scores, not yet cached after a new seed), so that the answer's own
    // lookup of its items' names afterwards finds them in the container's cache.
    const likely = [...scores]
      .sort((x, y) => y[1].score - x[1].score)
      .slice(0, Math.max(0, Math.min(NAMES_AHEAD * input.limit, BATCH_GET_KEYS - now.seeds.size)))
      .map(([id]) => id);
    const named = await itemCache.get(
      stores,
      [...now.seeds.keys(), ...likely].map((id) => catalogItemId(kind, id)),
    );
    for (const id of now.seeds.keys()) {
      const item = named.get(catalogItemId(kind, id));
      if (item) seedItems.set(id, item);
    }
    nowPart = {
      scores,
      strength: now.strength,
      seedLabel: (id) => labelOf(seedItems.get(id), id),
    };
  }
  const capped = kind === 'track' && input.maxPerArtist < input.limit;
  const ranked = rankCandidates({
    kind,
    list: input.candidates ? unpackCandidateSet(input.candidates)[kind] : undefined,
    profile,
    exclude,
    catalog: [...catalog.values()].map(toCandidate),
    genre: input.genre,
    limit: capped ? diversityPool(input.limit, input.maxPerArtist) : input.limit,
    params: input.params,
    now: nowPart,
  });
  await catalogOf(
    stores,
    kind,
    catalog,
    ranked.items.map((i) => i.id),
  );
  const artistOf = (id: string) => (kind === 'track' ? catalog.get(id)?.artistId : undefined);
  let items = capped ? capPerArtist(ranked.items, artistOf, input.maxPerArtist, input.limit) : ranked.items;
  if (input.spread) items = spreadArtists(items, artistOf);
  return { strategy: ranked.strategy, items, catalog, seedItems };
}

function itemsJson(kind: CatalogKind, a: Answer) {
  return a.items.map((r) => ({
    ...describe(kind, a.catalog.get(r.id), r.id),
    score: Math.round(r.score * 1e4) / 1e4,
    reasons: r.reasons,
  }));
}

function sessionJson(kind: CatalogKind, now: NowSeeds, a: Answer) {
  if (now.strength === 0) return null;
  return {
    strength: Math.round(now.strength * 1e4) / 1e4,
    seeds: [...now.seeds].map(([id, weight]) => ({
      ...(kind === 'track' ? { trackId: id } : { artistId: id }),
      name: (a.seedItems.get(id) ?? a.catalog.get(id))?.name ?? null,
      weight: Math.round(weight * 1e4) / 1e4,
    })),
  };
}

/** A variant without the session part ranks as if nothing had just been played. */
const sessionFor = (variant: Variant, recent: readonly RecentListen[], kind: CatalogKind) =>
  variant.session === false
    ? { seeds: new Map<string, number>(), strength: 0, recent: [] as string[] }
    : sessionOf(recent, kind, Date.now(), session);

export async function recommendations(stores: Stores, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const userId = pathParam(event, 'userId');
  const query = parseQuery(event, RecommendationsQuery);
  const variant = listenerVariant(userId);
  const { profile, candidates } = await getProfileAndCandidates(stores, userId);
  const s = sessionFor(variant, recentOf(profile), query.kind);
  // The items just played are the profile's own (excluded already); nothing else to avoid.
  const now: NowSeeds = { seeds: s.seeds, strength: s.strength, avoid: new Set() };
  const a = await answer({ stores, profile, candidates, ...query, now, params: rankingOf(variant) });
  const recommendationId = recordServed({
    userId,
    route: 'recommendations',
    kind: query.kind,
    variant: variant.name,
    strategy: a.strategy,
    items: a.items.map((i) => i.id),
  });
  return json(200, {
    userId,
    kind: query.kind,
    strategy: a.strategy,
    recommendationId,
    variant: variant.name,
    session: sessionJson(query.kind, now, a),
    items: itemsJson(query.kind, a),
  });
}

/**
 * Up next: seeded by an item (`seed`, a track or artist id; `seedKind` when the id could be
 * either), else by the session, else by the listener's favourites. The seed's kind is the radio's.
 */
export async function radio(stores: Stores, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const userId = pathParam(event, 'userId');
  const query = parseQuery(event, RadioQuery);
  const { profile, candidates } = await getProfileAndCandidates(stores, userId);
  let kind: CatalogKind = query.kind;
  let seed: { id: string; kind: CatalogKind; name: string | null } | undefined;
  if (query.seed !== undefined) {
    const kinds: CatalogKind[] = query.seedKind ? [query.seedKind] : ['track', 'artist'];
    const found = await itemCache.get(
      stores,
      kinds.map((k) => catalogItemId(k, query.seed!)),
    );
    const k = kinds.find((x) => found.has(catalogItemId(x, query.seed!)));
    if (!k) {
      const what = query.seedKind ?? 'track or artist';
      return problem(404, `no ${what} ${query.seed} in the catalog`, [
        { path: 'seed', message: `unknown ${what} ${JSON.stringify(query.seed)}` },
      ]);
    }
    kind = k;
    seed = { id: query.seed, kind: k, name: found.get(catalogItemId(k, query.seed))?.name ?? null };
  } else if (!profile) return problem(404, `no profile for user ${userId} yet: give a seed`);

  const variant = listenerVariant(userId);
  const s = sessionFor(variant, recentOf(profile), kind);
  const avoid = new Set(s.recent);
  let basis: 'seed' | 'session' | 'favourites';
  let seeds: Map<string, number>;
  if (seed) {
    basis = 'seed';
    seeds = new Map([[seed.id, 1]]);
    avoid.add(seed.id);
  } else if (s.seeds.size > 0) {
    basis = 'session';
    seeds = s.seeds;
  } else {
    basis = 'favourites';
    const own = kind === 'track' ? profile!.topTracks : profile!.topArtists;
    seeds = new Map(topEntries(own, settings.RADIO_FAVOURITE_SEEDS).filter(([, w]) => w > 0));
  }
  const now: NowSeeds = { seeds, strength: settings.RADIO_SEED_STRENGTH, avoid };
  const a = await answer({
    stores,
    profile,
    candidates,
    ...query,
    kind,
    now,
    spread: true,
    params: rankingOf(variant),
  });
  const recommendationId = recordServed({
    userId,
    route: 'radio',
    kind,
    variant: variant.name,
    strategy: basis,
    items: a.items.map((i) => i.id),
  });
  return json(200, {
    userId,
    kind,
    basis,
    recommendationId,
    variant: variant.name,
    seed: seed ? { ...(kind === 'track' ? { trackId: seed.id } : { artistId: seed.id }), name: seed.name } : null,
    strategy: a.strategy,
    items: itemsJson(kind, a),
  });
}
