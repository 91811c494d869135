/**
 * The attributor's storage of served lists and its first-hit marks, on an in-memory stand-in for
 * the two tables (the served-lists table's key range, conditional put and hit update; counter
 * updates are only recorded). Found by the chaos run's attribution check.
 */
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { attributePlays, storeServedLists } from '../../../functions/recommendation-attributor/handler.ts';
import {
  type ExperimentsStore,
  GROUP_SPAN_MS,
  servedGroups,
  servedListsSince,
} from '../../../shared/adapters/dynamodb/experiments.ts';
import { RequestCounter } from '../../../shared/adapters/dynamodb/stores.ts';
import type { DecodedRecord } from '../../../shared/adapters/kafka.ts';
import type { ListenEventV1 } from '../../../shared/domain/events/events.ts';
import { HOUR_MS, type StoredList, storedListOf } from '../../../shared/domain/experiments/attribution.ts';
import { newRecommendationId } from '../../../shared/domain/experiments/recommendation-id.ts';
import type { ServedListV1 } from '../../../shared/domain/experiments/served-list.ts';
import type { ValidRecord } from '../../../shared/handlers/records.ts';
import { resolveSettings } from '../../../shared/topology.ts';

// The handler's metrics would print one EMF line per batch; set before the handler's module loads.
vi.hoisted(() => vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true'));
afterAll(() => vi.unstubAllEnvs());

type Item = Record<string, unknown> & { userId: string; sk: string; hits: Record<string, string> };

/** Just enough of DynamoDB for the served-lists table; counter updates succeed unconditionally. */
function memoryStore(): ExperimentsStore & { items: Item[] } {
  const items: Item[] = [];
  const conditionFailed = () =>
    Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
  const send = async (cmd: unknown) => {
    if (cmd instanceof QueryCommand) {
      const v = cmd.input.ExpressionAttributeValues!;
      const found = items.filter((i) => i.userId === v[':u'] && i.sk >= (v[':from'] as string));
      return { Items: structuredClone(found.sort((a, b) => (a.sk < b.sk ? -1 : 1))) };
    }
    if (cmd instanceof PutCommand) {
      const item = cmd.input.Item as Item;
      if (items.some((i) => i.userId === item.userId && i.sk === item.sk)) throw conditionFailed();
      items.push(structuredClone(item));
      return {};
    }
    if (cmd instanceof UpdateCommand && cmd.input.TableName === 'served') {
      const key = cmd.input.Key as { userId: string; sk: string };
      const item = items.find((i) => i.userId === key.userId && i.sk === key.sk);
      const list = cmd.input.ExpressionAttributeNames!['#l']!;
      const hit = cmd.input.ExpressionAttributeValues![':e'] as string;
      if (!item || (item.hits[list] !== undefined && item.hits[list] !== hit)) throw conditionFailed();
      item.hits[list] = hit;
      return {};
    }
    return {};
  };
  return {
    items,
    client: { send } as unknown as DynamoDBDocumentClient,
    servedTable: 'served',
    countersTable: 'counters',
    counter: new RequestCounter(),
  };
}

const T0 = Date.UTC(2026, 0, 1);
const settings = resolveSettings({});
const rec = <T>(value: T, partition: number, offset: number): ValidRecord<T> => ({
  value,
  record: { partition, offset } as DecodedRecord,
});
const served = (ts: number, items: string[]): ServedListV1 => ({
  v: 1,
  id: newRecommendationId(ts),
  userId: 'ana',
  route: 'recommendations',
  kind: 'artist',
  variant: 'control',
  strategy: 'collaborative',
  ts,
  items,
});
const play = (eventId: string, ts: number, artistId: string): ListenEventV1 => ({
  eventId,
  userId: 'ana',
  artistId,
  ts,
  type: 'play',
});

describe('recommendation-attributor', () => {
  it('stores one batch of a listener lists in groups of at most an hour, each found by a later window', async () => {
    const lists = [0, 10 * 60_000, 3 * HOUR_MS, 26 * HOUR_MS].map((dt, i) =>
      storedListOf(served(T0 + dt, ['a']), `0:${i}`),
    );
    const groups = servedGroups([...lists].reverse());
    expect(groups.map((g) => g.map((l) => l.id))).toEqual([
      [lists[0]!.id, lists[1]!.id],
      [lists[2]!.id],
      [lists[3]!.id],
    ]);
    for (const g of groups) expect(g.at(-1)!.servedAt - g[0]!.servedAt).toBeLessThanOrEqual(GROUP_SPAN_MS);
    expect(servedGroups([] as StoredList[])).toEqual([]);
  });

  it('a play counts for a list stored in the same served-lists batch as a list served a day earlier', async () => {
    // The failing case before groups were split: one group keyed by the first list, which the
    // second list's window (24 h back from the play, plus an hour) no longer reaches.
    const s = memoryStore();
    const first = served(T0, ['artist-a']);
    const later = served(T0 + 26 * HOUR_MS, ['artist-b']);
    await storeServedLists(s, [rec(first, 0, 0), rec(later, 0, 1)], new Map([[0, 1]]), settings);
    const at = T0 + 26 * HOUR_MS + 60_000;
    const out = await attributePlays(s, [rec(play('e1', at, 'artist-b'), 0, 0)], new Map([[0, 0]]), settings);
    expect(out).toEqual({ plays: 1, attributed: 1, newHitLists: 1 });
    expect((await servedListsSince(s, 'ana', at - 24 * HOUR_MS)).map((l) => l.id)).toEqual([later.id]);
    expect(s.items).toHaveLength(2);
  });

  it('a list read from a backlog (served long ago) is kept a window past its storing, not stored expired', async () => {
    const s = memoryStore();
    const before = Date.now();
    await storeServedLists(s, [rec(served(T0, ['artist-a']), 0, 0)], new Map([[0, 0]]), settings);
    const windowMs = settings.ATTRIBUTION_WINDOW_HOURS * HOUR_MS;
    expect((s.items[0]!.expiresAt as number) * 1000).toBeGreaterThanOrEqual(before + windowMs);
  });

  it('a client duplicate of a first hit is a second hit, not a second list with a hit; a redelivery is the first hit again', async () => {
    const s = memoryStore();
    const list = served(T0, ['artist-a']);
    await storeServedLists(s, [rec(list, 0, 0)], new Map([[0, 0]]), settings);
    const p = play('e1', T0 + HOUR_MS, 'artist-a');
    const batch = [rec(p, 2, 10), rec({ ...p }, 2, 11)];
    expect(await attributePlays(s, batch, new Map([[2, 11]]), settings)).toEqual({
      plays: 2,
      attributed: 2,
      newHitLists: 1,
    });
    // Redelivered (a crash after the mark): the record is still the first hit, so the counters'
    // offsets decide; its duplicate record is not, in whichever batch it comes.
    expect(await attributePlays(s, [batch[0]!], new Map([[2, 10]]), settings)).toMatchObject({ newHitLists: 1 });
    expect(await attributePlays(s, [batch[1]!], new Map([[2, 11]]), settings)).toMatchObject({ newHitLists: 0 });
  });
});
