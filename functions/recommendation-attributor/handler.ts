/**
 * Attribution: its own consumer of `served-lists` and of `listen-events` (two triggers, two
 * consumer groups), so it never holds back the profiles.
 * - A served list is stored for the attribution window (a listener's lists of one batch served
 *   within an hour in one item) and counted as served.
 * - A play (or like) is matched to the list it came from (attribution.ts): the list its
 *   recommendationId names, else the newest list that showed its item within the window; the
 *   list's first hit (its record) is marked on it (so a list counts once as "with a hit").
 * Exactly-once in effect: stored lists carry the offset that stored them (a redelivery is counted,
 * a duplicate produce is not), first hits name their record, and each counter item keeps the offset
 * each source partition has applied (shared/adapters/dynamodb/experiments.ts).
 *
 * @triggeredBy served-lists listen-events
 * @producesTo dead-letters
 */
import type { Context, MSKEvent } from 'aws-lambda';
import {
  applyContributions,
  type ExperimentsStore,
  experimentsStoreFromEnv,
  markFirstHit,
  putServedGroup,
  type StoredListRef,
  servedGroups,
  servedListsSince,
} from '../../shared/adapters/dynamodb/experiments.ts';
import { topicsFromEnv } from '../../shared/adapters/kafka.ts';
import { ListenEventV1 } from '../../shared/domain/events/events.ts';
import {
  type Attribution,
  attributePlay,
  byCounter,
  type Contribution,
  countsAsPlay,
  HOUR_MS,
  hitMark,
  playContributions,
  servedContribution,
  storedListOf,
} from '../../shared/domain/experiments/attribution.ts';
import { ServedListV1 } from '../../shared/domain/experiments/served-list.ts';
import { listenerVariant } from '../../shared/handlers/experiment.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import type { ValidRecord } from '../../shared/handlers/records.ts';
import { forEachLimit, runTrigger } from '../../shared/handlers/trigger.ts';
import type { ResolvedSettings } from '../../shared/topology.ts';

const FUNCTION_NAME = 'recommendation-attributor';
const tools = observability(FUNCTION_NAME);
/** Listeners handled at once within a batch (each: a Query, then its writes). */
const USER_CONCURRENCY = 16;

type Rec<T> = ValidRecord<T>;

function byPartitionAndUser<T extends { userId: string }>(valid: readonly Rec<T>[]) {
  const out = new Map<number, { last: number; users: Map<string, Rec<T>[]> }>();
  for (const r of valid) {
    let p = out.get(r.record.partition);
    if (!p) {
      p = { last: -1, users: new Map() };
      out.set(r.record.partition, p);
    }
    p.last = Math.max(p.last, r.record.offset);
    const list = p.users.get(r.value.userId);
    if (list) list.push(r);
    else p.users.set(r.value.userId, [r]);
  }
  return out;
}

/** The batch's last offset per partition, valid or not (a counter's watermark may pass bad records). */
function lastOffsets(event: MSKEvent): Map<number, number> {
  const out = new Map<number, number>();
  for (const records of Object.values(event.records ?? {}))
    for (const r of records) out.set(r.partition, Math.max(out.get(r.partition) ?? -1, Number(r.offset)));
  return out;
}

function countMetrics(contributions: readonly Contribution[]): void {
  const totals = new Map<string, { variant: string; route: string; fields: Record<string, number> }>();
  for (const c of contributions) {
    const k = `${c.key.variant}#${c.key.route}`;
    let t = totals.get(k);
    if (!t) {
      t = { variant: c.key.variant, route: c.key.route, fields: {} };
      totals.set(k, t);
    }
    for (const [f, n] of Object.entries(c.fields)) t.fields[f] = (t.fields[f] ?? 0) + n;
  }
  const names: Record<string, string> = {
    served: 'ListsServed',
    hitLists: 'ListsWithHit',
    hits: 'RecommendedPlays',
    plays: 'Plays',
    recPlays: 'PlaysFromRecommendations',
  };
  for (const t of totals.values()) {
    const m = tools.metrics.singleMetric();
    m.addDimensions({ variant: t.variant, route: t.route });
    for (const [f, n] of Object.entries(t.fields)) if (names[f]) m.addMetric(names[f], MetricUnit.Count, n);
  }
}

// ---------------------------------------------------------------------------------------------
// served-lists

