/**
 * Item keys with a few tag letters, spilled to per-bucket files on disk (FNV-1a of the key picks
 * the bucket), so that the loader's clean-up — which stored lists the build no longer has —
 * compares one bucket of keys at a time instead of holding every key of the build and the table.
 * What stays in memory is a small write buffer per bucket; `read` returns one bucket.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FLUSH_BYTES = 16 * 1024;

export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class KeySpill {
  private readonly pending: string[][];
  private readonly pendingBytes: number[];

  constructor(
    private readonly dir: string,
    private readonly name: string,
    readonly buckets: number,
  ) {
    this.pending = Array.from({ length: buckets }, () => []);
    this.pendingBytes = new Array<number>(buckets).fill(0);
  }

  bucketOf(key: string): number {
    return fnv1a32(key) % this.buckets;
  }

  /** Records `tags` (letters) for `key`; a key added twice keeps both tag sets. */
  add(key: string, tags: string): void {
    if (key.includes('\n') || key.includes('\t')) throw new Error(`item key ${JSON.stringify(key)} cannot be spilled`);
    const b = this.bucketOf(key);
    const line = `${tags}\t${key}\n`;
    this.pending[b]!.push(line);
    this.pendingBytes[b]! += line.length;
    if (this.pendingBytes[b]! >= FLUSH_BYTES) this.flushBucket(b);
  }

  flush(): void {
    for (let b = 0; b < this.buckets; b++) this.flushBucket(b);
  }

  /** One bucket's keys → their tags (all that were added for the key). */
  read(bucket: number): Map<string, string> {
    this.flushBucket(bucket);
    const out = new Map<string, string>();
    const file = this.file(bucket);
    if (!existsSync(file)) return out;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const tab = line.indexOf('\t');
      const key = line.slice(tab + 1);
      out.set(key, (out.get(key) ?? '') + line.slice(0, tab));
    }
    return out;
  }

  private file(bucket: number): string {
    return join(this.dir, `${this.name}-${bucket}.keys`);
  }

  private flushBucket(b: number): void {
    if (this.pending[b]!.length === 0) return;
    appendFileSync(this.file(b), this.pending[b]!.join(''));
    this.pending[b] = [];
    this.pendingBytes[b] = 0;
  }
}
