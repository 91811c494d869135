/**
 * Names → catalog ids. Listens that arrive by name (eventsim, streaming history, ListenBrainz
 * scrobblers) are resolved through a name index kept in the catalog table next to the items:
 *
 *   `n#a#<normalized artist>`              → the artist's catalog id
 *   `n#t#<normalized artist>|<normalized title>` → the track's catalog id (and its artist's)
 *   `x#mbid:<uuid>` / `x#spotify:<id>`     → aliases (MusicBrainz / Spotify ids) of a track or artist
 *
 * A name the index does not know keeps a stable name-based id (`name:<slug>`), and its display
 * name is kept in a name-only catalog item, so profiles and recommendations show it.
 *
 * Pure: no AWS imports. The rest of name resolution: the index's store
 * shared/adapters/dynamodb/name-index.ts, the per-container cache ingest resolves through
 * shared/adapters/name-resolution-cache.ts, ingest's entry point shared/handlers/name-resolution.ts,
 * and the catalog-updater's claims on names functions/catalog-updater/name-claims.ts.
 */
import { createHash } from 'node:crypto';
import { type CatalogItem, type CatalogKind, trackItemId } from './catalog.ts';

export const NAME_ID_PREFIX = 'name:';
const MAX_ID = 128;

/**
 * Undoes UTF-8 read as Latin-1 (once or twice), common in scraped and generated data: eventsim's
 * "BjÃÂ¶rk" is "Björk". Only applied when the Latin-1 bytes are valid UTF-8, so real Latin-1
 * text ("Beyoncé") is left alone.
 */
function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

export function repairMojibake(name: string): string {
  let s = name;
  for (let i = 0; i < 2 && /[\u00c2-\u00f4][\u0080-\u00bf]/.test(s) && isLatin1(s); i++) {
    const bytes = Buffer.from(s, 'latin1');
    const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (decoded.includes('\ufffd')) break;
    s = decoded;
  }
  return s;
}

