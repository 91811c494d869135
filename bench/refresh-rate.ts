/**
 * refreshRate: neighbour refreshes per listen event in steady state, from the domain code alone
 * (applyRecords → profileUpdateOf → shouldRefresh with the topology's policy) over a long synthetic
 * stream in profile-updater-sized batches. The cost model's upper bound takes one refresh per
 * profile write; an established listener's taste drifts little per event, so most profile writes
 * do not refresh. No I/O: this measures the policy, not DynamoDB.
 */

import { shouldRefresh } from '../shared/domain/neighbors/refresh-policy.ts';
import { decodeVector, encodeVector } from '../shared/domain/neighbors/taste-codec.ts';
import { applyRecords, emptyProfile, type Profile, profileUpdateOf } from '../shared/domain/profile/profile.ts';
import { genreVector } from '../shared/domain/similarity.ts';
import { resolveSettings, triggers } from '../shared/topology.ts';
import { log, syntheticWorld, type World } from './env.ts';

export function refreshRate(quick: boolean) {
  const settings = resolveSettings();
  const batchSize = triggers.find((t) => t.function === 'profile-updater')!.batchSize;
  const users = 50_000;
  const events = quick ? 250_000 : 2_000_000;
  const eventsPerSecond = 1000;
  const world = syntheticWorld({ users, artists: 3000, tracksPerArtist: 5, seed: 3 });
  const genresByTrack = new Map(world.tracks.map((t) => [t.trackId, t.genres]));
  const genresOf = (e: { trackId?: string }) => (e.trackId ? genresByTrack.get(e.trackId) : undefined);
  const policy = {
    minIntervalMs: settings.NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS * 1000,
    minDrift: settings.NEIGHBOR_REFRESH_MIN_DRIFT,
  };
  const profiles = new Map<string, Profile>();
  const snapshots = new Map<string, { vector: Float64Array; at: number }>();
  // The last quarter of the stream is the steady state; the rest builds histories.
  const measureFrom = Math.floor(events * 0.75);
  let measuredEvents = 0;
  let measuredWrites = 0;
  let measuredRefreshes = 0;
  const start = Date.UTC(2026, 0, 1);
  log(`refreshRate: ${events.toLocaleString('en')} events over ${users.toLocaleString('en')} users…`);
  for (let first = 0; first < events; first += batchSize) {
    const byUser = new Map<string, { event: ReturnType<World['event']> }[]>();
    let ts = start;
    for (let i = first; i < Math.min(events, first + batchSize); i++) {
      ts = start + (i * 1000) / eventsPerSecond;
      const event = world.event(ts);
      const list = byUser.get(event.userId as string) ?? [];
      list.push({ event });
      byUser.set(event.userId as string, list);
    }
    const measuring = first >= measureFrom;
    if (measuring) measuredEvents += Math.min(batchSize, events - first);
    for (const [userId, records] of byUser) {
      const current = profiles.get(userId) ?? emptyProfile(userId);
      const { profile } = applyRecords(current, records as never, { genresOf, inPlace: true });
      profiles.set(userId, profile);
      const vector = genreVector(profileUpdateOf(profile).genres);
      const snap = snapshots.get(userId);
      const due = shouldRefresh(snap?.vector, vector, snap?.at, ts, policy);
      if (due) snapshots.set(userId, { vector: decodeVector(encodeVector(vector)), at: ts });
      if (measuring) {
        measuredWrites++;
        if (due) measuredRefreshes++;
      }
    }
    if (first % 200_000 === 0 && first > 0) log(`refreshRate: ${first.toLocaleString('en')} events…`);
  }
  return {
    events,
    users,
    eventsPerSecond,
    batchSize,
    policy,
    measuredEvents,
    profileWritesPerEvent: measuredWrites / measuredEvents,
    refreshesPerEvent: measuredRefreshes / measuredEvents,
    refreshesPerProfileWrite: measuredRefreshes / Math.max(1, measuredWrites),
  };
}
