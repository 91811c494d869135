/**
 * The table stores: profile, neighbour, index, candidate, catalog and item-model items. Each store
 * is a thin mapping between domain objects and items; the conditional logic that makes writes
 * idempotent and order-tolerant is here, next to the expressions that enforce it. The requests
 * themselves are in dynamodb/requests.ts.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type CatalogItem, type CatalogKind, genreKey, type ItemKind } from '../domain/catalog.ts';
import type { PackedCounts, PackedList } from '../domain/item-model.ts';
import {
  decodeNeighborListState,
  encodeNeighborListState,
  type NeighborListState,
} from '../domain/neighbor-list-codec.ts';
import type { Profile } from '../domain/profile.ts';
import { decodeProfileState, encodeProfileState } from '../domain/profile-codec.ts';
import { DataIntegrityError } from '../errors.ts';
import {
  batchGet,
  batchWrite,
  conditionalPut,
  conditionalStatement,
  executeConditionalBatch,
  jsItem,
  sanitizeScores,
  scanAll,
  sleep,
  statementTexts,
  type WireBatchGetOutput,
  type WireItem,
} from './dynamodb/requests.ts';
import type { Stores } from './dynamodb/stores.ts';

// ---------------------------------------------------------------------------------------------
// Profiles

/**
 * Stored profile items: `userId`, `version` (the write condition) and `state`, the rest of the
 * profile as one binary value (`profile-codec.ts`). Items written before the compact format (the
 * profile's fields as top-level attributes) are read as they are and rewritten compactly on their
 * next change (the UPDATE removes the old attributes), so no migration step is needed.
 */
const LEGACY_PROFILE_ATTRIBUTES = [
  'anchorTs',
  'genres',
  'moods',
  'topArtists',
  'topTracks',
  'counts',
  'firstEventTs',
  'lastEventTs',
  'offsets',
  'recentEventIds',
] as const satisfies readonly (keyof Profile)[];

/** A profile from its stored item, compact or legacy. */
export function profileFromItem(item: Record<string, unknown>): Profile {
  const userId = item.userId as string;
  const version = Number(item.version ?? 0);
  if (item.state instanceof Uint8Array) return decodeProfileState(userId, version, item.state);
  const legacy = item as Partial<Profile>;
  return {
    userId,
    version,
    anchorTs: legacy.anchorTs ?? 0,
    genres: legacy.genres ?? {},
    moods: legacy.moods ?? {},
    topArtists: legacy.topArtists ?? {},
    topTracks: legacy.topTracks ?? {},
    counts: legacy.counts ?? { plays: 0, skips: 0, likes: 0, dislikes: 0, events: 0 },
    firstEventTs: legacy.firstEventTs ?? null,
    lastEventTs: legacy.lastEventTs ?? null,
    offsets: legacy.offsets ?? {},
    // Legacy items kept the fingerprints as base-36 strings.
    recentEventIds: ((legacy.recentEventIds ?? []) as (number | string)[]).map((fp) =>
      typeof fp === 'string' ? Number.parseInt(fp, 36) : fp,
    ),
  };
}

function profilesFromItems(items: Map<string, Record<string, unknown>>): Map<string, Profile> {
  const out = new Map<string, Profile>();
  for (const [id, item] of items) out.set(id, profileFromItem(item));
  return out;
}

/**
 * Profiles by id. `consistent` (default) for the read-modify-write guarded by the version
 * condition; eventually consistent (half the read units) for the read API.
 */
export async function getProfiles(
  s: Stores,
  userIds: readonly string[],
  consistent = true,
): Promise<Map<string, Profile>> {
  return profilesFromItems(await batchGet(s, s.tableNames.profiles, 'userId', userIds, consistent));
}

/** What ranking reads of a profile: its own and its neighbours' (recommendations). */
export type RankingProfile = Pick<Profile, 'userId' | 'genres' | 'topArtists' | 'topTracks'>;
const RANKING_ATTRIBUTES = ['userId', 'version', 'state', 'genres', 'topArtists', 'topTracks'] as const;

/**
 * Profiles projected to what ranking uses (eventually consistent). With the compact item the
 * projection is the whole state; it still skips a legacy item's counts, offsets and fingerprints.
 */
export async function getRankingProfiles(s: Stores, userIds: readonly string[]): Promise<Map<string, RankingProfile>> {
  return profilesFromItems(await batchGet(s, s.tableNames.profiles, 'userId', userIds, false, RANKING_ATTRIBUTES));
}

