/**
 * The batch layer's loader and build lease on DynamoDB Local: one build at a time (a second
 * build's prepare neither runs nor touches the output while the first holds the lease), and the
 * streaming loader — tiny chunks and many key buckets — leaving the table exactly as one pass
 * over the whole result would, clean-up of dropped and half-dropped items included.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildItemModelLocally } from '../../local/batch/item-model-job.ts';
import {
  getItemModelCounts,
  getItemModelManifest,
  type StoredLists,
  scanItemModelLists,
} from '../../shared/adapters/dynamodb/item-model.ts';
import { createStores, resetStores, type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import {
  acquireBuildLease,
  holdLease,
  LEASE_ITEM_ID,
  releaseBuildLease,
  renewBuildLease,
} from '../../shared/batch/build-lease.ts';
import { resultSource } from '../../shared/batch/build-source.ts';
import { loadBuild, loadItemModel } from '../../shared/batch/item-model-loader.ts';
import { emptyResult, type ItemModelResult } from '../../shared/batch/item-model-result.ts';
import { archiveKey } from '../../shared/domain/events/archive.ts';
import { unpackCounts, unpackList } from '../../shared/domain/item-model/item-model.ts';
import { provisionedTestEnv, REGION } from '../support/infra.ts';

let stores: Stores;
let otherStores: Stores;
let prefixedEnv: Record<string, string>;
const dirs: string[] = [];

beforeAll(async () => {
  const t = await provisionedTestEnv('loader');
  const u = await provisionedTestEnv('loader2');
  const v = await provisionedTestEnv('loader3');
  prefixedEnv = v.env;
  stores = createStores({ endpoint: t.dynamodbEndpoint, region: REGION }, t.topology.tableNames);
  otherStores = createStores({ endpoint: u.dynamodbEndpoint, region: REGION }, u.topology.tableNames);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const list = (ids: string[], w = 1) => ({ ids, weights: Float64Array.from(ids.map((_, i) => w / (i + 1))) });

/** A result of `n` artists: similar lists for all, content lists for the even ones. */
function world(n: number, shift = 0): ItemModelResult {
  const r = emptyResult();
  r.kinds.a.users = 10;
  for (let i = 0; i < n; i++) {
    const id = `art-${i}`;
    r.kinds.a.similar.set(id, list([`art-${(i + 1) % n}`, `art-${(i + 2) % n}`], 1 + shift));
    if (i % 2 === 0) r.kinds.a.content.set(id, list([`art-${(i + 3) % n}`]));
    r.kinds.a.listeners.set(id, 1 + (i % 7));
  }
  return r;
}

async function tableState(s: Stores): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  await scanItemModelLists(s, (item: StoredLists) =>
    out.set(item.itemId, {
      similar: item.similar ? unpackList(item.similar) : undefined,
      content: item.content ? unpackList(item.content) : undefined,
    }),
  );
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('build lease', () => {
  it('one holder at a time; a released or expired lease can be taken; never released by another', async () => {
    const now = Date.now();
    expect(await acquireBuildLease(stores, 'exec-1', 600, now)).toBe(true);
    expect(await acquireBuildLease(stores, 'exec-2', 600, now)).toBe(false);
    // A retried prepare of the same execution keeps it.
    expect(await acquireBuildLease(stores, 'exec-1', 600, now)).toBe(true);
    expect(await releaseBuildLease(stores, 'exec-2')).toBe(false);
    expect(await renewBuildLease(stores, 'exec-2', 600, now)).toBe(false);
    expect(await acquireBuildLease(stores, 'exec-2', 600, now + 599_000)).toBe(false);
    // Past its expiry (a build that died without releasing) the next one takes over.
    expect(await acquireBuildLease(stores, 'exec-2', 600, now + 601_000)).toBe(true);
    expect(await releaseBuildLease(stores, 'exec-1')).toBe(false);
    expect(await releaseBuildLease(stores, 'exec-2')).toBe(true);
    expect(await holdLease(stores, 'exec-3', async () => 'ran')).toBe('ran');
    expect(await acquireBuildLease(stores, 'exec-4', 600)).toBe(true);
    expect(await holdLease(stores, 'exec-5', async () => 'ran')).toBeUndefined();
    expect(await releaseBuildLease(stores, 'exec-4')).toBe(true);
  });

  it('a build that starts while another holds the lease is skipped and leaves its output alone', async () => {
    const archive = mkdtempSync(join(tmpdir(), 'tunestream-lease-archive-'));
    const out = mkdtempSync(join(tmpdir(), 'tunestream-lease-out-'));
    dirs.push(archive, out);
    const ts = Date.now();
    mkdirSync(join(archive, archiveKey(ts, 'listen-events', 0, 0, 0), '..'), { recursive: true });
    writeFileSync(
      join(archive, archiveKey(ts, 'listen-events', 0, 0, 0)),
      `${JSON.stringify({ eventId: 'e1', userId: 'u1', artistId: 'a1', ts, type: 'play' })}\n`,
    );
    // What the running build is writing: the second build must not empty it.
    mkdirSync(join(out, 'similar'));
    writeFileSync(join(out, 'similar', 'part-0000.parquet'), 'in progress');
    expect(await acquireBuildLease(otherStores, 'running-build', 600)).toBe(true);
    const second = await buildItemModelLocally(otherStores, { archiveDir: archive, outDir: out, announce: false });
    expect(second).toMatchObject({ skipped: 'busy', published: false, itemsWritten: 0 });
    expect(readdirSync(join(out, 'similar'))).toEqual(['part-0000.parquet']);
    expect(await getItemModelManifest(otherStores, 'a')).toBeUndefined();
    await releaseBuildLease(otherStores, 'running-build');
    const third = await buildItemModelLocally(otherStores, { archiveDir: archive, outDir: out, announce: false });
    expect(third).toMatchObject({ published: true, window: { hours: 1 } });
    expect(third.skipped).toBeUndefined();
  });
});

