/**
 * What the local runtime knows for the dashboard, from its own Kafka consumer group on
 * listen-events, now-playing and dead-letters (its own group per environment prefix, so the
 * dashboard never moves the triggers' offsets): a ring of recent events (names and genres from the
 * catalog table), the genre window, counters, facets, dead letters and recent errors. The
 * dashboard-stats function reads it through local/dashboard/sources.ts, as it reads CloudWatch and
 * the archive in the cloud.
 *
 * Delivery is at-least-once (a rebalance under load re-delivers a batch, a producer retry can
 * write a record twice): each event is shown and counted once, by its idempotency key, and each
 * bad record once, by its coordinates (every consumer of a topic dead-letters it on its own).
 */
import type { Consumer, Kafka } from 'kafkajs';
import {
  catalogIdsOf,
  GENRE_WINDOW_MS,
  toStreamEvent,
  type WindowEvent,
} from '../../functions/dashboard-stats/dashboard.ts';
import type { DeadLetterShown, Health, StreamEvent } from '../../functions/dashboard-stats/types.ts';
import { CatalogItemCache } from '../../shared/adapters/catalog-cache.ts';
import type { Stores } from '../../shared/adapters/dynamodb/stores.ts';
import type { CatalogItem } from '../../shared/domain/catalog/catalog.ts';
import { DeadLetterV1, ListenEventV1 } from '../../shared/domain/events/events.ts';
import type { ResolvedTopology } from '../../shared/topology.ts';
import { type LogLine, silentLog } from '../runtime/log.ts';

/** The rate is over this many seconds of append time. */
export const RATE_WINDOW_S = 60;
const MAX_RECENT = 20;
/** Bounds of the dedup sets and the genre window (cleared or trimmed beyond them). */
const MAX_KEYS = 100_000;

/** One fetched batch of a topic, as kafkajs hands it over. */
export interface FeedBatch {
  partition: number;
  messages: { offset: string; timestamp: string; value: Buffer | null }[];
}

export class DashboardFeed {
  /** Recent events, oldest first, at most `capacity`. */
  readonly ring: StreamEvent[] = [];
  /** Listen events of the genre window, oldest first (bounded by time and size). */
  readonly window: WindowEvent[] = [];
  readonly platforms = new Set<string>();
  readonly countries = new Set<string>();
  readonly deadLetters: Health['deadLetters'] = { count: 0, byReason: {}, latest: [] };
  readonly errors: Health['errors'] = [];
  total = 0;
  /** Events per second of append time, for the last minute. */
  private readonly perSecond = new Map<number, number>();
  /**
   * The cursor: starts at the start time (ms × 1000), so it only grows, across restarts too (a
   * page left open keeps its cursor), and reads like the cloud's (archive write time × 1000).
   */
  private seq: number;
  private readonly seenEvents = new Set<string>();
  private readonly seenDeadLetters = new Set<string>();
  // The catalog rarely changes: a burst of plays costs one BatchGet.
  private readonly catalog = new CatalogItemCache(50_000, 10 * 60_000, 5_000);

  constructor(
    private readonly stores: Stores,
    private readonly capacity = 2000,
    startedAt = Date.now(),
  ) {
    this.seq = startedAt * 1000;
  }

  noteError(source: string, message: string): void {
    pushRecent(this.errors, { at: Date.now(), source, message });
  }

  /** Listen events (or now-playing notices: shown as `playing_now`, never counted as plays). */
  async addListens(batch: FeedBatch, playingNow: boolean, now = Date.now()): Promise<void> {
    const parsed: { e: ListenEventV1; at: number }[] = [];
    for (const m of batch.messages) {
      try {
        parsed.push({ e: ListenEventV1.parse(JSON.parse(m.value?.toString('utf8') ?? '')), at: Number(m.timestamp) });
      } catch (err) {
        this.noteError('listen-events', `partition ${batch.partition} offset ${m.offset}: ${(err as Error).message}`);
      }
    }
    let items = new Map<string, CatalogItem>();
    try {
      items = await this.catalog.get(this.stores, catalogIdsOf(parsed.map((p) => p.e)), now);
    } catch (err) {
      this.noteError('catalog', `genre lookup failed: ${(err as Error).message}`);
    }
    for (const { e, at } of parsed) {
      if (!remember(this.seenEvents, `${playingNow ? 'np' : 'le'}:${e.eventId}`)) continue;
      const ev = toStreamEvent(e, { seq: ++this.seq, receivedAt: at }, items, playingNow ? 'playing_now' : e.type);
      this.ring.push(ev);
      if (!playingNow) this.count(ev);
    }
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    this.prune(now);
  }

