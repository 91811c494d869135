/**
 * The catalog's name index (shared/domain/catalog/name-resolution.ts) in the catalog table: index
 * entries (`n#…`, `x#…`: claimed by the catalog-updater, functions/catalog-updater/name-claims.ts;
 * recording MBIDs a ListenBrainz listen teaches, by the listenbrainz-api) and name-only items for
 * names the catalog does not know (ingest resolves through them with a per-container cache,
 * name-resolution-cache.ts). Index writes are conditional on rank and `updatedAt`, so replays and
 * out-of-order catalog upserts converge to the same entries.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { catalogItemId } from '../../domain/catalog/catalog.ts';
import { entryRank, type NameIndexEntry, type NameOnlyItem } from '../../domain/catalog/name-resolution.ts';
import type { Stores } from './stores.ts';

/** Name-only items carry this `updatedAt`: any real upsert (even a seed at 0) replaces them. */
export const NAME_ONLY_UPDATED_AT = -1;

export async function getIndexEntries(s: Stores, keys: readonly string[]): Promise<Map<string, NameIndexEntry>> {
  const out = new Map<string, NameIndexEntry>();
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += 100) {
    let pending: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map((itemId) => ({ itemId }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const res = await s.client.send(
        new BatchGetCommand({ RequestItems: { [s.tableNames.catalog]: { Keys: pending } } }),
      );
      s.counter.reads++;
      for (const item of res.Responses?.[s.tableNames.catalog] ?? []) {
        s.counter.itemsRead++;
        if (item.kind === 'name') out.set(item.itemId as string, item as NameIndexEntry);
        else if (item.kind === 'track' && item.nameOnly !== true) out.set(item.itemId as string, trackAsEntry(item));
      }
      pending = res.UnprocessedKeys?.[s.tableNames.catalog]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return out;
}

/** A catalog track looked up directly by id (a Spotify id that is the track's id). */
function trackAsEntry(item: Record<string, unknown>): NameIndexEntry {
  const id = item.id as string;
  const hasGenres = Object.keys((item.genres as Record<string, number> | undefined) ?? {}).length > 0;
  return {
    itemId: item.itemId as string,
    kind: 'name',
    trackId: id,
    ...(typeof item.artistId === 'string' ? { artistId: item.artistId } : {}),
    name: item.name as string,
    hasGenres,
    rank: entryRank(id, hasGenres),
    updatedAt: item.updatedAt as number,
  };
}

async function putIf(s: Stores, item: Record<string, unknown>, condition: string, values?: Record<string, unknown>) {
  s.counter.writes++;
  s.counter.itemsWritten++;
  try {
    await s.client.send(
      new PutCommand({
        TableName: s.tableNames.catalog,
        Item: item,
        ConditionExpression: condition,
        // DynamoDB rejects names the expression does not use.
        ExpressionAttributeNames: Object.fromEntries(
          Object.entries({ '#rank': 'rank', '#u': 'updatedAt', '#id': 'itemId' }).filter(([k]) =>
            condition.includes(k),
          ),
        ),
        ...(values ? { ExpressionAttributeValues: values } : {}),
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** A higher-ranked entry wins; at equal rank the newer `updatedAt` (ties keep what is stored). */
export function putIndexEntry(s: Stores, e: NameIndexEntry): Promise<boolean> {
  return putIf(s, { ...e }, 'attribute_not_exists(#id) OR #rank < :r OR (#rank = :r AND #u < :u)', {
    ':r': e.rank,
    ':u': e.updatedAt,
  });
}

/** Records a name the catalog does not know, unless the catalog already has that id. */
export function putNameOnlyItem(s: Stores, n: NameOnlyItem): Promise<boolean> {
  const itemId = catalogItemId(n.kind, n.id);
  return putIf(
    s,
    {
      itemId,
      kind: n.kind,
      id: n.id,
      name: n.name,
      ...(n.artistId ? { artistId: n.artistId } : {}),
      ...(n.artistName ? { artistName: n.artistName } : {}),
      genres: {},
      popularity: 0,
      nameOnly: true,
      updatedAt: NAME_ONLY_UPDATED_AT,
    },
    'attribute_not_exists(#id)',
  );
}
