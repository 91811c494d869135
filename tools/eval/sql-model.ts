/**
 * The evaluation's item model, built the way the product builds it: the training split written as
 * an event archive (one play per user–artist pair, as `--pipeline` feeds them), the artists' tags
 * as the catalog's, and the item model's SQL (`sql/item-model/`) run on DuckDB with the product's
 * bounds (ITEM_MODEL_TOP_ITEMS, ITEM_MODEL_PAIR_ITEMS, ITEM_MODEL_MIN_SUPPORT,
 * ITEM_MODEL_CONTENT_TAGS). So the offline evaluation and the product cannot drift apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirArchive } from '../../shared/adapters/archive.ts';
import { appendItemTags, openArchiveDb } from '../../shared/adapters/duckdb.ts';
import { runItemModelSql } from '../../shared/batch/duckdb-item-model.ts';
import { type ItemModelSqlParams, itemModelSqlParams } from '../../shared/batch/item-model-sql.ts';
import { archiveKey } from '../../shared/domain/events/archive.ts';
import type { ItemModel } from '../../shared/domain/item-model/item-model.ts';
import { resolveSettings } from '../../shared/topology.ts';
import { type EvalData, itemModelKey, type SystemParams } from './evaluate.ts';

const TS = Date.UTC(2011, 0, 1);

export function evalSqlParams(
  p: Pick<SystemParams, 'itemAlpha' | 'itemBeta' | 'itemTopK' | 'contentTopK'>,
  overrides: Partial<ItemModelSqlParams> = {},
): ItemModelSqlParams {
  return {
    ...itemModelSqlParams(resolveSettings()),
    alpha: p.itemAlpha,
    beta: p.itemBeta,
    similarK: p.itemTopK,
    contentK: p.contentTopK,
    ...overrides,
  };
}

export async function sqlItemModel(data: EvalData, params: ItemModelSqlParams): Promise<ItemModel> {
  const dir = mkdtempSync(join(tmpdir(), 'tunestream-eval-archive-'));
  try {
    const store = dirArchive(dir);
    const rows = data.train;
    for (let i = 0; i < rows.length; i += 20_000) {
      const chunk = rows.slice(i, i + 20_000);
      const body = chunk
        .map((r) =>
          JSON.stringify({ eventId: `${r.user}/${r.item}`, userId: r.user, artistId: r.item, ts: TS, type: 'play' }),
        )
        .join('\n');
      await store.writeObject(archiveKey(TS, 'listen-events', 0, i, i + chunk.length - 1), `${body}\n`);
    }
    const db = await openArchiveDb(dir);
    try {
      if (data.tags)
        await appendItemTags(
          db,
          [...data.tags].map(([itemId, tags]) => ({ kind: 'a', itemId, tags })),
        );
      const { result } = await runItemModelSql(db, params);
      const a = result.kinds.a;
      return { users: a.users, sampledUsers: a.users, listeners: a.listeners, similar: a.similar, content: a.content };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds the model `runSystem` needs for these parameters (once per key). */
export async function prepareItemModel(
  data: EvalData,
  p: Pick<SystemParams, 'itemAlpha' | 'itemBeta' | 'itemTopK' | 'contentTopK'>,
  cache: { models?: Map<string, ItemModel> },
  overrides: Partial<ItemModelSqlParams> = {},
): Promise<ItemModel> {
  cache.models ??= new Map();
  const key = itemModelKey(p);
  let model = cache.models.get(key);
  if (!model) {
    model = await sqlItemModel(data, evalSqlParams(p, overrides));
    cache.models.set(key, model);
  }
  return model;
}