export async function getProfile(s: Stores, userId: string): Promise<Profile | undefined> {
  const res = await s.client.send(new GetCommand({ TableName: s.tableNames.profiles, Key: { userId } }));
  s.counter.reads++;
  return res.Item ? profileFromItem(res.Item) : undefined;
}

/** The stored item of a profile: scores that DynamoDB could not hold are dropped, as before. */
function profileItem(profile: Profile): Record<string, unknown> {
  const state = encodeProfileState({
    ...profile,
    genres: sanitizeScores(profile.genres),
    moods: sanitizeScores(profile.moods),
    topArtists: sanitizeScores(profile.topArtists),
    topTracks: sanitizeScores(profile.topTracks),
  });
  return { userId: profile.userId, version: profile.version, state };
}

export interface ProfileWrite {
  profile: Profile;
  /**
   * The version the profile was read at (0: it did not exist). Written only if it is still the
   * stored version (optimistic concurrency); otherwise the caller re-reads and re-applies.
   */
  readVersion: number;
}

/**
 * Profile writes conditioned on the version read, 25 per request: optimistic concurrency
 * holds while the per-request cost (signing, HTTP, a socket write) is paid once per 25 users
 * instead of once per user — that cost, not the profile fold, dominated the updater's CPU. A new
 * profile is an INSERT (fails if the item exists), an existing one an UPDATE conditioned on the
 * version read. Returns the users whose condition failed (someone else wrote first): the caller
 * re-reads and re-applies them.
 */
export async function putProfilesIfUnchanged(
  s: Stores,
  writes: readonly ProfileWrite[],
  concurrency = 4,
): Promise<Set<string>> {
  const text = statementTexts(s.tableNames.profiles, PROFILE_ATTRIBUTES, '"version" = ?', LEGACY_PROFILE_ATTRIBUTES);
  const statements = writes.map(({ profile, readVersion }) =>
    conditionalStatement(text, profileItem(profile), PROFILE_ATTRIBUTES, readVersion === 0 ? undefined : readVersion),
  );
  return executeConditionalBatch(s, statements, concurrency);
}

const PROFILE_ATTRIBUTES = ['userId', 'version', 'state'] as const;

// ---------------------------------------------------------------------------------------------
// Neighbours

/**
 * A user's neighbour list. Stored as `userId`, the two write conditions (`profileVersion`, `rev`)
 * and `state`, the rest in one binary value (`neighbor-list-codec.ts`) that fits one write unit at
 * K = 50. Items of the older wide format are read as they are and rewritten compactly.
 */
export interface NeighborList extends NeighborListState {
  userId: string;
  /** Profile version the list was computed for: an older update never overwrites a newer list. */
  profileVersion: number;
  /** Bumped on every write; reverse insertions (another user entering this list) condition on it. */
  rev: number;
}

const LEGACY_NEIGHBOR_LIST_ATTRIBUTES = ['neighbors', 'refreshedAt', 'snapshot', 'cell'] as const;

export function neighborListFromItem(item: Record<string, unknown>): NeighborList {
  const userId = item.userId as string;
  const head = { userId, profileVersion: Number(item.profileVersion ?? 0), rev: Number(item.rev ?? 0) };
  if (item.state instanceof Uint8Array) return { ...head, ...decodeNeighborListState(userId, item.state) };
  const legacy = item as Partial<NeighborList>;
  return {
    ...head,
    neighbors: legacy.neighbors ?? [],
    refreshedAt: legacy.refreshedAt ?? 0,
    snapshot: legacy.snapshot ?? '',
    cell: legacy.cell ?? '',
    indexedVec: '',
    indexedArtistsKey: 0,
    candidatesModelId: '',
    candidatesTopKey: 0,
  };
}

function neighborListItem(list: NeighborList): Record<string, unknown> {
  return {
    userId: list.userId,
    profileVersion: list.profileVersion,
    rev: list.rev,
    state: encodeNeighborListState(list),
  };
}

export async function getNeighborLists(s: Stores, userIds: readonly string[]): Promise<Map<string, NeighborList>> {
  const items = await batchGet<Record<string, unknown>>(s, s.tableNames.neighbors, 'userId', userIds, false);
  const out = new Map<string, NeighborList>();
  for (const [id, item] of items) out.set(id, neighborListFromItem(item));
  return out;
}

export async function getNeighborList(s: Stores, userId: string): Promise<NeighborList | undefined> {
  const res = await s.client.send(new GetCommand({ TableName: s.tableNames.neighbors, Key: { userId } }));
  s.counter.reads++;
  return res.Item ? neighborListFromItem(res.Item) : undefined;
}

