/**
 * A build's listener counts, streamed: an order-independent digest of (item, count) pairs to tell
 * whether they changed since the current build (without holding either build's counts), and the
 * count shards written one at a time as the `listeners` part is read (each ≤ 300 KB, as
 * `packCounts` makes them; the readers merge every shard, so no global order is needed).
 */
import {
  getItemModelCountShard,
  type ItemModelManifest,
  putItemModelCountShard,
} from '../adapters/dynamodb/item-model.ts';
import type { Stores } from '../adapters/dynamodb/stores.ts';
import type { ItemKind } from '../domain/catalog/catalog.ts';
import { packCounts, unpackCounts } from '../domain/item-model/item-model.ts';
import { fnv1a32 } from './key-spill.ts';

/** Sums two 32-bit hashes of every pair (mod 2³²) and counts them: equal multisets, equal digests. */
export class CountsDigest {
  private n = 0;
  private a = 0;
  private b = 0;

  add(itemId: string, count: number): void {
    const text = `${itemId}\u0000${count}`;
    this.n++;
    this.a = (this.a + fnv1a32(text)) >>> 0;
    this.b = (this.b + fnv1a32(text, 0x01234567)) >>> 0;
  }

  toString(): string {
    return `${this.n}:${this.a.toString(16)}:${this.b.toString(16)}`;
  }
}

/** The digest of a stored build's counts, read one shard at a time. */
export async function storedCountsDigest(s: Stores, kind: ItemKind, m: ItemModelManifest): Promise<string> {
  if (m.countsDigest) return m.countsDigest;
  const digest = new CountsDigest();
  for (let n = 0; n < m.countShards; n++)
    for (const [id, count] of unpackCounts([await getItemModelCountShard(s, kind, m, n)])) digest.add(id, count);
  return digest.toString();
}

/** Writes a kind's count shards as counts arrive, each as soon as it is full. */
export class CountShardWriter {
  shards = 0;
  private batch = new Map<string, number>();
  private bytes = 0;

  constructor(
    private readonly s: Stores,
    private readonly kind: ItemKind,
    private readonly modelId: string,
    private readonly maxBytes = 300_000,
  ) {}

  async add(itemId: string, count: number): Promise<void> {
    // packCounts' own worst-case size of an entry: the shard it packs stays one item.
    const size = itemId.length * 3 + 5;
    if (this.bytes + size > this.maxBytes) await this.flush();
    this.batch.set(itemId, count);
    this.bytes += size;
  }

  async flush(): Promise<void> {
    if (this.batch.size === 0) return;
    for (const shard of packCounts(this.batch, this.maxBytes))
      await putItemModelCountShard(this.s, this.kind, this.modelId, this.shards++, shard);
    this.batch = new Map();
    this.bytes = 0;
  }
}
