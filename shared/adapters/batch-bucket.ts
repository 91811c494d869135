/**
 * The batch layer's bucket in the cloud (`BATCH_BUCKET`): the catalog's tags exported for Athena
 * (`tags/`), each build's UNLOAD output (`builds/current/<part>/`, Parquet), Athena's own query
 * results (`athena/`). The loader reads the Parquet with parquet.ts's reader.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { parquetRows } from './parquet.ts';

export const BATCH_PREFIXES = Object.freeze({
  tags: 'tags/',
  unload: 'builds/current/',
  athena: 'athena/',
});

let client: S3Client | undefined;
const s3 = () => {
  client ??= new S3Client({ maxAttempts: 8 });
  return client;
};

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

/** Rows of every Parquet object under the prefix. */
export async function readParquetPrefix(
  bucket: string,
  prefix: string,
): Promise<{ rows: Record<string, unknown>[]; objects: number; bytes: number }> {
  const rows: Record<string, unknown>[] = [];
  let bytes = 0;
  const keys = await listKeys(bucket, prefix);
  for (const key of keys) {
    const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = await res.Body!.transformToByteArray();
    bytes += body.byteLength;
    if (body.byteLength === 0) continue;
    for (const r of await parquetRows(body)) rows.push(r);
  }
  return { rows, objects: keys.length, bytes };
}
