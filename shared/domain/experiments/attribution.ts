/**
 * Attribution, pure: which served list a play counts for, and what each record adds to the
 * counters. A play counts for a list served to the same listener at most `windowMs` before it
 * that holds its item: the list its `recommendationId` names (explicit), else the newest such list
 * (implicit). Skips and dislikes never count; likes count like plays.
 */
import type { ListenEventType } from '../events/events.ts';
import { fingerprintsOf, itemFingerprint, type ServedListV1, type ServedRoute } from './served-list.ts';

export interface StoredList {
  id: string;
  servedAt: number;
  route: ServedRoute;
  kind: 'track' | 'artist';
  variant: string;
  strategy: string;
  /** `<partition>:<offset>` of the served-lists record that stored it: a redelivery vs a duplicate. */
  source: string;
  /** Item fingerprints by position (index + 1). */
  items: number[];
  /** The list's first hit (hitMark of its listen record), once it has one. */
  firstHit?: string | undefined;
}

/**
 * What marks a list's first hit: the listen record (`<partition>:<offset>`), not its eventId. A
 * redelivered record is still the first hit (its counts are then dropped by offset); a client
 * duplicate of it (another record, same eventId) is a second hit, not a second list with a hit.
 */
export const hitMark = (partition: number, offset: number): string => `${partition}:${offset}`;

export interface Play {
  eventId: string;
  userId: string;
  ts: number;
  type: ListenEventType;
  trackId?: string | undefined;
  artistId?: string | undefined;
  recommendationId?: string | undefined;
}

export interface Attribution {
  list: StoredList;
  /** 1-based. */
  position: number;
  explicit: boolean;
}

export const countsAsPlay = (type: ListenEventType): boolean => type === 'play' || type === 'like';

export function storedListOf(list: ServedListV1, source: string): StoredList {
  return {
    id: list.id,
    servedAt: list.ts,
    route: list.route,
    kind: list.kind,
    variant: list.variant,
    strategy: list.strategy,
    source,
    items: fingerprintsOf(list),
  };
}

function positionIn(list: StoredList, play: Play): number {
  const id = list.kind === 'track' ? play.trackId : play.artistId;
  if (id === undefined) return 0;
  return list.items.indexOf(itemFingerprint(id)) + 1;
}

/** The list a play counts for, or undefined. `lists`: the listener's stored lists (any order). */
export function attributePlay(play: Play, lists: readonly StoredList[], windowMs: number): Attribution | undefined {
  if (!countsAsPlay(play.type)) return undefined;
  const open = lists.filter((l) => l.servedAt <= play.ts && play.ts - l.servedAt <= windowMs);
  if (play.recommendationId !== undefined) {
    const named = open.find((l) => l.id === play.recommendationId);
    const position = named ? positionIn(named, play) : 0;
    if (named && position > 0) return { list: named, position, explicit: true };
  }
  let best: Attribution | undefined;
  for (const l of open) {
    const position = positionIn(l, play);
    if (position === 0) continue;
    if (!best || l.servedAt > best.list.servedAt || (l.servedAt === best.list.servedAt && l.id > best.list.id))
      best = { list: l, position, explicit: false };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Counters

export const HOUR_MS = 3_600_000;
/** Route and strategy of the all-plays counters. */
export const ALL = '*';

export interface CounterKey {
  hour: number;
  variant: string;
  route: string;
  strategy: string;
}

export const counterKeyString = (k: CounterKey): string => `${k.hour}#${k.variant}#${k.route}#${k.strategy}`;

export function parseCounterKey(s: string): CounterKey | undefined {
  const [hour, variant, route, strategy] = s.split('#');
  if (hour === undefined || variant === undefined || route === undefined || strategy === undefined) return undefined;
  return { hour: Number(hour), variant, route, strategy };
}

/** One record's additions to one counter item. */
export interface Contribution {
  key: CounterKey;
  offset: number;
  fields: Record<string, number>;
}

const listKey = (l: StoredList): CounterKey => ({
  hour: Math.floor(l.servedAt / HOUR_MS),
  variant: l.variant,
  route: l.route,
  strategy: l.strategy,
});

export const positionField = (position: number, maxPositions: number): string =>
  position <= maxPositions ? `p${position}` : 'pMore';

/** A newly stored list: one served. */
export const servedContribution = (l: StoredList, offset: number): Contribution => ({
  key: listKey(l),
  offset,
  fields: { served: 1 },
});

/**
 * A play: counted in its listener's all-plays series (by the play's hour), and when attributed, in
 * its list's series (by the list's hour: a list's hit rate is over the lists served that hour).
 */
export function playContributions(
  play: Play,
  listenerVariant: string,
  offset: number,
  a: { attribution: Attribution; firstHit: boolean } | undefined,
  maxPositions: number,
): Contribution[] {
  if (!countsAsPlay(play.type)) return [];
  const all: Contribution = {
    key: { hour: Math.floor(play.ts / HOUR_MS), variant: listenerVariant, route: ALL, strategy: ALL },
    offset,
    fields: { plays: 1, ...(a ? { recPlays: 1 } : {}) },
  };
  if (!a) return [all];
  const fields: Record<string, number> = { hits: 1, [positionField(a.attribution.position, maxPositions)]: 1 };
  if (a.attribution.explicit) fields.explicit = 1;
  if (a.firstHit) fields.hitLists = 1;
  return [all, { key: listKey(a.attribution.list), offset, fields }];
}

/** Contributions grouped by counter item, in offset order. */
export function byCounter(contributions: readonly Contribution[]): Map<string, Contribution[]> {
  const out = new Map<string, Contribution[]>();
  for (const c of contributions) {
    const k = counterKeyString(c.key);
    const list = out.get(k);
    if (list) list.push(c);
    else out.set(k, [c]);
  }
  return out;
}

/** The fields of the contributions after `watermark` (offsets not yet applied), summed. */
export function sumAfter(contributions: readonly Contribution[], watermark: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of contributions) {
    if (c.offset <= watermark) continue;
    for (const [f, n] of Object.entries(c.fields)) out[f] = (out[f] ?? 0) + n;
  }
  return out;
}
