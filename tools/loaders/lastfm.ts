/**
 * Last.fm HetRec 2011 (hetrec2011-lastfm-2k): tab-separated, header line, CRLF; tags.dat is
 * Latin-1. Everything is streamed line by line.
 *
 * Listen events: the data has only total play counts per (user, artist), no times. Each pair
 * becomes n = min(MAX_EVENTS_PER_PAIR, ⌈log2(1 + plays)⌉) play events — the profile then weighs
 * the artist ∝ log(plays) (the same compression the offline evaluation uses) instead of replaying
 * thousands of events for one heavy pair. Their times are spread deterministically (hash of
 * user/artist/i) over that user's tagging window (first to last tag date; users without valid
 * tag dates get the collection window 2010-01-01..2011-05-01). Event ids are deterministic, so a
 * replay of the same data is idempotent.
 */

import { join } from 'node:path';
import { MAX_ITEM_TAGS } from '../../shared/domain/catalog/catalog.ts';
import type { ArtistUpsertV1, ListenEventV1 } from '../../shared/domain/events/events.ts';
import { type GenreWeights, genreWeightsFromTags } from '../../shared/domain/genres.ts';
import { hash32 } from '../../shared/domain/item-model/item-model.ts';
import { getOrInit } from '../eval/protocol.ts';
import { intField, LoadStats, readLines } from './lines.ts';

export const MAX_EVENTS_PER_PAIR = 16;
const DEFAULT_WINDOW: [number, number] = [Date.UTC(2010, 0, 1), Date.UTC(2011, 4, 1)];
/** Tag dates outside this range are the dataset's known bad rows (years 1956, 1957, 1979). */
const MIN_VALID = Date.UTC(2005, 0, 1);

export interface UserArtist {
  userId: string;
  artistId: string;
  plays: number;
}

export interface LastfmLoadOptions {
  skipBad?: boolean;
  onProgress?: (msg: string) => void;
}

export async function loadArtists(dir: string, opts: LastfmLoadOptions = {}): Promise<Map<string, string>> {
  const file = join(dir, 'artists.dat');
  const stats = new LoadStats(opts.skipBad === true);
  const out = new Map<string, string>();
  for await (const { line, lineNo } of readLines(file, { header: true })) {
    stats.lines++;
    const [id, name] = line.split('\t');
    if (intField(id) === undefined || !name) {
      stats.reject(file, lineNo, 'expected "id<TAB>name<TAB>url<TAB>pictureURL" with an integer id');
      continue;
    }
    out.set(id!, name);
  }
  opts.onProgress?.(stats.summary('artists.dat'));
  return out;
}

export async function loadTags(dir: string, opts: LastfmLoadOptions = {}): Promise<Map<string, string>> {
  const file = join(dir, 'tags.dat');
  const stats = new LoadStats(opts.skipBad === true);
  const out = new Map<string, string>();
  for await (const { line, lineNo } of readLines(file, { header: true, encoding: 'latin1' })) {
    stats.lines++;
    const [id, value] = line.split('\t');
    if (intField(id) === undefined || value === undefined) {
      stats.reject(file, lineNo, 'expected "tagID<TAB>tagValue" with an integer id');
      continue;
    }
    out.set(id!, value);
  }
  opts.onProgress?.(stats.summary('tags.dat'));
  return out;
}

/** One row of user_taggedartists.dat with a known tag. */
export interface TagAssignment {
  userId: string;
  artistId: string;
  tag: string;
}

export interface Tagging {
  /** artistId → genre weights (via genreWeightsFromTags over tag counts), from every assignment. */
  artistGenres: Map<string, GenreWeights>;
  /** The assignments behind `artistGenres` (the evaluation rebuilds genres without held-out pairs). */
  assignments: TagAssignment[];
  /** userId → [first, last] valid tagging time (epoch ms). */
  userWindows: Map<string, [number, number]>;
}

export async function loadTagging(
  dir: string,
  tags: ReadonlyMap<string, string>,
  opts: LastfmLoadOptions = {},
): Promise<Tagging> {
  const file = join(dir, 'user_taggedartists.dat');
  const stats = new LoadStats(opts.skipBad === true);
  const assignments: TagAssignment[] = [];
  const userWindows = new Map<string, [number, number]>();
  for await (const { line, lineNo } of readLines(file, { header: true })) {
    stats.lines++;
    const [u, a, t, d, m, y] = line.split('\t');
    const nums = [u, a, t, d, m, y].map(intField);
    if (nums.some((n) => n === undefined)) {
      stats.reject(file, lineNo, 'expected 6 integer columns: userID artistID tagID day month year');
      continue;
    }
    const tag = tags.get(t!);
    if (tag !== undefined) assignments.push({ userId: u!, artistId: a!, tag });
    const ts = Date.UTC(nums[5]!, nums[4]! - 1, nums[3]!);
    if (ts >= MIN_VALID && ts < Date.UTC(2012, 0, 1)) {
      const w = userWindows.get(u!);
      if (w === undefined) userWindows.set(u!, [ts, ts]);
      else if (ts < w[0]) w[0] = ts;
      else if (ts > w[1]) w[1] = ts;
    }
  }
  opts.onProgress?.(stats.summary('user_taggedartists.dat'));
  return { artistGenres: artistGenresOf(assignments), assignments, userWindows };
}