describe("the cloud loader's prepare (the state machine's first step)", () => {
  it('skips while another build holds the lease, touching nothing; releases it when the archive is empty', async () => {
    const { prepare } = await import('../../functions/item-model-builder/handler.ts');
    const touched: string[] = [];
    const io = (hours: { hour: string; bytes: number }[]) => ({
      async *archiveHours() {
        touched.push('list');
        yield* hours;
      },
      clearOutput: async () => {
        touched.push('clear');
        return 0;
      },
      putTags: async () => {
        touched.push('tags');
      },
    });
    Object.assign(process.env, prefixedEnv);
    resetStores();
    const now = Date.now();
    expect(await acquireBuildLease(storesFromEnv(), 'arn:exec:running', 600, now)).toBe(true);
    expect(await prepare('arn:exec:second', io([{ hour: '2026120100', bytes: 10 }]), now)).toEqual({ status: 'busy' });
    expect(touched).toEqual([]);
    await releaseBuildLease(storesFromEnv(), 'arn:exec:running');
    expect(await prepare('arn:exec:empty', io([]), now)).toEqual({ status: 'empty' });
    // The empty build released its lease: the next one runs.
    const ready = await prepare('arn:exec:third', io([{ hour: '2026120100', bytes: 10 }]), Date.UTC(2026, 11, 1, 5));
    expect(ready).toMatchObject({
      status: 'ready',
      window: { fromHour: '2026120100', toHour: '2026120100', hours: 1 },
      sql: { window_from_year: "'2026'", window_to_hour: "'2026120100'" },
    });
    expect(touched).toEqual(['list', 'list', 'clear', 'tags']);
    expect(await releaseBuildLease(storesFromEnv(), 'arn:exec:third')).toBe(true);
  });
});

describe('streaming loader', () => {
  it('chunks and key buckets leave the table as one pass would; dropped lists are cleaned up', async () => {
    await loadItemModel(stores, world(40), { now: 1_000 });
    const whole = await tableState(stores);
    expect(whole.size).toBe(40);
    // The same build again, streamed in chunks of 3 items and buckets of 4 keys: nothing changes.
    const again = await loadBuild(stores, resultSource(world(40), 7), {
      now: 2_000,
      chunkItems: 3,
      keysPerBucket: 4,
    });
    expect(again).toMatchObject({ published: false, itemsWritten: 0 });
    expect(await tableState(stores)).toEqual(whole);

    // Next build: 30 artists (10 dropped), weights moved, content lists gone from every 4th item.
    const next = world(30, 1);
    for (const [id] of next.kinds.a.content) if (Number(id.slice(4)) % 4 === 0) next.kinds.a.content.delete(id);
    const summary = await loadBuild(stores, resultSource(next, 4), { now: 3_000, chunkItems: 3, keysPerBucket: 4 });
    expect(summary.published).toBe(true);
    expect(summary.kinds.a).toMatchObject({ items: 30, listsDeleted: 10, withSimilar: 30 });
    const streamed = await tableState(stores);
    expect([...streamed.keys()]).toEqual([...next.kinds.a.similar.keys()].map((id) => `a#${id}`).sort());
    for (const [key, v] of streamed) {
      const id = key.slice(2);
      expect((v as { content?: unknown }).content === undefined, id).toBe(!next.kinds.a.content.has(id));
    }
    // The same end state as loading the build at once into an empty table.
    await loadItemModel(otherStores, next, { now: 3_000 });
    expect(await tableState(otherStores)).toEqual(streamed);
    // Counts: streamed into shards, read back whole; the digest tells the next build they did not move.
    const m = (await getItemModelManifest(stores, 'a'))!;
    expect(m.countsDigest).toMatch(/^30:/);
    expect(unpackCounts(await getItemModelCounts(stores, 'a', m))).toEqual(next.kinds.a.listeners);
  });

  it('an empty build never replaces a model', async () => {
    const before = await tableState(stores);
    const summary = await loadItemModel(stores, emptyResult(), { now: 4_000 });
    expect(summary).toMatchObject({ published: false, itemsWritten: 0 });
    expect(await tableState(stores)).toEqual(before);
    expect(before.has(LEASE_ITEM_ID)).toBe(false);
  });
});
