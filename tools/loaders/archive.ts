/**
 * Reads the raw event archive (functions/event-archiver): walks the `year=/month=/day=/hour=`
 * directories in time order and streams each `.jsonl` object's lines back as ListenEventV1.
 * `--path` may be the archive root or any partition directory below it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { type LoadStats, readLines } from './lines.ts';

/** `<topic>-<partition>-<first>-<last>.jsonl` → sort key (topic, partition, first offset). */
function fileOrder(name: string): [string, number, number] {
  const m = /^(.*)-(\d+)-(\d+)-(\d+)\.jsonl$/.exec(name);
  return m ? [m[1]!, Number(m[2]), Number(m[3])] : [name, 0, 0];
}

function compareFiles(a: string, b: string): number {
  const [ta, pa, oa] = fileOrder(a);
  const [tb, pb, ob] = fileOrder(b);
  return ta < tb ? -1 : ta > tb ? 1 : pa - pb || oa - ob;
}

/** Archive files in time order: partition dirs are zero-padded, so name order is time order. */
export async function* archiveFiles(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.jsonl')).map((e) => e.name);
  for (const f of files.sort(compareFiles)) yield join(dir, f);
  for (const d of dirs.sort()) yield* archiveFiles(join(dir, d));
}

/**
 * Forgotten listeners (DELETE /users/{userId} writes `deletions/<userId>.json` at the archive
 * root): userId → deletion time. Looked up from `dir` and its parents (dir may be a partition).
 */
export async function archiveDeletions(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let d = resolve(dir);
  for (let level = 0; level < 5; level++) {
    const tombstones = join(d, 'deletions');
    const files = await readdir(tombstones).catch(() => [] as string[]);
    for (const f of files.filter((n) => n.endsWith('.json'))) {
      try {
        const t = JSON.parse(await readFile(join(tombstones, f), 'utf8')) as { userId?: unknown; deletedAt?: unknown };
        if (typeof t.userId === 'string' && typeof t.deletedAt === 'number') out.set(t.userId, t.deletedAt);
      } catch {
        // a tombstone being written: the next replay reads it
      }
    }
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  return out;
}

export async function* archiveEvents(dir: string, opts: { stats: LoadStats }): AsyncGenerator<ListenEventV1> {
  const deletions = await archiveDeletions(dir);
  for await (const file of archiveFiles(dir)) {
    for await (const { line, lineNo } of readLines(file)) {
      opts.stats.lines++;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (err) {
        opts.stats.reject(file, lineNo, `not JSON: ${(err as Error).message}`);
        continue;
      }
      // `_offset` is archive metadata, not part of the event (the schema strips unknown keys).
      const parsed = ListenEventV1.safeParse(raw);
      if (!parsed.success) {
        opts.stats.reject(file, lineNo, 'not a ListenEventV1');
        continue;
      }
      // A forgotten listener's events up to the deletion stay out of rebuilt profiles.
      const deletedAt = deletions.get(parsed.data.userId);
      if (deletedAt !== undefined && parsed.data.ts <= deletedAt) continue;
      yield parsed.data;
    }
  }
}
