/**
 * Attribution counters for the dashboard's tests, written as the attributor writes them: served
 * lists and plays turned into the domain's contributions and added with the adapter's
 * exactly-once update (shared/adapters/dynamodb/experiments.ts).
 */
import { applyContributions, type ExperimentsStore } from '../../shared/adapters/dynamodb/experiments.ts';
import {
  byCounter,
  type Contribution,
  type Play,
  playContributions,
  type StoredList,
  servedContribution,
} from '../../shared/domain/experiments/attribution.ts';
import { newRecommendationId } from '../../shared/domain/experiments/recommendation-id.ts';
import { itemFingerprint, type ServedRoute } from '../../shared/domain/experiments/served-list.ts';

export interface ServedSpec {
  variant: string;
  route: ServedRoute;
  strategy: string;
  servedAt: number;
  /** Lists served. */
  lists: number;
  /** Of those, lists with a hit: each gets one play of its first item, naming the list. */
  hitLists: number;
}

/** Plays of a variant's listeners that no list is credited with (they count in the share of listening). */
export interface OtherPlays {
  variant: string;
  ts: number;
  count: number;
}

const MAX_POSITIONS = 20;
/** Each call writes as a new source partition: its offsets start at 0 and must not meet a watermark. */
let partition = 0;

export async function writeCounters(
  store: ExperimentsStore,
  served: readonly ServedSpec[],
  others: readonly OtherPlays[] = [],
): Promise<void> {
  const p = partition++;
  const lists: Contribution[] = [];
  const plays: Contribution[] = [];
  let eventNo = 0;
  const play = (variant: string, ts: number, hit?: { list: StoredList }) => {
    const event: Play = {
      eventId: `e${p}-${eventNo}`,
      userId: `u-${variant}`,
      ts,
      type: 'play',
      trackId: 't1',
      ...(hit ? { recommendationId: hit.list.id } : {}),
    };
    const attribution = hit
      ? { attribution: { list: hit.list, position: 1, explicit: true }, firstHit: true }
      : undefined;
    plays.push(...playContributions(event, variant, eventNo++, attribution, MAX_POSITIONS));
  };
  for (const s of served) {
    for (let i = 0; i < s.lists; i++) {
      const list: StoredList = {
        id: newRecommendationId(s.servedAt),
        servedAt: s.servedAt,
        route: s.route,
        kind: s.route === 'similar-artists' ? 'artist' : 'track',
        variant: s.variant,
        strategy: s.strategy,
        source: `${p}:${lists.length}`,
        items: [itemFingerprint('t1'), itemFingerprint('t2')],
      };
      lists.push(servedContribution(list, lists.length));
      if (i < s.hitLists) play(s.variant, s.servedAt + 60_000, { list });
    }
  }
  for (const o of others) for (let i = 0; i < o.count; i++) play(o.variant, o.ts);
  if (lists.length > 0) await applyContributions(store, `wm_s${p}`, lists.length - 1, byCounter(lists));
  if (plays.length > 0) await applyContributions(store, `wm_l${p}`, plays.length - 1, byCounter(plays));
}