/**
 * artistId → genre weights from tag counts over `assignments`, leaving out those `skip` rejects
 * (the evaluation skips a user's tags on the artists held out for that user).
 */
export function artistGenresOf(
  assignments: readonly TagAssignment[],
  skip?: (a: TagAssignment) => boolean,
): Map<string, GenreWeights> {
  const artistGenres = new Map<string, GenreWeights>();
  for (const [artist, c] of artistTagCountsOf(assignments, skip)) {
    const g = genreWeightsFromTags(Object.entries(c).map(([tag, count]) => ({ tag, count })));
    if (Object.keys(g).length > 0) artistGenres.set(artist, g);
  }
  return artistGenres;
}

/** artistId → tag → number of users who gave the artist that tag (rows `skip` rejects left out). */
export function artistTagCountsOf(
  assignments: readonly TagAssignment[],
  skip?: (a: TagAssignment) => boolean,
): Map<string, Record<string, number>> {
  const counts = new Map<string, Record<string, number>>();
  for (const a of assignments) {
    if (skip?.(a)) continue;
    const c = getOrInit(counts, a.artistId, () => ({}) as Record<string, number>);
    c[a.tag] = (c[a.tag] ?? 0) + 1;
  }
  return counts;
}

export async function loadUserArtists(dir: string, opts: LastfmLoadOptions = {}): Promise<UserArtist[]> {
  const file = join(dir, 'user_artists.dat');
  const stats = new LoadStats(opts.skipBad === true);
  const out: UserArtist[] = [];
  for await (const { line, lineNo } of readLines(file, { header: true })) {
    stats.lines++;
    const [u, a, w] = line.split('\t');
    const plays = intField(w);
    if (intField(u) === undefined || intField(a) === undefined || plays === undefined) {
      stats.reject(file, lineNo, 'expected 3 integer columns: userID artistID weight');
      continue;
    }
    out.push({ userId: u!, artistId: a!, plays });
  }
  opts.onProgress?.(stats.summary('user_artists.dat'));
  return out;
}

export function eventsPerPair(plays: number): number {
  return Math.max(1, Math.min(MAX_EVENTS_PER_PAIR, Math.ceil(Math.log2(1 + plays))));
}

/** The listen events of one (user, artist) pair; see the module comment. */
export function pairEvents(p: UserArtist, window: readonly [number, number] = DEFAULT_WINDOW): ListenEventV1[] {
  const [from, to] = window;
  const span = Math.max(to - from, 30 * 24 * 3600 * 1000);
  const n = eventsPerPair(p.plays);
  const out: ListenEventV1[] = [];
  for (let i = 0; i < n; i++) {
    const key = `${p.userId}/${p.artistId}/${i}`;
    out.push({
      eventId: `lastfm-${p.userId}-${p.artistId}-${i}`,
      userId: `lastfm-${p.userId}`,
      artistId: `lastfm-a${p.artistId}`,
      // FNV-1a of the pair key: deterministic event times.
      ts: from + Math.floor((hash32(key) / 2 ** 32) * span),
      type: 'play',
    });
  }
  return out;
}

/**
 * Catalog upserts for every artist (artist-level data): genres from the mapping, and the artist's
 * strongest raw tags with their counts (the item model's content neighbours).
 */
export function artistUpserts(
  names: ReadonlyMap<string, string>,
  genres: ReadonlyMap<string, GenreWeights>,
  updatedAt: number,
  tagCounts?: ReadonlyMap<string, Readonly<Record<string, number>>>,
): ArtistUpsertV1[] {
  const out: ArtistUpsertV1[] = [];
  for (const [id, name] of names) {
    const g = genres.get(id);
    const t = tagCounts?.get(id);
    const tags = t
      ? Object.entries(t)
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, MAX_ITEM_TAGS)
          .map(([tag, count]) => ({ tag: tag.slice(0, 128), count }))
      : [];
    out.push({
      artistId: `lastfm-a${id}`,
      name: name.slice(0, 512),
      ...(g ? { genres: g } : {}),
      ...(tags.length > 0 ? { tags } : {}),
      updatedAt,
    });
  }
  return out;
}

export interface LastfmDataset {
  artists: Map<string, string>;
  tagging: Tagging;
  userArtists: UserArtist[];
}

export async function loadLastfm(dir: string, opts: LastfmLoadOptions = {}): Promise<LastfmDataset> {
  const artists = await loadArtists(dir, opts);
  const tags = await loadTags(dir, opts);
  const tagging = await loadTagging(dir, tags, opts);
  const userArtists = await loadUserArtists(dir, opts);
  return { artists, tagging, userArtists };
}
