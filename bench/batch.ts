/**
 * `npm run bench -- batch`: the batch layer's scale on a generated archive. Writes an archive of
 * N events (listeners with community tastes over Zipf-popular artists and their tracks, spread
 * over 30 days of hour partitions, JSON lines as the event archiver writes them) under
 * .data/bench-batch/<N>/ (kept for reruns), then runs `npm run item-model` on it in a fresh
 * process: build time, peak memory (RSS, DuckDB included) and bytes read (the archive's size: JSON
 * lines are read whole). Sizes: BATCH_BENCH_EVENTS (comma-separated, default 500000; --quick
 * 100000), 50 events per listener. 5,000,000 does not finish on a 24 GB machine yet (BENCHMARKS.md:
 * the co-listening rows are handed to JavaScript whole), so it is opt-in.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { archiveKey } from '../shared/domain/archive.ts';
import { rng, zipf } from '../shared/random.ts';
import { log } from './env.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const EVENTS_PER_LISTENER = 50;

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
  kinds: Record<string, { users: number; items: number; withSimilar: number }>;
  sql: { seconds: Record<string, number>; userItems: number; similarRows: number };
}

function runItemModel(dir: string): Promise<RunFigures> {
  const out = join(dir, '..', `result-${Date.now()}.json`);
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      [
        '--max-old-space-size=12288',
        '--import',
        'tsx',
        resolve(import.meta.dirname, '../tools/item-model.ts'),
        '--archive',
        dir,
        '--json',
        out,
        // A bound DuckDB spills beyond (its default, 80 % of RAM, left no room for the rows handed
        // to JavaScript: the 5M-event build was OOM-killed at 20 GB without it).
        '--memory-limit',
        process.env.BATCH_BENCH_MEMORY_LIMIT ?? '6GB',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) log(`batch: ${line}`);
    });
    child.on('error', fail);
    child.on('exit', (code) => {
      if (code !== 0) return fail(new Error(`item-model exited with ${code}`));
      const figures = JSON.parse(readFileSync(out, 'utf8')) as RunFigures;
      rmSync(out, { force: true });
      ok(figures);
    });
  });
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
    const f = await runItemModel(dir);
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
      similarRows: f.sql.similarRows,
      kinds: f.kinds,
      // Athena bills each query's bytes scanned (JSON: the whole archive per part; 10 MB minimum).
      athenaUsdPerBuildAt5PerTb: +(5 * tbScanned * 5).toFixed(4),
    });
    log(
      `batch: ${events} events: ${f.seconds.toFixed(1)} s, peak RSS ${f.peakRssMb} MB, ${(f.archive.bytes / 1e6).toFixed(0)} MB read`,
    );
  }
  return { runs };
}
