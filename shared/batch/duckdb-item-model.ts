/**
 * The item model's SQL on DuckDB (the local engine): `user_items` materialized once, then each
 * part's file as it is in the repo, read into an `ItemModelResult` for the loader.
 */
import type { ArchiveDb } from '../adapters/duckdb.ts';
import {
  addListeners,
  addNeighbors,
  emptyResult,
  type ItemModelResult,
  type ListenerRow,
  type NeighborRow,
} from './item-model-result.ts';
import {
  DEFAULT_ITEM_MODEL_SQL,
  type ItemModelPart,
  type ItemModelSqlParams,
  itemModelQuery,
} from './item-model-sql.ts';

export interface SqlRunStats {
  seconds: Partial<Record<ItemModelPart, number>>;
  userItems: number;
  similarRows: number;
  contentRows: number;
}

export async function runItemModelSql(
  db: ArchiveDb,
  params: Readonly<ItemModelSqlParams> = DEFAULT_ITEM_MODEL_SQL,
  log: (line: string) => void = () => {},
): Promise<{ result: ItemModelResult; stats: SqlRunStats }> {
  const stats: SqlRunStats = { seconds: {}, userItems: 0, similarRows: 0, contentRows: 0 };
  const timed = async <T>(part: ItemModelPart, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    log(`${part}…`);
    const out = await f();
    stats.seconds[part] = (performance.now() - t0) / 1000;
    log(`${part} done in ${stats.seconds[part]!.toFixed(1)} s`);
    return out;
  };
  const result = emptyResult();
  await timed('user_items', () =>
    db.run(`CREATE OR REPLACE TEMP TABLE user_items AS ${itemModelQuery('user_items', params)}`),
  );
  const users = await timed('users', () => db.rows<{ kind: string; users: number }>(itemModelQuery('users', params)));
  for (const u of users) if (u.kind === 'a' || u.kind === 't') result.kinds[u.kind].users = Number(u.users);
  const [count] = await db.rows<{ n: number }>('SELECT count(*) AS n FROM user_items');
  stats.userItems = Number(count?.n ?? 0);
  log(`user_items: ${stats.userItems} rows (${users.map((u) => `${u.kind}: ${u.users} users`).join(', ')})`);
  addListeners(result, await timed('listeners', () => db.rows<ListenerRow>(itemModelQuery('listeners', params))));
  const similar = await timed('similar', () => db.rows<NeighborRow>(itemModelQuery('similar', params)));
  stats.similarRows = similar.length;
  addNeighbors(result, 'similar', similar);
  const content = await timed('content', () => db.rows<NeighborRow>(itemModelQuery('content', params)));
  stats.contentRows = content.length;
  addNeighbors(result, 'content', content);
  const active = await timed('active_users', () =>
    db.rows<{ user_id: string }>(itemModelQuery('active_users', params)),
  );
  result.activeUsers = active.map((r) => r.user_id);
  await db.run('DROP TABLE user_items');
  return { result, stats };
}
