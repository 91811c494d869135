/**
 * Trigger on `listen-events` → genre profiles, then one compact record per touched user to
 * `profile-updates`.
 *
 * Exactly-once in effect on at-least-once delivery: producers key by userId, so a user's events
 * sit on one partition; the profile stores the highest applied offset per partition (and recent
 * eventId fingerprints), so a redelivered record is skipped. A batch's events for a user are
 * folded in memory and written with ONE conditional write on `version` (optimistic concurrency),
 * 25 users per request: a concurrent writer makes the condition fail and we re-read and re-apply.
 *
 * @triggeredBy listen-events
 * @producesTo profile-updates dead-letters
 */
import type { Context, MSKEvent } from 'aws-lambda';
import { CatalogGenreCache } from '../../shared/adapters/catalog-cache.ts';
import { getProfiles, type ProfileWrite, putProfilesIfUnchanged } from '../../shared/adapters/dynamodb/profiles.ts';
import { type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { produce, TRIGGER_PRODUCE_DEADLINE_MS, topicsFromEnv } from '../../shared/adapters/kafka.ts';
import { ListenEventV1 } from '../../shared/domain/events/events.ts';
import {
  type ApplyContext,
  applyRecords,
  DAY_MS,
  emptyProfile,
  type Profile,
  type ProfileRecord,
  profileUpdateOf,
} from '../../shared/domain/profile/profile.ts';
import { WriteConflictError } from '../../shared/errors.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import type { ValidRecord } from '../../shared/handlers/records.ts';
import { runTrigger } from '../../shared/handlers/trigger.ts';
import type { ResolvedSettings } from '../../shared/topology.ts';

const FUNCTION_NAME = 'profile-updater';
const tools = observability(FUNCTION_NAME);
const catalog = new CatalogGenreCache();
const MAX_CONFLICT_ROUNDS = 8;

type Listen = ListenEventV1;

export function groupByUser(valid: readonly ValidRecord<Listen>[]): Map<string, ProfileRecord<Listen>[]> {
  const byUser = new Map<string, ProfileRecord<Listen>[]>();
  for (const { record, value } of valid) {
    let list = byUser.get(value.userId);
    if (!list) {
      list = [];
      byUser.set(value.userId, list);
    }
    list.push({ event: value, topicPartition: record.topicPartition, offset: record.offset });
  }
  return byUser;
}

export async function applyToProfiles(
  stores: Stores,
  byUser: Map<string, ProfileRecord<Listen>[]>,
  ctx: ApplyContext<Listen>,
): Promise<{ profiles: Map<string, Profile>; applied: number; duplicates: number; conflicts: number }> {
  const profiles = new Map<string, Profile>();
  let pending = [...byUser.keys()];
  let applied = 0;
  let duplicates = 0;
  let conflicts = 0;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= MAX_CONFLICT_ROUNDS) {
      // Let the event source mapping retry the batch; everything applied so far is skipped then.
      throw new WriteConflictError(
        `profile write conflicts persisted for ${pending.length} users after ${round} rounds`,
      );
    }
    if (round > 0) await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** round));
    const stored = await getProfiles(stores, pending);
    const writes: (ProfileWrite & { applied: number; duplicates: number })[] = [];
    for (const userId of pending) {
      const current = stored.get(userId) ?? emptyProfile(userId);
      const readVersion = current.version;
      // In place: the item just read is ours alone, and copying ~200-key maps per user is the hot cost.
      const result = applyRecords(current, byUser.get(userId)!, { ...ctx, inPlace: true });
      if (!result.changed) {
        duplicates += result.skippedDuplicates;
        profiles.set(userId, current);
        continue;
      }
      writes.push({
        profile: result.profile,
        readVersion,
        applied: result.applied,
        duplicates: result.skippedDuplicates,
      });
    }
    const lostUsers = await putProfilesIfUnchanged(stores, writes);
    const lost: string[] = [];
    for (const w of writes) {
      if (lostUsers.has(w.profile.userId)) {
        lost.push(w.profile.userId);
        continue;
      }
      applied += w.applied;
      duplicates += w.duplicates;
      profiles.set(w.profile.userId, w.profile);
    }
    conflicts += lost.length;
    pending = lost;
  }
  return { profiles, applied, duplicates, conflicts };
}

export function applyContext(settings: ResolvedSettings): ApplyContext<Listen> {
  return {
    halfLifeMs: settings.PROFILE_HALF_LIFE_DAYS * DAY_MS,
    topArtistsCapacity: settings.PROFILE_TOP_ARTISTS,
    topTracksCapacity: settings.PROFILE_TOP_TRACKS,
    recentCapacity: settings.PROFILE_RECENT_LISTENS,
    genresOf: catalog.genresOf,
  };
}

export async function updateProfiles(event: MSKEvent) {
  return runTrigger(event, {
    functionName: FUNCTION_NAME,
    schema: ListenEventV1,
    tools,
    work: async (valid, _all, settings) => {
      const stores = storesFromEnv();
      const updatesTopic = topicsFromEnv().profileUpdates;
      await catalog.prime(
        stores,
        valid.map((v) => v.value),
      );
      const byUser = groupByUser(valid);
      const result = await applyToProfiles(stores, byUser, applyContext(settings));
      // Publish for every touched user, changed or not: if a previous attempt wrote the profile but
      // died before publishing, the retry (where nothing changes) still tells the neighbour updater.
      await produce(
        updatesTopic,
        [...result.profiles.values()]
          .filter((p) => p.version > 0)
          .map((p) => ({ key: p.userId, value: JSON.stringify(profileUpdateOf(p)) })),
        TRIGGER_PRODUCE_DEADLINE_MS,
      );
      tools.metrics.addMetric('EventsApplied', MetricUnit.Count, result.applied);
      if (result.duplicates > 0) tools.metrics.addMetric('DuplicatesSkipped', MetricUnit.Count, result.duplicates);
      if (result.conflicts > 0) tools.metrics.addMetric('WriteConflicts', MetricUnit.Count, result.conflicts);
      return {
        users: byUser.size,
        applied: result.applied,
        duplicates: result.duplicates,
        conflicts: result.conflicts,
      };
    },
  });
}

export const handler = wrap((event: MSKEvent, _context: Context) => updateProfiles(event), tools);