/**
 * Writes a user's own refreshed list unless a list for a newer profile version is stored
 * (`mode: 'refresh'`), or inserts another user into it only if nobody wrote it since it was read
 * (`mode: 'reverse'`, conditioned on `rev`). Returns false when the condition fails.
 */
export async function putNeighborList(s: Stores, list: NeighborList, mode: 'refresh' | 'reverse'): Promise<boolean> {
  const condition =
    mode === 'refresh'
      ? {
          ConditionExpression: 'attribute_not_exists(userId) OR profileVersion <= :pv',
          ExpressionAttributeValues: { ':pv': list.profileVersion },
        }
      : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': list.rev - 1 } };
  return conditionalPut(s, { TableName: s.tableNames.neighbors, Item: neighborListItem(list), ...condition });
}

const NEIGHBOR_LIST_ATTRIBUTES = ['userId', 'profileVersion', 'rev', 'state'] as const;

export interface NeighborListWrite {
  list: NeighborList;
  /**
   * `refresh`: the user's own list, unless a list for a newer profile version is stored;
   * `reverse`: another user inserted, only if nobody wrote the list since it was read (`rev`).
   */
  mode: 'refresh' | 'reverse';
  /** Whether a list was stored when it was read (decides INSERT or conditional UPDATE). */
  existed: boolean;
}

/**
 * `putNeighborList` for many lists, 25 per request (PartiQL). Returns the users whose write did
 * not happen because its condition failed. A refresh whose INSERT finds a list created meanwhile
 * is retried once as a single conditional put, which decides by profile version as above.
 */
export async function putNeighborLists(
  s: Stores,
  writes: readonly NeighborListWrite[],
  concurrency = 4,
): Promise<Set<string>> {
  const remove = LEGACY_NEIGHBOR_LIST_ATTRIBUTES;
  const refreshText = statementTexts(s.tableNames.neighbors, NEIGHBOR_LIST_ATTRIBUTES, '"profileVersion" <= ?', remove);
  const reverseText = statementTexts(s.tableNames.neighbors, NEIGHBOR_LIST_ATTRIBUTES, '"rev" = ?', remove);
  const statements = writes.map(({ list, mode, existed }) =>
    conditionalStatement(
      mode === 'refresh' ? refreshText : reverseText,
      neighborListItem(list),
      NEIGHBOR_LIST_ATTRIBUTES,
      existed ? (mode === 'refresh' ? list.profileVersion : list.rev - 1) : undefined,
    ),
  );
  const lost = await executeConditionalBatch(s, statements, concurrency);
  for (const w of writes) {
    if (
      w.mode === 'refresh' &&
      !w.existed &&
      lost.has(w.list.userId) &&
      (await putNeighborList(s, w.list, 'refresh'))
    ) {
      lost.delete(w.list.userId);
    }
  }
  return lost;
}

// ---------------------------------------------------------------------------------------------
// Candidates: one item per user, `state` = `packCandidateSet` (both kinds), `profileVersion` the
// condition (an older build never overwrites a newer one).

export interface CandidatesWrite {
  userId: string;
  profileVersion: number;
  builtAt: number;
  state: Uint8Array;
  /** Whether an item is believed to exist (decides INSERT or conditional UPDATE; a wrong guess costs a retry). */
  existed: boolean;
}

const CANDIDATES_ATTRIBUTES = ['userId', 'profileVersion', 'builtAt', 'state'] as const;

/**
 * Candidate sets, 25 conditional statements per request; a statement whose INSERT or UPDATE
 * guessed wrong about the item's existence is resent as one conditional put. Returns the users
 * whose newer build was already stored (not written).
 */
export async function putCandidateSets(
  s: Stores,
  writes: readonly CandidatesWrite[],
  concurrency = 4,
): Promise<Set<string>> {
  const table = s.tableNames.candidates;
  const text = statementTexts(table, CANDIDATES_ATTRIBUTES, '"profileVersion" <= ?');
  const item = (w: CandidatesWrite) => ({
    userId: w.userId,
    profileVersion: w.profileVersion,
    builtAt: w.builtAt,
    state: w.state,
  });
  const lost = await executeConditionalBatch(
    s,
    writes.map((w) =>
      conditionalStatement(text, item(w), CANDIDATES_ATTRIBUTES, w.existed ? w.profileVersion : undefined),
    ),
    concurrency,
  );
  for (const w of writes) {
    if (!lost.has(w.userId)) continue;
    const written = await conditionalPut(s, {
      TableName: table,
      Item: item(w),
      ConditionExpression: 'attribute_not_exists(userId) OR profileVersion <= :pv',
      ExpressionAttributeValues: { ':pv': w.profileVersion },
    });
    if (written) lost.delete(w.userId);
  }
  return lost;
}

