/**
 * Where the raw event archive is written: S3 (`ARCHIVE_BUCKET`, in the cloud) or a local directory
 * (`ARCHIVE_DIR`, default `.data/archive` under the cwd). Writes are whole-object puts to a
 * deterministic key, so writing the same key again replaces it (idempotent under redelivery).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface ArchiveStore {
  /** Describes the destination (for logs). */
  readonly location: string;
  writeObject(key: string, body: string): Promise<void>;
}

export function dirArchive(dir: string): ArchiveStore {
  const root = resolve(dir);
  return {
    location: root,
    async writeObject(key, body) {
      const file = join(root, key);
      await mkdir(dirname(file), { recursive: true });
      // Write-then-rename: a reader never sees a half-written file, and a rewrite replaces atomically.
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, body);
      await rename(tmp, file);
    },
  };
}

export function s3Archive(bucket: string, client: S3Client = new S3Client({ maxAttempts: 8 })): ArchiveStore {
  return {
    location: `s3://${bucket}`,
    async writeObject(key, body) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }),
      );
    },
  };
}

let cached: { id: string; store: ArchiveStore } | undefined;

/** The store named by the env (cached per container; re-created if the env changes, as in tests). */
export function archiveFromEnv(env: Record<string, string | undefined> = process.env): ArchiveStore {
  const bucket = env.ARCHIVE_BUCKET || undefined;
  const id = bucket ? `s3:${bucket}` : `dir:${resolve(env.ARCHIVE_DIR || '.data/archive')}`;
  if (cached?.id !== id)
    cached = { id, store: bucket ? s3Archive(bucket) : dirArchive(env.ARCHIVE_DIR || '.data/archive') };
  return cached.store;
}
