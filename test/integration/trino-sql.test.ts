/**
 * Every item model query parses as Trino SQL with Trino's own parser (io.trino:trino-parser 435),
 * as Athena runs it: each part as its UNLOAD holds it (the staged parts read as tables), with the
 * product's parameters filled in. And the check can fail: DuckDB-only syntax is refused.
 */
import { describe, expect, it } from 'vitest';
import { ITEM_MODEL_PARTS, partQuery } from '../../shared/batch/item-model-sql.ts';
import { trinoParse } from '../../tools/trino/parse-check.ts';

describe("the item model's SQL is Trino SQL", () => {
  it('parses every part with Trino 435 parser; refuses DuckDB-only syntax', async () => {
    const texts = Object.fromEntries(ITEM_MODEL_PARTS.map((p) => [p, partQuery(p)]));
    texts['duckdb-only'] = 'SELECT * EXCLUDE (ts) FROM events';
    texts['duckdb-cast'] = 'SELECT ts::DOUBLE FROM events';
    const results = await trinoParse(texts);
    for (const r of results.filter((x) => !x.name.startsWith('duckdb'))) {
      expect(r.error, r.name).toBeUndefined();
      expect(r).toMatchObject({ ok: true, statement: 'Query' });
    }
    expect(results.filter((x) => x.name.startsWith('duckdb')).map((r) => r.ok)).toEqual([false, false]);
  }, 120_000);
});