  addDeadLetter(value: Buffer | null): void {
    const parsed = DeadLetterV1.safeParse(JSON.parse(value?.toString('utf8') ?? 'null'));
    if (!parsed.success) {
      this.deadLetters.count++;
      this.noteError('dead-letters', 'a dead letter that does not match DeadLetterV1');
      return;
    }
    const d = parsed.data;
    if (!remember(this.seenDeadLetters, `${d.sourceTopic}/${d.partition}/${d.offset}`)) return;
    this.deadLetters.count++;
    this.deadLetters.byReason[d.reason] = (this.deadLetters.byReason[d.reason] ?? 0) + 1;
    const { value: _v, key: _k, ...shown } = d;
    pushRecent<DeadLetterShown>(this.deadLetters.latest, shown);
    if (d.error) this.noteError(d.function, `${d.reason}: ${d.error}`);
  }

  /** Events per second over the last RATE_WINDOW_S seconds, oldest first. */
  rateSeries(now: number): number[] {
    this.prune(now);
    const nowS = Math.floor(now / 1000);
    return Array.from({ length: RATE_WINDOW_S }, (_, i) => this.perSecond.get(nowS - RATE_WINDOW_S + 1 + i) ?? 0);
  }

  /** Drops what fell out of the rate and genre windows. */
  prune(now: number): void {
    const nowS = Math.floor(now / 1000);
    for (const s of this.perSecond.keys()) if (s <= nowS - RATE_WINDOW_S) this.perSecond.delete(s);
    let drop = 0;
    while (drop < this.window.length && this.window[drop]!.receivedAt < now - GENRE_WINDOW_MS) drop++;
    if (this.window.length - drop > MAX_KEYS) drop = this.window.length - MAX_KEYS;
    if (drop > 0) this.window.splice(0, drop);
  }

  private count(ev: StreamEvent): void {
    this.total++;
    if (ev.platform) this.platforms.add(ev.platform);
    if (ev.country) this.countries.add(ev.country);
    const second = Math.floor(ev.receivedAt / 1000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
    const { receivedAt, genre, trackId, title, artistName } = ev;
    this.window.push({ receivedAt, genre, trackId, title, artistName });
  }
}

/** Adds a key to a bounded set; false when it was there already. */
function remember(set: Set<string>, key: string): boolean {
  if (set.has(key)) return false;
  if (set.size >= MAX_KEYS) set.clear();
  set.add(key);
  return true;
}

function pushRecent<T>(list: T[], item: T): void {
  list.unshift(item);
  list.length = Math.min(list.length, MAX_RECENT);
}

/** The feed's consumer: listen-events, now-playing and dead-letters from the beginning. */
export async function consumeIntoFeed(
  feed: DashboardFeed,
  kafka: Kafka,
  topology: ResolvedTopology,
  log: LogLine = silentLog,
): Promise<Consumer> {
  const { topicNames } = topology;
  const consumer = kafka.consumer({ groupId: `${topology.prefix}dashboard-stats` });
  await consumer.connect();
  await consumer.subscribe({
    topics: [topicNames.listenEvents, topicNames.deadLetters, topicNames.nowPlaying],
    fromBeginning: true,
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      try {
        if (batch.topic === topicNames.deadLetters) for (const m of batch.messages) feed.addDeadLetter(m.value);
        else await feed.addListens(batch, batch.topic === topicNames.nowPlaying);
      } catch (err) {
        // Best effort: a bad record must not stall the dashboard's consumer.
        feed.noteError('stats', (err as Error).message);
      }
    },
  });
  log(`[stats] consuming ${topicNames.listenEvents} and ${topicNames.deadLetters} for the dashboard`);
  return consumer;
}
