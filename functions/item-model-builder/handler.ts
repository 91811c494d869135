/**
 * Scheduled (EventBridge rate rule; locally the runtime's scheduler): rebuilds the item model from
 * the pipeline's own state. One parallel scan of the profiles (top artists and tracks only) feeds
 * listener counts and the co-listening lists; one filtered scan of the catalog feeds the tag
 * content lists. A build is a pure function of those tables, so a retried or repeated run writes
 * the same lists again (at-least-once is harmless); its count shards are keyed by build id and the
 * manifest is written last, so readers never see half a build's counts.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import {
  type ItemModelEntry,
  putItemModel,
  type Stores,
  scanCatalogTags,
  scanProfileTopItems,
  storesFromEnv,
} from '../../shared/adapters/dynamodb.ts';
import { produce, TRIGGER_PRODUCE_DEADLINE_MS, topicsFromEnv } from '../../shared/adapters/kafka.ts';
import { candidatesModelKey } from '../../shared/domain/candidates.ts';
import { type ItemKind, itemKey, parseItemKey } from '../../shared/domain/catalog.ts';
import {
  DEFAULT_ITEM_MODEL,
  type ItemModel,
  ItemModelBuilder,
  packCounts,
  packList,
} from '../../shared/domain/item-model.ts';
import { DAY_MS, type Profile, profileUpdateOf } from '../../shared/domain/profile.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { resolveSettings, schedules } from '../../shared/topology.ts';

const FUNCTION_NAME = 'item-model-builder';
const tools = observability(FUNCTION_NAME);
const settings = resolveSettings();

const KINDS: readonly { kind: ItemKind; field: 'topArtists' | 'topTracks' }[] = [
  { kind: 'a', field: 'topArtists' },
  { kind: 't', field: 'topTracks' },
];

/** Lists of items a build no longer mentions expire after a few missed builds (never mid-interval). */
function expiresAtSeconds(now: number): number {
  const everyMinutes = schedules.find((s) => s.function === FUNCTION_NAME)?.everyMinutes ?? 60;
  return Math.ceil(now / 1000 + Math.max(3 * everyMinutes * 60, 24 * 3600));
}

function modelEntries(kind: ItemKind, model: ItemModel, modelId: string, expiresAt: number): ItemModelEntry[] {
  const ids = new Set([...model.listeners.keys(), ...model.similar.keys(), ...model.content.keys()]);
  const entries: ItemModelEntry[] = [];
  for (const id of ids) {
    const similar = model.similar.get(id);
    const content = model.content.get(id);
    entries.push({
      itemId: itemKey(kind, id),
      listeners: model.listeners.get(id) ?? 0,
      modelId,
      expiresAt,
      ...(similar && similar.ids.length > 0 ? { similar: packList(similar) } : {}),
      ...(content && content.ids.length > 0 ? { content: packList(content) } : {}),
    });
  }
  return entries;
}

export interface BuildSummary {
  modelId: string;
  profiles: number;
  kinds: Record<
    ItemKind,
    { users: number; sampledUsers: number; items: number; withSimilar: number; withContent: number }
  >;
  itemsWritten: number;
  /** Profile updates sent so that the neighbour updater rebuilds these users' candidates now. */
  announced: number;
  seconds: number;
}

/**
 * After the manifests: one profile update per user, marked with the new build, to profile-updates.
 * The neighbour updater refreshes each such user and rebuilds their candidate set with the new
 * lists (its own condition makes a repeated announcement harmless).
 */
async function announceBuild(users: readonly Profile[], modelKey: string): Promise<number> {
  const topic = topicsFromEnv().profileUpdates;
  const updates = users.filter((p) => p.version > 0);
  for (let i = 0; i < updates.length; i += 1000) {
    await produce(
      topic,
      updates
        .slice(i, i + 1000)
        .map((p) => ({ key: p.userId, value: JSON.stringify({ ...profileUpdateOf(p), itemModel: modelKey }) })),
      TRIGGER_PRODUCE_DEADLINE_MS,
    );
  }
  return updates.length;
}

export async function buildItemModels(stores: Stores, now = Date.now()): Promise<BuildSummary> {
  const started = Date.now();
  const params = {
    ...DEFAULT_ITEM_MODEL,
    maxUsers: settings.ITEM_MODEL_MAX_USERS,
    topK: settings.ITEM_MODEL_SIMILAR_K,
    contentTopK: settings.ITEM_MODEL_CONTENT_K,
  };
  const builders = new Map(KINDS.map(({ kind }) => [kind, new ItemModelBuilder(params)]));
  let profiles = 0;
  // Users whose candidate sets the new build should rebuild now (the rest rebuild on their next
  // play): the recently active ones, relative to the newest event seen, at most a bounded number.
  const active: Profile[] = [];
  let newestEventTs = 0;
  await scanProfileTopItems(stores, (p) => {
    profiles++;
    for (const { kind, field } of KINDS) builders.get(kind)!.addUser(p.userId, p[field]);
    if ((p.lastEventTs ?? 0) > newestEventTs) newestEventTs = p.lastEventTs ?? 0;
    if (active.length < settings.ITEM_MODEL_ANNOUNCE_MAX_USERS) active.push(p);
  });
  const tags = new Map<ItemKind, Map<string, Record<string, number>>>(KINDS.map(({ kind }) => [kind, new Map()]));
  await scanCatalogTags(stores, ({ itemId, tags: t }) => {
    const key = parseItemKey(itemId);
    if (key) tags.get(key.kind)?.set(key.id, t);
  });

  const modelId = new Date(now).toISOString();
  const expiresAt = expiresAtSeconds(now);
  const written = stores.counter.itemsWritten;
  const kinds = {} as BuildSummary['kinds'];
  for (const { kind } of KINDS) {
    const model = builders.get(kind)!.build(tags.get(kind));
    const entries = modelEntries(kind, model, modelId, expiresAt);
    await putItemModel(
      stores,
      kind,
      { modelId, builtAt: now, users: model.users, sampledUsers: model.sampledUsers, items: entries.length },
      entries,
      packCounts(model.listeners),
      expiresAt,
    );
    kinds[kind] = {
      users: model.users,
      sampledUsers: model.sampledUsers,
      items: entries.length,
      withSimilar: entries.filter((e) => e.similar).length,
      withContent: entries.filter((e) => e.content).length,
    };
  }
  const announced = await announceBuild(
    active.filter((p) => (p.lastEventTs ?? 0) >= newestEventTs - settings.ITEM_MODEL_ANNOUNCE_ACTIVE_DAYS * DAY_MS),
    candidatesModelKey(modelId, modelId),
  );
  const summary: BuildSummary = {
    modelId,
    profiles,
    announced,
    kinds,
    itemsWritten: stores.counter.itemsWritten - written,
    seconds: (Date.now() - started) / 1000,
  };
  tools.logger.info('item model built', { ...summary });
  tools.metrics.addMetric('itemModelItems', MetricUnit.Count, kinds.a.items + kinds.t.items);
  tools.metrics.addMetric('itemModelBuildSeconds', MetricUnit.Seconds, summary.seconds);
  return summary;
}

export const handler = wrap(
  (_event: ScheduledEvent | Record<string, never>, _context: Context) => buildItemModels(storesFromEnv()),
  tools,
);