/** Lower-case, accents and punctuation stripped, whitespace collapsed: "Beyoncé " → "beyonce". */
export function normalizeName(name: string): string {
  return repairMojibake(name)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const slug = (name: string) => normalizeName(name).replace(/ /g, '-');

/** Ids longer than the id limit keep a readable head and a hash of the whole (still stable). */
function capped(id: string): string {
  if (id.length <= MAX_ID) return id;
  const hash = createHash('sha256').update(id).digest('base64url').slice(0, 16);
  return `${id.slice(0, MAX_ID - 17)}~${hash}`;
}

/** The stable name-based id of an artist the catalog does not know (same as the loaders'). */
export function artistIdOf(name: string): string {
  return `${NAME_ID_PREFIX}${slug(name)}`.slice(0, MAX_ID);
}

/** The stable name-based id of a track the catalog does not know. */
export function trackIdOf(artistName: string, title: string): string {
  return capped(`${NAME_ID_PREFIX}${slug(artistName)}/${slug(title)}`);
}

/**
 * Placeholder ids: name-based, or a MusicBrainz recording id the catalog does not know yet
 * (`mbid:<uuid>`, the stable id of a ListenBrainz listen that brought one). Resolution replaces
 * them when the index knows better; catalog ids are kept as they are.
 */
export const MBID_ID_PREFIX = 'mbid:';
export const isNameBasedId = (id: string | undefined): boolean =>
  id === undefined || id.startsWith(NAME_ID_PREFIX) || id.startsWith(MBID_ID_PREFIX);

/** An artist name as the index compares it: normalized, without a leading "the". */
const artistKeyName = (artistName: string) => normalizeName(artistName).replace(/^the (?=.)/, '');

/** Index keys (catalog `itemId`s); undefined when a name normalizes to nothing (e.g. "!!!"). */
export function artistNameKey(artistName: string): string | undefined {
  const n = artistKeyName(artistName);
  return n ? `n#a#${n}` : undefined;
}

export function trackNameKey(artistName: string, title: string): string | undefined {
  const a = artistKeyName(artistName);
  const t = normalizeName(title);
  return a && t ? `n#t#${a}|${t}` : undefined;
}

/**
 * The first-named artist of a credit that names several ("Usher featuring will.i.am",
 * "Kid Cudi / MGMT", "Jason Mraz & Colbie Caillat"): tried only when the full credit is not in
 * the index, so "Simon & Garfunkel" still resolves as itself.
 */
export function primaryArtist(artistName: string): string | undefined {
  const first = artistName.split(/\s+(?:feat\.?|featuring|ft\.?|vs\.?|&)\s+|\s*[/,;]\s*/i)[0]?.trim();
  return first && first !== artistName.trim() ? first : undefined;
}

/** Artist keys to try, the full credit first. */
function artistKeys(artistName: string): string[] {
  const primary = primaryArtist(artistName);
  return [artistNameKey(artistName), primary ? artistNameKey(primary) : undefined].filter(
    (k): k is string => k !== undefined,
  );
}

function trackKeys(artistName: string, title: string): string[] {
  const primary = primaryArtist(artistName);
  return [trackNameKey(artistName, title), primary ? trackNameKey(primary, title) : undefined].filter(
    (k): k is string => k !== undefined,
  );
}

export type AliasScheme = 'mbid' | 'spotify';
/** MBIDs are case-insensitive UUIDs; Spotify ids are case-sensitive base62. */
export const aliasKey = (scheme: AliasScheme, id: string): string =>
  `x#${scheme}:${scheme === 'mbid' ? id.trim().toLowerCase() : id.trim()}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isMbid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** A Spotify track id from an id or an open.spotify.com / spotify: URI ("…/track/<id>?si=…"). */
export function spotifyTrackId(value: string): string | undefined {
  const m = /(?:track[/:])?([A-Za-z0-9]{22})(?:[?#].*)?$/.exec(value.trim());
  return m ? m[1] : undefined;
}

/**
 * One index entry. `rank` decides between catalog items claiming the same name: known genres
 * count 2, a catalog id (not name-based) 1; ties go to the newer `updatedAt`. So Last.fm's tagged
 * "Björk" wins over an artist seeded from a Spotify track, an untagged one loses to a seed that
 * has genres, and a later upsert of the same id refreshes its entry.
 */
export interface NameIndexEntry {
  itemId: string;
  kind: 'name';
  artistId?: string;
  trackId?: string;
  /** Display name of the target (artist name, or track title). */
  name: string;
  /** The target has genres in the catalog (the resolution report counts these). */
  hasGenres: boolean;
  rank: number;
  updatedAt: number;
}

export function entryRank(id: string, hasGenres: boolean): number {
  return (hasGenres ? 2 : 0) + (isNameBasedId(id) ? 0 : 1);
}

/** What a catalog upsert contributes to the index. */
export function indexEntriesOf(
  item: Pick<CatalogItem, 'kind' | 'id' | 'name' | 'artistId' | 'artistName' | 'genres' | 'updatedAt'> & {
    mbid?: string;
    spotifyId?: string;
  },
): NameIndexEntry[] {
  const hasGenres = Object.keys(item.genres).length > 0;
  const rank = entryRank(item.id, hasGenres);
  const out: NameIndexEntry[] = [];
  const target =
    item.kind === 'artist'
      ? { artistId: item.id }
      : { trackId: item.id, ...(item.artistId ? { artistId: item.artistId } : {}) };
  const push = (key: string | undefined) => {
    if (key)
      out.push({ itemId: key, kind: 'name', ...target, name: item.name, hasGenres, rank, updatedAt: item.updatedAt });
  };
  if (item.kind === 'artist') push(artistNameKey(item.name));
  else if (item.artistName) push(trackNameKey(item.artistName, item.name));
  if (item.mbid && isMbid(item.mbid)) push(aliasKey('mbid', item.mbid));
  if (item.spotifyId) push(aliasKey('spotify', item.spotifyId));
  return out;
}

/** A listen as far as resolution cares: ids it may already have, names, aliases. */
export interface NamedListen {
  trackId?: string | undefined;
  artistId?: string | undefined;
  trackName?: string | undefined;
  artistName?: string | undefined;
}

export interface ListenAliases {
  recordingMbid?: string | undefined;
  artistMbids?: readonly string[] | undefined;
  spotifyId?: string | undefined;
}

/**
 * A Spotify track id resolves through its alias, or directly to a catalog track of that id (the
 * Spotify tracks data set uses Spotify ids as track ids, so it needs no alias entries).
 */
const spotifyKeys = (spotifyId: string) => [aliasKey('spotify', spotifyId), trackItemId(spotifyId)];

/** Index keys a listen may resolve through, best first per target. */
export function lookupKeys(e: NamedListen, aliases: ListenAliases = {}): string[] {
  const keys: string[] = [];
  if (isNameBasedId(e.trackId)) {
    if (aliases.recordingMbid && isMbid(aliases.recordingMbid)) keys.push(aliasKey('mbid', aliases.recordingMbid));
    if (aliases.spotifyId) keys.push(...spotifyKeys(aliases.spotifyId));
    if (e.artistName && e.trackName) keys.push(...trackKeys(e.artistName, e.trackName));
  }
  if (isNameBasedId(e.artistId)) {
    for (const m of aliases.artistMbids ?? []) if (isMbid(m)) keys.push(aliasKey('mbid', m));
    if (e.artistName) keys.push(...artistKeys(e.artistName));
  }
  return keys;
}

/** A name-only catalog item for a name the index does not know: it keeps the display name. */
export interface NameOnlyItem {
  kind: CatalogKind;
  id: string;
  name: string;
  artistId?: string;
  artistName?: string;
}

export interface Resolution<E> {
  event: E;
  /** Whether the listen came by name (no catalog id for its track or artist). */
  named: boolean;
  artist: 'id' | 'index' | 'name' | 'none';
  track: 'id' | 'index' | 'name' | 'none';
  /** The resolved track or artist has genres in the catalog. */
  genreKnown: boolean;
  /** Names the catalog does not know yet (to record as name-only items). */
  unknown: NameOnlyItem[];
}

/**
 * Resolves a listen's names to catalog ids through the index entries found for `lookupKeys`.
 * Catalog ids already on the listen are kept; a track found by alias or name brings its artist.
 * Unknown names get name-based ids (so an artist-level or track-level play still counts).
 */
export function resolveListen<E extends NamedListen>(
  e: E,
  entries: ReadonlyMap<string, NameIndexEntry>,
  aliases: ListenAliases = {},
): Resolution<E> {
  const out: E = { ...e };
  if (e.artistName !== undefined) out.artistName = repairMojibake(e.artistName);
  if (e.trackName !== undefined) out.trackName = repairMojibake(e.trackName);
  const unknown: NameOnlyItem[] = [];
  let track: Resolution<E>['track'] = e.trackId && !isNameBasedId(e.trackId) ? 'id' : 'none';
  let artist: Resolution<E>['artist'] = e.artistId && !isNameBasedId(e.artistId) ? 'id' : 'none';
  const named = track !== 'id' && artist !== 'id' && e.artistName !== undefined;
  let genreKnown = false;

  let trackEntry: NameIndexEntry | undefined;
  if (track === 'none') {
    const keys: string[] = [];
    if (aliases.recordingMbid && isMbid(aliases.recordingMbid)) keys.push(aliasKey('mbid', aliases.recordingMbid));
    if (aliases.spotifyId) keys.push(...spotifyKeys(aliases.spotifyId));
    if (e.artistName && e.trackName) keys.push(...trackKeys(e.artistName, e.trackName));
    trackEntry = keys.map((k) => entries.get(k)).find((x) => x?.trackId !== undefined);
    if (trackEntry) {
      out.trackId = trackEntry.trackId;
      track = 'index';
      genreKnown ||= trackEntry.hasGenres;
    }
  }
  if (artist === 'none') {
    const keys: string[] = [];
    for (const m of aliases.artistMbids ?? []) if (isMbid(m)) keys.push(aliasKey('mbid', m));
    if (e.artistName) keys.push(...artistKeys(e.artistName));
    const artistEntry = keys.map((k) => entries.get(k)).find((x) => x?.artistId !== undefined && !x.trackId);
    if (artistEntry) {
      out.artistId = artistEntry.artistId;
      artist = 'index';
      genreKnown ||= artistEntry.hasGenres;
    } else if (trackEntry?.artistId) {
      out.artistId = trackEntry.artistId;
      artist = 'index';
    }
  }

  const artistName = out.artistName;
  const trackName = out.trackName;
  if (artist === 'none' && artistName && normalizeName(artistName)) {
    out.artistId = e.artistId ?? artistIdOf(artistName);
    artist = 'name';
    unknown.push({ kind: 'artist', id: out.artistId, name: artistName });
  }
  if (track === 'none' && artistName && trackName && trackNameKey(artistName, trackName)) {
    out.trackId = e.trackId ?? trackIdOf(artistName, trackName);
    track = 'name';
    unknown.push({
      kind: 'track',
      id: out.trackId,
      name: trackName,
      artistName,
      ...(out.artistId ? { artistId: out.artistId } : {}),
    });
  }
  return { event: out, named, artist, track, genreKnown, unknown };
}

/** Per-source resolution counts, summed over listens (reported by ingest and replay). */
export interface ResolutionCounts {
  /** Listens that arrived by name (no catalog id). */
  named: number;
  /** …whose artist or track the index resolved to a catalog item. */
  resolved: number;
  /** …whose resolved item has genres. */
  withGenres: number;
}

export function countResolution(acc: ResolutionCounts, r: Resolution<unknown>): ResolutionCounts {
  if (!r.named) return acc;
  acc.named++;
  if (r.artist === 'index' || r.track === 'index') acc.resolved++;
  if (r.genreKnown) acc.withGenres++;
  return acc;
}
