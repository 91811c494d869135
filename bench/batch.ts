/**
 * `npm run bench -- batch`: the batch layer's scale on a generated archive. Writes an archive of
 * N events (listeners with community tastes over Zipf-popular artists and their tracks, spread
 * over 30 days of hour partitions, JSON lines as the event archiver writes them) under
 * .data/bench-batch/<N>/ (kept for reruns), then runs `npm run item-model` on it in a fresh
 * process, writing the parts as Parquet beside it: build time, peak memory (RSS, DuckDB included),
 * bytes read (the archive's size: JSON lines are read whole), pair rows and buckets, Parquet
 * written, and Athena's price for the same build. Then the streaming loader alone on that
 * Parquet, twice, each in a fresh process against DynamoDB Local: into empty tables, and the
 * same build again (nothing to write): its time and peak RSS, which must not grow with the build. Sizes: BATCH_BENCH_EVENTS (comma-separated,
 * default 500000; --quick 100000), 50 events per listener; 5,000,000 takes ~30 min on a loaded
 * 2-core box (BENCHMARKS.md, "batch").
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openArchiveDb } from '../shared/adapters/duckdb.ts';
import type { StoredLists } from '../shared/adapters/dynamodb/item-model.ts';
import { runItemModelSql } from '../shared/batch/duckdb-item-model.ts';
import { diffLists, KINDS } from '../shared/batch/item-model-loader.ts';
import { itemModelSqlParams } from '../shared/batch/item-model-sql.ts';
import { itemKey } from '../shared/domain/catalog/catalog.ts';
import { archiveKey } from '../shared/domain/events/archive.ts';
import { packList } from '../shared/domain/item-model/item-model.ts';
import { rng, zipf } from '../shared/random.ts';
import { resolveSettings } from '../shared/topology.ts';
import { archiveFiles } from '../tools/loaders/archive.ts';
import { infrastructure, log } from './env.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const EVENTS_PER_LISTENER = 50;
/**
 * Scans of the archive per Athena build: user_items and active_users each read `events` twice
 * (the rows and the newest ts); every other part reads the staged Parquet (a few % of that).
 */
const ATHENA_ARCHIVE_SCANS = 4;

/** Writes the archive unless a complete one is there; returns its directory. */
export function generateArchive(events: number, root = resolve('.data/bench-batch')): string {
  const dir = join(root, String(events));
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const listeners = Math.max(1, Math.round(events / EVENTS_PER_LISTENER));
  const artists = Math.max(1000, Math.round(listeners / 5));
  const random = rng(events);
  const popular = zipf(artists, 1.0, random);
  const communities = 200;
  const hours = 30 * 24;
  // One object per hour partition and writer "batch" of ≤ 20k events, as the archiver names them.
  const perObject = 20_000;
  let buffer: string[] = [];
  let offset = 0;
  let hour = 0;
  const flush = () => {
    if (buffer.length === 0) return;
    const ts = T0 + hour * 3_600_000;
    const key = archiveKey(ts, 'listen-events', 0, offset - buffer.length, offset - 1);
    mkdirSync(join(dir, key, '..'), { recursive: true });
    writeFileSync(join(dir, key), `${buffer.join('\n')}\n`);
    buffer = [];
  };
  const eventsPerHour = Math.ceil(events / hours);
  for (let e = 0; e < events; e++) {
    const h = Math.floor(e / eventsPerHour);
    if (h !== hour || buffer.length >= perObject) {
      flush();
      hour = h;
    }
    const u = Math.floor(random() * listeners);
    const community = u % communities;
    // Half of a listener's plays come from their community's shifted popularity, half from the global one.
    const rank = popular();
    const a = random() < 0.5 ? (rank + community * 97) % artists : rank;
    const track = Math.floor(random() * 10);
    const ts = T0 + h * 3_600_000 + Math.floor(random() * 3_600_000);
    const r = random();
    const type = r < 0.85 ? 'play' : r < 0.93 ? 'skip' : r < 0.98 ? 'like' : 'dislike';
    const durationMs = 150_000 + ((a * 7919) % 150_000);
    buffer.push(
      JSON.stringify({
        eventId: `g${e}`,
        userId: `u${u}`,
        artistId: `art-${a}`,
        trackId: `trk-${a}-${track}`,
        ts,
        type,
        ...(type === 'play' ? { msPlayed: Math.floor(durationMs * (0.3 + 0.7 * random())), durationMs } : {}),
        _offset: offset,
      }),
    );
    offset++;
    if (e > 0 && e % 1_000_000 === 0) log(`batch: generated ${e}/${events} events`);
  }
  flush();
  writeFileSync(
    join(dir, '.complete'),
    `${events} events, ${listeners} listeners, ${artists} artists, ${(30 * DAY) / DAY} days\n`,
  );
  return dir;
}