export async function storeServedLists(
  s: ExperimentsStore,
  valid: readonly Rec<ServedListV1>[],
  lastByPartition: ReadonlyMap<number, number>,
  settings: ResolvedSettings,
): Promise<Record<string, number>> {
  const windowMs = settings.ATTRIBUTION_WINDOW_HOURS * HOUR_MS;
  let stored = 0;
  let duplicates = 0;
  const all: Contribution[] = [];
  for (const [partition, { users }] of byPartitionAndUser(valid)) {
    const contributions: Contribution[] = [];
    await forEachLimit([...users], USER_CONCURRENCY, async ([userId, records]) => {
      const earliest = Math.min(...records.map((r) => r.value.ts));
      // Strongly consistent: a redelivery can follow the failed attempt's writes by milliseconds.
      const known = new Map((await servedListsSince(s, userId, earliest)).map((l) => [l.id, l.source]));
      const fresh = [];
      for (const r of records) {
        const source = `${partition}:${r.record.offset}`;
        const seen = known.get(r.value.id);
        if (seen !== undefined && seen !== source) {
          duplicates++; // the same list produced twice (a recorder retry): counted once
          continue;
        }
        known.set(r.value.id, source);
        const list = storedListOf(r.value, source);
        if (seen === undefined) fresh.push(list);
        contributions.push(servedContribution(list, r.record.offset));
      }
      for (const group of servedGroups(fresh)) {
        // A window past the later of serving and storing: a list read from a backlog would
        // otherwise be stored expired, and TTL could delete it before its plays are read.
        const keepFrom = Math.max(Date.now(), ...group.map((l) => l.servedAt));
        const expiresAt = Math.ceil((keepFrom + windowMs + HOUR_MS) / 1000);
        if (await putServedGroup(s, userId, group, expiresAt)) stored += group.length;
      }
    });
    await applyContributions(s, `wm_s${partition}`, lastByPartition.get(partition)!, byCounter(contributions));
    all.push(...contributions);
  }
  countMetrics(all);
  return { listsStored: stored, duplicateLists: duplicates };
}

// ---------------------------------------------------------------------------------------------
// listen-events

async function attributeUser(
  s: ExperimentsStore,
  userId: string,
  records: readonly Rec<ListenEventV1>[],
  windowMs: number,
  maxPositions: number,
): Promise<Contribution[]> {
  const plays = records.filter((r) => countsAsPlay(r.value.type));
  if (plays.length === 0) return [];
  const variant = listenerVariant(userId).name;
  const lists: StoredListRef[] = await servedListsSince(
    s,
    userId,
    Math.min(...plays.map((r) => r.value.ts)) - windowMs,
  );
  const out: Contribution[] = [];
  for (const r of plays.sort((a, b) => a.record.offset - b.record.offset)) {
    const play = r.value;
    const attribution = lists.length > 0 ? attributePlay(play, lists, windowMs) : undefined;
    let hit: { attribution: Attribution; firstHit: boolean } | undefined;
    if (attribution) {
      const list = attribution.list as StoredListRef;
      const mark = hitMark(r.record.partition, r.record.offset);
      let firstHit = list.firstHit === mark;
      if (list.firstHit === undefined) {
        firstHit = await markFirstHit(s, userId, list, mark);
        list.firstHit = firstHit ? mark : '?'; // another record got there first: not ours
      }
      hit = { attribution, firstHit };
    }
    out.push(...playContributions(play, variant, r.record.offset, hit, maxPositions));
  }
  return out;
}

export async function attributePlays(
  s: ExperimentsStore,
  valid: readonly Rec<ListenEventV1>[],
  lastByPartition: ReadonlyMap<number, number>,
  settings: ResolvedSettings,
): Promise<Record<string, number>> {
  const windowMs = settings.ATTRIBUTION_WINDOW_HOURS * HOUR_MS;
  const all: Contribution[] = [];
  for (const [partition, { users }] of byPartitionAndUser(valid)) {
    const contributions: Contribution[] = [];
    await forEachLimit([...users], USER_CONCURRENCY, async ([userId, records]) => {
      contributions.push(...(await attributeUser(s, userId, records, windowMs, settings.ATTRIBUTION_POSITIONS)));
    });
    await applyContributions(s, `wm_l${partition}`, lastByPartition.get(partition)!, byCounter(contributions));
    all.push(...contributions);
  }
  countMetrics(all);
  const sum = (f: string) => all.reduce((a, c) => a + (c.fields[f] ?? 0), 0);
  return { plays: sum('plays'), attributed: sum('hits'), newHitLists: sum('hitLists') };
}

export async function attribute(event: MSKEvent) {
  const s = experimentsStoreFromEnv();
  const topics = topicsFromEnv();
  const last = lastOffsets(event);
  const first = Object.values(event.records ?? {})[0]?.[0];
  if (first?.topic === topics.servedLists)
    return runTrigger(event, {
      functionName: FUNCTION_NAME,
      schema: ServedListV1,
      tools,
      work: (valid, _all, settings) => storeServedLists(s, valid, last, settings),
    });
  return runTrigger(event, {
    functionName: FUNCTION_NAME,
    schema: ListenEventV1,
    tools,
    work: (valid, _all, settings) => attributePlays(s, valid, last, settings),
  });
}

export const handler = wrap((event: MSKEvent, _context: Context) => attribute(event), tools);
