/**
 * Ingest-side name resolution shared by POST /events and the ListenBrainz routes: listens that
 * arrive by name get the catalog's ids through the name index (shared/domain/catalog/name-resolution.ts;
 * the per-container cache shared/adapters/name-resolution-cache.ts), unknown names keep
 * name-based ids and are recorded as name-only catalog items (their display names).
 * Resolving at ingest means what goes on listen-events (and into the archive) already carries
 * the ids the profile folds.
 */
import { storesFromEnv } from '../adapters/dynamodb/stores.ts';
import { NameResolver } from '../adapters/name-resolution-cache.ts';
import type { ListenAliases, NamedListen, Resolution, ResolutionCounts } from '../domain/catalog/name-resolution.ts';
import { countResolution } from '../domain/catalog/name-resolution.ts';

const resolver = new NameResolver();

/**
 * Resolved listens and the counts. If the catalog cannot be read, the listens go on as they came
 * (name-based ids, which are stable): resolution improves a listen, it never blocks one.
 */
export async function resolveListens<E extends NamedListen>(
  listens: readonly { event: E; aliases?: ListenAliases }[],
  onError: (err: Error) => void = () => {},
): Promise<{ events: E[]; counts: ResolutionCounts }> {
  if (listens.length === 0) return { events: [], counts: { named: 0, resolved: 0, withGenres: 0 } };
  const stores = storesFromEnv();
  let resolutions: Resolution<E>[];
  try {
    resolutions = await resolver.resolve(stores, listens);
    await resolver.recordUnknown(stores, resolutions);
  } catch (err) {
    onError(err as Error);
    return { events: listens.map((l) => l.event), counts: { named: 0, resolved: 0, withGenres: 0 } };
  }
  const counts: ResolutionCounts = { named: 0, resolved: 0, withGenres: 0 };
  for (const r of resolutions) countResolution(counts, r);
  return { events: resolutions.map((r) => r.event), counts };
}