/**
 * A user's profile and candidate set in ONE BatchGet across the two tables (eventually
 * consistent): everything a recommendation reads from DynamoDB.
 */
export async function getProfileAndCandidates(
  s: Stores,
  userId: string,
): Promise<{ profile?: Profile; candidates?: Uint8Array }> {
  const profiles = s.tableNames.profiles;
  const candidates = s.tableNames.candidates;
  let request: Record<string, { Keys: WireItem[] }> | undefined = {
    [profiles]: { Keys: [{ userId: { S: userId } }] },
    [candidates]: { Keys: [{ userId: { S: userId } }] },
  };
  const out: { profile?: Profile; candidates?: Uint8Array } = {};
  for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
    if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    const res: WireBatchGetOutput = await s.wire.call<WireBatchGetOutput>('BatchGetItem', {
      RequestItems: request,
      ReturnConsumedCapacity: 'TOTAL',
    });
    s.counter.reads++;
    s.counter.readUnits += res.ConsumedCapacity?.reduce((a, c) => a + (c.CapacityUnits ?? 0), 0) ?? 0;
    const p = res.Responses?.[profiles]?.[0];
    if (p) {
      s.counter.itemsRead++;
      out.profile = profileFromItem(jsItem(p));
    }
    const c = res.Responses?.[candidates]?.[0];
    if (c) {
      s.counter.itemsRead++;
      const state = jsItem(c).state;
      if (state instanceof Uint8Array) out.candidates = state;
    }
    request = res.UnprocessedKeys;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Neighbour index: PK cell, SK userId, the compact vector alongside.

export interface IndexEntry {
  cell: string;
  userId: string;
  vec: string;
  /** The user's artist sketch (`encodeArtistSketch`); absent for entries written before it existed. */
  artists?: string;
  /**
   * The user's strongest tracks and artists (`packTopItems`), for the candidate lists of users who
   * find this one as a neighbour; absent for entries written before it existed.
   */
  top?: Uint8Array;
  profileVersion: number;
}

/** Every entry of one cell (paginated Query). */
export async function queryCell(s: Stores, cell: string): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  let start: WireItem | undefined;
  do {
    const res = await s.wire.call<{
      Items?: WireItem[];
      LastEvaluatedKey?: WireItem;
      ConsumedCapacity?: { CapacityUnits?: number };
    }>('Query', {
      TableName: s.tableNames.neighborIndex,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': 'cell' },
      ExpressionAttributeValues: { ':c': { S: cell } },
      ...(start ? { ExclusiveStartKey: start } : {}),
      ReturnConsumedCapacity: 'TOTAL',
    });
    s.counter.reads++;
    s.counter.readUnits += res.ConsumedCapacity?.CapacityUnits ?? 0;
    for (const item of res.Items ?? []) out.push(jsItem(item) as unknown as IndexEntry);
    s.counter.itemsRead += res.Items?.length ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * The directory of occupied cells lives in the same table under PK `#directory` (SK = cell), so
 * a refresh can skip empty cells instead of spending a Query on each. Markers are only ever put
 * (idempotent, order-free); a cell that empties keeps its marker and costs one wasted Query.
 */
export const DIRECTORY_PK = '#directory';

export async function readOccupiedCells(s: Stores): Promise<Set<string>> {
  const entries = await queryCell(s, DIRECTORY_PK);
  return new Set(entries.map((e) => e.userId));
}

export function directoryMarkers(cells: Iterable<string>): IndexEntry[] {
  return [...new Set(cells)].map((cell) => ({ cell: DIRECTORY_PK, userId: cell, vec: '', profileVersion: 0 }));
}

/** Moves users' index entries: puts the new cell entries and deletes the entries of cells they left. */
export async function writeIndexEntries(
  s: Stores,
  puts: readonly IndexEntry[],
  deletes: readonly { cell: string; userId: string }[],
): Promise<void> {
  await batchWrite(s, s.tableNames.neighborIndex, [
    ...puts.map((Item) => ({ PutRequest: { Item } })),
    ...deletes.map((Key) => ({ DeleteRequest: { Key } })),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Catalog (keys and items: shared/domain/catalog.ts); GSI on genreKey + popularity.

export async function getCatalogItems(s: Stores, itemIds: readonly string[]): Promise<Map<string, CatalogItem>> {
  return batchGet<CatalogItem>(s, s.tableNames.catalog, 'itemId', itemIds, false);
}

/** Last writer (by updatedAt) wins, whatever order upserts arrive in; a replay is a no-op. */
export async function putCatalogItemIfNewer(s: Stores, item: CatalogItem): Promise<boolean> {
  return conditionalPut(s, {
    TableName: s.tableNames.catalog,
    Item: { ...item, genres: sanitizeScores(item.genres) },
    ConditionExpression: 'attribute_not_exists(itemId) OR updatedAt < :u',
    ExpressionAttributeValues: { ':u': item.updatedAt },
  });
}

/** The most popular catalog items of a kind in a genre (GSI, descending popularity). */
export async function popularInGenre(
  s: Stores,
  kind: CatalogKind,
  genre: string,
  limit: number,
): Promise<CatalogItem[]> {
  const res = await s.client.send(
    new QueryCommand({
      TableName: s.tableNames.catalog,
      IndexName: 'by-genre-popularity',
      KeyConditionExpression: 'genreKey = :g',
      ExpressionAttributeValues: { ':g': genreKey(kind, genre) },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  s.counter.reads++;
  return (res.Items ?? []) as CatalogItem[];
}

// ---------------------------------------------------------------------------------------------
// Scans for the item model builder

/** Tag counts of every catalog item that has tags. */
export async function scanCatalogTags(
  s: Stores,
  onItem: (item: { itemId: string; tags: Record<string, number> }) => void,
  segments = 4,
): Promise<void> {
  await scanAll(
    s,
    s.tableNames.catalog,
    ['itemId', 'tags'],
    (item) => onItem({ itemId: item.itemId as string, tags: item.tags as Record<string, number> }),
    segments,
    'attribute_exists(#p1)',
  );
}

// ---------------------------------------------------------------------------------------------
// Item model: itemId `a#<id>` / `t#<id>` (lists), `model#<k>` (manifest), `counts#<k>#<modelId>#<n>`.

export interface ItemModelManifest {
  itemId: string;
  modelId: string;
  builtAt: number;
  users: number;
  sampledUsers: number;
  items: number;
  countShards: number;
}

export const manifestItemId = (kind: ItemKind) => `model#${kind}`;
export const countsItemId = (kind: ItemKind, modelId: string, shard: number) => `counts#${kind}#${modelId}#${shard}`;

/** A stored item-model list (`<prefix>Ids`, `<prefix>W`), or undefined when the item has none. */
export function listOf(item: Record<string, unknown>, prefix: string): PackedList | undefined {
  const ids = item[`${prefix}Ids`];
  const weights = item[`${prefix}W`];
  return typeof ids === 'string' && weights instanceof Uint8Array ? { ids, weights } : undefined;
}

export async function getItemModelManifest(s: Stores, kind: ItemKind): Promise<ItemModelManifest | undefined> {
  const res = await s.client.send(
    new GetCommand({ TableName: s.tableNames.itemModel, Key: { itemId: manifestItemId(kind) } }),
  );
  s.counter.reads++;
  return res.Item as ItemModelManifest | undefined;
}

/** The listener-count shards of a build (all of them, or an error: a partial map would skew β). */
export async function getItemModelCounts(s: Stores, kind: ItemKind, m: ItemModelManifest): Promise<PackedCounts[]> {
  const ids = Array.from({ length: m.countShards }, (_, n) => countsItemId(kind, m.modelId, n));
  const found = await batchGet<Record<string, unknown>>(s, s.tableNames.itemModel, 'itemId', ids, false);
  return ids.map((id) => {
    const item = found.get(id);
    if (!item || typeof item.ids !== 'string' || !(item.counts instanceof Uint8Array))
      throw new DataIntegrityError(`item model ${m.modelId}: count shard ${id} is missing`);
    return { ids: item.ids, counts: item.counts };
  });
}

/** Items' neighbour lists (absent items have no entry). */
export async function getItemModelEntries(
  s: Stores,
  itemIds: readonly string[],
): Promise<Map<string, { similar?: PackedList; content?: PackedList }>> {
  const found = await batchGet<Record<string, unknown>>(s, s.tableNames.itemModel, 'itemId', itemIds, false, [
    'itemId',
    'similarIds',
    'similarW',
    'contentIds',
    'contentW',
  ]);
  const out = new Map<string, { similar?: PackedList; content?: PackedList }>();
  for (const [id, item] of found) {
    const similar = listOf(item, 'similar');
    const content = listOf(item, 'content');
    out.set(id, { ...(similar ? { similar } : {}), ...(content ? { content } : {}) });
  }
  return out;
}
