/**
 * The batch layer's bucket in the cloud (`BATCH_BUCKET`): the catalog's tags exported for Athena
 * (`tags/`), each build's UNLOAD output (`builds/current/<part>/`, Parquet), Athena's own query
 * results (`athena/`). The loader streams the Parquet with parquet.ts's reader.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ParquetFile } from './parquet.ts';

export const BATCH_PREFIXES = Object.freeze({
  tags: 'tags/',
  unload: 'builds/current/',
  athena: 'athena/',
});

let client: S3Client | undefined;
/** The container's S3 client (the batch bucket, and the archive's listing for a build's window). */
export const s3Client = (): S3Client => {
  client ??= new S3Client({ maxAttempts: 8 });
  return client;
};
const s3 = s3Client;

export async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = res.NextContinuationToken;
  } while (token);
  return keys;
}

/** Deletes every object under the prefix (UNLOAD needs an empty destination). */
export async function clearPrefix(bucket: string, prefix: string): Promise<number> {
  const keys = await listKeys(bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000)
    await s3().send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  return keys.length;
}

export async function putText(bucket: string, key: string, body: string): Promise<void> {
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
}

/**
 * The Parquet objects under the prefix, read by byte range (GetObject with Range) while open:
 * the loader streams them a row group at a time instead of holding whole objects.
 */
export async function s3ParquetFiles(bucket: string, prefix: string): Promise<ParquetFile[]> {
  const files: ParquetFile[] = [];
  let token: string | undefined;
  do {
    const res = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) {
      const key = o.Key;
      if (!key || key.endsWith('/')) continue;
      const byteLength = o.Size ?? 0;
      files.push({ name: `s3://${bucket}/${key}`, byteLength, open: async () => rangeReader(bucket, key, byteLength) });
    }
    token = res.NextContinuationToken;
  } while (token);
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function rangeReader(bucket: string, key: string, byteLength: number) {
  return {
    byteLength,
    async slice(start: number, end = byteLength): Promise<ArrayBuffer> {
      if (end <= start) return new ArrayBuffer(0);
      const res = await s3().send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
      );
      const body = await res.Body!.transformToByteArray();
      return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    },
    close: async () => {},
  };
}
