/**
 * A new item model build, announced: one profile update per recently active listener (the
 * SQL's `active_users`, whose profiles are read here), marked with the build, to
 * `profile-updates`. The neighbour updater refreshes each and rebuilds their candidate set with
 * the new lists (its own condition makes a repeated announcement harmless).
 */
import { getProfiles } from '../adapters/dynamodb/profiles.ts';
import type { Stores } from '../adapters/dynamodb/stores.ts';
import { produce, TRIGGER_PRODUCE_DEADLINE_MS, topicsFromEnv } from '../adapters/kafka.ts';
import { profileUpdateOf } from '../domain/profile/profile.ts';
import { candidatesModelKey } from '../domain/ranking/candidate-codec.ts';
import type { BuildSource } from './build-source.ts';

export async function announceBuild(stores: Stores, userIds: readonly string[], modelId: string): Promise<number> {
  const topic = topicsFromEnv().profileUpdates;
  const modelKey = candidatesModelKey(modelId, modelId);
  let sent = 0;
  for (let i = 0; i < userIds.length; i += 1000) {
    const profiles = await getProfiles(stores, userIds.slice(i, i + 1000), false);
    const updates = [...profiles.values()].filter((p) => p.version > 0);
    if (updates.length === 0) continue;
    await produce(
      topic,
      updates.map((p) => ({ key: p.userId, value: JSON.stringify({ ...profileUpdateOf(p), itemModel: modelKey }) })),
      TRIGGER_PRODUCE_DEADLINE_MS,
    );
    sent += updates.length;
  }
  return sent;
}

/** The build announced to the `active_users` part's listeners, read a batch at a time. */
export async function announceFrom(stores: Stores, source: BuildSource, modelId: string): Promise<number> {
  let sent = 0;
  for await (const batch of source.batches('active_users'))
    sent += await announceBuild(
      stores,
      batch.map((r) => String(r.user_id)),
      modelId,
    );
  return sent;
}
