/**
 * The event archive's hour partitions, newest first, with the bytes of their objects: a local
 * archive directory or the archive bucket (`year=/month=/day=/hour=` prefixes). What a build's
 * window is chosen from (shared/batch/window.ts); generators, so the choice stops listing at the
 * window's oldest hour instead of walking all of history.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ArchiveHour } from '../batch/window.ts';

const LEVELS = ['year', 'month', 'day', 'hour'] as const;

/** `year=2026` → `2026` when the name is a partition of that level, else undefined. */
function levelValue(name: string, level: (typeof LEVELS)[number]): string | undefined {
  const m = /^(\w+)=(\d+)\/?$/.exec(name);
  return m && m[1] === level && m[2]!.length === (level === 'year' ? 4 : 2) ? m[2] : undefined;
}

/** The hour partitions of an archive directory, newest first. */
export async function* dirArchiveHours(dir: string): AsyncGenerator<ArchiveHour> {
  async function* walk(path: string, depth: number, key: string): AsyncGenerator<ArchiveHour> {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    if (depth === LEVELS.length) {
      let bytes = 0;
      for (const e of entries)
        if (e.isFile() && e.name.endsWith('.jsonl')) bytes += (await stat(join(path, e.name))).size;
      if (bytes > 0) yield { hour: key, bytes };
      return;
    }
    const level = LEVELS[depth]!;
    const children = entries
      .filter((e) => e.isDirectory() && levelValue(e.name, level) !== undefined)
      .map((e) => e.name)
      .sort()
      .reverse();
    for (const name of children) yield* walk(join(path, name), depth + 1, key + levelValue(name, level));
  }
  yield* walk(resolve(dir), 0, '');
}

/** The hour partitions of the archive bucket, newest first (a delimiter listing per level). */
export async function* s3ArchiveHours(client: S3Client, bucket: string): AsyncGenerator<ArchiveHour> {
  const list = async (prefix: string, delimiter: boolean) => {
    const prefixes: string[] = [];
    let bytes = 0;
    let token: string | undefined;
    do {
      const res = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ContinuationToken: token,
          ...(delimiter ? { Delimiter: '/' } : {}),
        }),
      );
      for (const p of res.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
      for (const o of res.Contents ?? []) if (o.Key?.endsWith('.jsonl')) bytes += o.Size ?? 0;
      token = res.NextContinuationToken;
    } while (token);
    return { prefixes, bytes };
  };
  async function* walk(prefix: string, depth: number, key: string): AsyncGenerator<ArchiveHour> {
    if (depth === LEVELS.length) {
      const { bytes } = await list(prefix, false);
      if (bytes > 0) yield { hour: key, bytes };
      return;
    }
    const level = LEVELS[depth]!;
    const { prefixes } = await list(prefix, true);
    const children = prefixes
      .map((p) => ({ p, value: levelValue(p.slice(prefix.length), level) }))
      .filter((c): c is { p: string; value: string } => c.value !== undefined)
      .sort((a, b) => (a.value < b.value ? 1 : a.value > b.value ? -1 : 0));
    for (const c of children) yield* walk(c.p, depth + 1, key + c.value);
  }
  yield* walk('', 0, '');
}
