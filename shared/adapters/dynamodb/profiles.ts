/**
 * The profiles table: one item per user, read and written by the profile updater (conditioned on
 * the version read) and read by the read API (whole, projected to what ranking uses, or only
 * whether it exists).
 */
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Profile } from '../../domain/profile/profile.ts';
import { decodeProfileState, encodeProfileState } from '../../domain/profile/profile-codec.ts';
import { batchGet, conditionalStatement, executeConditionalBatch, sanitizeScores, statementTexts } from './requests.ts';
import type { Stores } from './stores.ts';

/**
 * Stored profile items: `userId`, `version` (the write condition) and `state`, the rest of the
 * profile as one binary value (`profile-codec.ts`). Items written before the compact format (the
 * profile's fields as top-level attributes) are read as they are and rewritten compactly on their
 * next change (the UPDATE removes the old attributes), so no migration step is needed.
 */
const LEGACY_PROFILE_ATTRIBUTES = [
  'anchorTs',
  'genres',
  'moods',
  'topArtists',
  'topTracks',
  'counts',
  'firstEventTs',
  'lastEventTs',
  'offsets',
  'recentEventIds',
] as const satisfies readonly (keyof Profile)[];

/** A profile from its stored item, compact or legacy. */
export function profileFromItem(item: Record<string, unknown>): Profile {
  const userId = item.userId as string;
  const version = Number(item.version ?? 0);
  if (item.state instanceof Uint8Array) return decodeProfileState(userId, version, item.state);
  const legacy = item as Partial<Profile>;
  return {
    userId,
    version,
    anchorTs: legacy.anchorTs ?? 0,
    genres: legacy.genres ?? {},
    moods: legacy.moods ?? {},
    topArtists: legacy.topArtists ?? {},
    topTracks: legacy.topTracks ?? {},
    counts: legacy.counts ?? { plays: 0, skips: 0, likes: 0, dislikes: 0, events: 0 },
    firstEventTs: legacy.firstEventTs ?? null,
    lastEventTs: legacy.lastEventTs ?? null,
    offsets: legacy.offsets ?? {},
    // Legacy items kept the fingerprints as base-36 strings.
    recentEventIds: ((legacy.recentEventIds ?? []) as (number | string)[]).map((fp) =>
      typeof fp === 'string' ? Number.parseInt(fp, 36) : fp,
    ),
    // The wide format predates the session: it starts with the next applied event.
    recent: [],
  };
}

function profilesFromItems(items: Map<string, Record<string, unknown>>): Map<string, Profile> {
  const out = new Map<string, Profile>();
  for (const [id, item] of items) out.set(id, profileFromItem(item));
  return out;
}

/**
 * Profiles by id. `consistent` (default) for the read-modify-write guarded by the version
 * condition; eventually consistent (half the read units) for the read API.
 */
export async function getProfiles(
  s: Stores,
  userIds: readonly string[],
  consistent = true,
): Promise<Map<string, Profile>> {
  return profilesFromItems(await batchGet(s, s.tableNames.profiles, 'userId', userIds, consistent));
}

/**
 * What ranking reads of a profile: its own and its neighbours' (recommendations). `recent` (the
 * session) is in the same binary state, so it costs no extra request or read unit.
 */
export type RankingProfile = Pick<Profile, 'userId' | 'genres' | 'topArtists' | 'topTracks' | 'recent'>;

export async function getProfile(s: Stores, userId: string): Promise<Profile | undefined> {
  const res = await s.client.send(new GetCommand({ TableName: s.tableNames.profiles, Key: { userId } }));
  s.counter.reads++;
  return res.Item ? profileFromItem(res.Item) : undefined;
}

/** The stored item of a profile: scores that DynamoDB could not hold are dropped, as before. */
function profileItem(profile: Profile): Record<string, unknown> {
  const state = encodeProfileState({
    ...profile,
    genres: sanitizeScores(profile.genres),
    moods: sanitizeScores(profile.moods),
    topArtists: sanitizeScores(profile.topArtists),
    topTracks: sanitizeScores(profile.topTracks),
  });
  return { userId: profile.userId, version: profile.version, state };
}

export interface ProfileWrite {
  profile: Profile;
  /**
   * The version the profile was read at (0: it did not exist). Written only if it is still the
   * stored version (optimistic concurrency); otherwise the caller re-reads and re-applies.
   */
  readVersion: number;
}

/**
 * Profile writes conditioned on the version read, 25 per request: optimistic concurrency
 * holds while the per-request cost (signing, HTTP, a socket write) is paid once per 25 users
 * instead of once per user — that cost, not the profile fold, dominated the updater's CPU. A new
 * profile is an INSERT (fails if the item exists), an existing one an UPDATE conditioned on the
 * version read. Returns the users whose condition failed (someone else wrote first): the caller
 * re-reads and re-applies them.
 */
export async function putProfilesIfUnchanged(
  s: Stores,
  writes: readonly ProfileWrite[],
  concurrency = 4,
): Promise<Set<string>> {
  const text = statementTexts(s.tableNames.profiles, PROFILE_ATTRIBUTES, '"version" = ?', LEGACY_PROFILE_ATTRIBUTES);
  const statements = writes.map(({ profile, readVersion }) =>
    conditionalStatement(text, profileItem(profile), PROFILE_ATTRIBUTES, readVersion === 0 ? undefined : readVersion),
  );
  return executeConditionalBatch(s, statements, concurrency);
}

const PROFILE_ATTRIBUTES = ['userId', 'version', 'state'] as const;

/** Which of these users still have a profile (keys only): lists drop forgotten users when read. */
export async function usersWithProfiles(s: Stores, userIds: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  const unique = [...new Set(userIds)];
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map((userId) => ({ userId }));
    while (keys && keys.length > 0) {
      const res = await s.client.send(
        new BatchGetCommand({
          RequestItems: {
            [s.tableNames.profiles]: {
              Keys: keys,
              ProjectionExpression: '#u',
              ExpressionAttributeNames: { '#u': 'userId' },
            },
          },
        }),
      );
      s.counter.reads++;
      for (const item of res.Responses?.[s.tableNames.profiles] ?? []) out.add(item.userId as string);
      keys = res.UnprocessedKeys?.[s.tableNames.profiles]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return out;
}