interface RunFigures {
  seconds: number;
  peakRssMb: number;
  archive: { files: number; bytes: number };
  sql: {
    seconds: Record<string, number>;
    userItems: number;
    pairRows: number;
    pairBuckets: number;
    similarRows: number;
    contentRows: number;
    parquetBytes: Record<string, number>;
  };
}

/** `npm run item-model` in a fresh process (its own peak RSS), with `args`; its JSON summary. */
function itemModelProcess<T>(args: string[], env: NodeJS.ProcessEnv = process.env, heapMb = 12288): Promise<T> {
  const out = resolve('.data/bench-batch', `result-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      [
        `--max-old-space-size=${heapMb}`,
        '--import',
        'tsx',
        resolve(import.meta.dirname, '../tools/item-model.ts'),
        ...args,
        '--json',
        out,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env },
    );
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) log(`batch: ${line}`);
    });
    child.on('error', fail);
    child.on('exit', (code) => {
      if (code !== 0) return fail(new Error(`item-model exited with ${code}`));
      const figures = JSON.parse(readFileSync(out, 'utf8')) as T;
      rmSync(out, { force: true });
      ok(figures);
    });
  });
}

/** The SQL over the archive, the parts written as Parquet under `parquet`. */
function runItemModel(dir: string, parquet: string): Promise<RunFigures> {
  // A bound DuckDB spills beyond (its default is 80 % of RAM).
  return itemModelProcess<RunFigures>([
    '--archive',
    dir,
    '--out',
    parquet,
    '--memory-limit',
    process.env.BATCH_BENCH_MEMORY_LIMIT ?? '6GB',
  ]);
}

const loaderHeapMb = () => Number(process.env.BATCH_BENCH_LOADER_HEAP_MB ?? 384);

interface LoadFigures {
  seconds: number;
  peakRssMb: number;
  peakHeapMb: number;
  load: { itemsWritten: number; published: boolean; kinds: Record<string, { items: number; listsWritten: number }> };
  requests: { reads: number; writes: number; readUnits: number; itemsWritten: number };
}

/**
 * The streaming loader alone on the build's Parquet, in a fresh process against the bench's
 * DynamoDB Local (tables of their own): first into empty tables (every list written), then the
 * same build again (every list read and compared, nothing written). Peak RSS is the process's.
 */
async function runLoader(parquet: string): Promise<{ first: LoadFigures; again: LoadFigures }> {
  const infra = await infrastructure();
  const env = {
    ...process.env,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    DYNAMODB_ENDPOINT: infra.dynamodbEndpoint,
  };
  const prefix = `b${Date.now().toString(36)}-load-`;
  const args = ['--load', '--parquet', parquet, '--env-prefix', prefix];
  // V8's heap capped (BATCH_BENCH_LOADER_HEAP_MB, default 384): a loader that held the build
  // would fail here, not just show a larger RSS.
  const heap = loaderHeapMb();
  const first = await itemModelProcess<LoadFigures>(args, env, heap);
  const again = await itemModelProcess<LoadFigures>(args, env, heap);
  return { first, again };
}

export async function batchBench(quick: boolean): Promise<Record<string, unknown>> {
  const sizes = (process.env.BATCH_BENCH_EVENTS ?? (quick ? '100000' : '500000'))
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
  const runs: Record<string, unknown>[] = [];
  for (const events of sizes) {
    const t0 = performance.now();
    const dir = generateArchive(events);
    log(`batch: archive of ${events} events ready in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${dir}`);
    const parquet = join(dir, '..', `parquet-${events}`);
    const f = await runItemModel(dir, parquet);
    const loader = await runLoader(parquet);
    const tbScanned = f.archive.bytes / 1e12;
    runs.push({
      events,
      listeners: Math.round(events / EVENTS_PER_LISTENER),
      archiveObjects: f.archive.files,
      bytesRead: f.archive.bytes,
      seconds: f.seconds,
      peakRssMb: f.peakRssMb,
      partSeconds: f.sql.seconds,
      userItems: f.sql.userItems,
      pairRows: f.sql.pairRows,
      pairBuckets: f.sql.pairBuckets,
      itemsWithSimilar: f.sql.similarRows,
      parquetBytesWritten: Object.values(f.sql.parquetBytes).reduce((a, b) => a + b, 0),
      // Athena bills bytes scanned: JSON lines are read whole by each scan of `events`.
      athenaUsdPerBuildAt5PerTb: +(5 * tbScanned * ATHENA_ARCHIVE_SCANS).toFixed(4),
      loader: {
        heapLimitMb: loaderHeapMb(),
        first: {
          seconds: loader.first.seconds,
          peakRssMb: loader.first.peakRssMb,
          peakHeapMb: loader.first.peakHeapMb,
          itemsWritten: loader.first.load.itemsWritten,
        },
        again: {
          seconds: loader.again.seconds,
          peakRssMb: loader.again.peakRssMb,
          peakHeapMb: loader.again.peakHeapMb,
          itemsWritten: loader.again.load.itemsWritten,
          readUnits: loader.again.requests.readUnits,
        },
      },
    });
    log(
      `batch: ${events} events: SQL ${f.seconds.toFixed(1)} s, peak RSS ${f.peakRssMb} MB, ${(f.archive.bytes / 1e6).toFixed(0)} MB read; loader ${loader.first.seconds.toFixed(0)} s at ${loader.first.peakRssMb} MB peak RSS / ${loader.first.peakHeapMb} MB heap (${loader.first.load.itemsWritten} items written), again ${loader.again.seconds.toFixed(0)} s at ${loader.again.peakRssMb} / ${loader.again.peakHeapMb} MB (${loader.again.load.itemsWritten} written)`,
    );
  }
  return { runs };
}

/**
 * `npm run bench -- batchDrift`: how many lists a build rewrites after 1 % new events
 * (BATCH_DRIFT_ADDED), by the loader's tolerance (ITEM_MODEL_LIST_TOLERANCE). Two builds (rows, DuckDB) — the archive, and
 * the archive plus 1 % plays copied from random archived lines an hour after the newest — then
 * the loader's own diff (`diffLists`) of the second against the first as stored.
 */
export async function batchDriftBench(quick: boolean): Promise<Record<string, unknown>> {
  const events = quick ? 100_000 : 500_000;
  // BATCH_DRIFT_ADDED: the share of new events (default 0.01); an hourly build at a steady load
  // sees 1 / (24 × window days) of its window new, ~0.0007 at 61 days.
  const share = Number(process.env.BATCH_DRIFT_ADDED ?? 0.01);
  if (!(share > 0 && share < 1))
    throw new Error(`BATCH_DRIFT_ADDED=${process.env.BATCH_DRIFT_ADDED} must be in (0, 1)`);
  const base = generateArchive(events);
  const plus = join(base, '..', `${events}-plus-${share}`);
  if (!existsSync(join(plus, '.complete'))) {
    rmSync(plus, { recursive: true, force: true });
    cpSync(base, plus, { recursive: true });
    const lines = await readArchiveLines(base);
    const random = rng(events + 1);
    const newest = lines.reduce((m, l) => Math.max(m, (JSON.parse(l) as { ts: number }).ts), 0);
    const added: string[] = [];
    for (let i = 0; i < Math.round(events * share); i++) {
      const e = JSON.parse(lines[Math.floor(random() * lines.length)]!) as Record<string, unknown>;
      added.push(JSON.stringify({ ...e, eventId: `plus-${i}`, ts: newest + 3_600_000 + i, type: 'play', _offset: i }));
    }
    const key = archiveKey(newest + 3_600_000, 'listen-events', 1, 0, added.length - 1);
    mkdirSync(join(plus, key, '..'), { recursive: true });
    writeFileSync(join(plus, key), `${added.join('\n')}\n`);
    writeFileSync(join(plus, '.complete'), `${events} + ${added.length} events\n`);
  }
  const build = async (dir: string) => {
    const t0 = performance.now();
    const db = await openArchiveDb(dir);
    try {
      const { result } = await runItemModelSql(db, itemModelSqlParams(resolveSettings()));
      log(`batchDrift: built ${dir} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      return result;
    } finally {
      db.close();
    }
  };
  const before = await build(base);
  const after = await build(plus);
  const stored = new Map<string, StoredLists>();
  for (const kind of KINDS)
    for (const id of new Set([...before.kinds[kind].similar.keys(), ...before.kinds[kind].content.keys()])) {
      const s = before.kinds[kind].similar.get(id);
      const c = before.kinds[kind].content.get(id);
      stored.set(itemKey(kind, id), {
        itemId: itemKey(kind, id),
        ...(s && s.ids.length > 0 ? { similar: packList(s) } : {}),
        ...(c && c.ids.length > 0 ? { content: packList(c) } : {}),
      });
    }
  const byTolerance: Record<string, unknown> = {};
  for (const tolerance of [0, 0.005, 0.01, 0.02, 0.05]) {
    const kinds = Object.fromEntries(
      KINDS.map((kind) => {
        const d = diffLists(kind, after.kinds[kind], stored, 'bench', tolerance);
        return [kind, { items: d.items, written: d.puts.length, deleted: d.deletes.length }];
      }),
    );
    byTolerance[String(tolerance)] = kinds;
    log(`batchDrift: tolerance ${tolerance}: ${JSON.stringify(kinds)}`);
  }
  return { events, added: Math.round(events * share), byTolerance };
}

/** Every archived line, in the archive's time order (the replay loader's walk). */
async function readArchiveLines(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const file of archiveFiles(dir))
    for (const l of readFileSync(file, 'utf8').split('\n')) if (l) out.push(l);
  return out;
}
