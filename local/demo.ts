import { rng } from '../shared/random.ts';

export { rng };

/**
 * A small built-in demo world for `npm start`: a catalog of tracks across a handful of genres and
 * listeners with distinct tastes, generated deterministically (no dataset needed), so that
 * `GET /users/demo-ana/recommendations` answers with something meaningful at once.
 */
const GENRE_ARTISTS: Record<string, string[]> = {
  shoegaze: ['Slowdive', 'My Bloody Valentine', 'Ride', 'Lush', 'Cocteau Twins'],
  indie: ['Arctic Monkeys', 'The Strokes', 'Yeah Yeah Yeahs', 'Interpol', 'Pixies'],
  'hip-hop': ['Kendrick Lamar', 'Outkast', 'A Tribe Called Quest', 'MF DOOM', 'Little Simz'],
  electronic: ['Aphex Twin', 'Boards of Canada', 'Four Tet', 'Burial', 'Jon Hopkins'],
  jazz: ['Miles Davis', 'John Coltrane', 'Bill Evans', 'Thelonious Monk', 'Kamasi Washington'],
  metal: ['Metallica', 'Mastodon', 'Gojira', 'Opeth', 'Deftones'],
  folk: ['Nick Drake', 'Joni Mitchell', 'Fleet Foxes', 'Sufjan Stevens', 'Bon Iver'],
  pop: ['Robyn', 'Carly Rae Jepsen', 'Dua Lipa', 'Charli XCX', 'Lorde'],
};

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export interface DemoTrack {
  trackId: string;
  title: string;
  artistId: string;
  artistName: string;
  genres: string[];
  durationMs: number;
  popularity: number;
}

export function demoCatalog(): DemoTrack[] {
  const random = rng(7);
  const tracks: DemoTrack[] = [];
  const genres = Object.keys(GENRE_ARTISTS);
  for (const [gi, genre] of genres.entries()) {
    for (const artist of GENRE_ARTISTS[genre]!) {
      for (let n = 1; n <= 3; n++) {
        // A second genre for some tracks makes genre profiles less clear-cut, like real tags.
        const second = random() < 0.3 ? genres[(gi + 1) % genres.length]! : undefined;
        tracks.push({
          trackId: `trk-${slug(artist)}-${n}`,
          title: `${artist} — Track ${n}`,
          artistId: `art-${slug(artist)}`,
          artistName: artist,
          genres: second ? [genre, second] : [genre],
          durationMs: 150_000 + Math.floor(random() * 200_000),
          popularity: Math.floor(30 + random() * 70),
        });
      }
    }
  }
  return tracks;
}

export const DEMO_LISTENERS: Record<string, Record<string, number>> = {
  'demo-ana': { shoegaze: 0.7, indie: 0.3 },
  'demo-ben': { 'hip-hop': 0.8, electronic: 0.2 },
  'demo-cai': { jazz: 0.6, electronic: 0.4 },
  'demo-dee': { metal: 0.9, indie: 0.1 },
  'demo-eli': { folk: 0.7, indie: 0.3 },
  'demo-fay': { pop: 0.7, electronic: 0.3 },
  'demo-gus': { shoegaze: 0.5, electronic: 0.5 },
  'demo-hal': { indie: 0.6, shoegaze: 0.4 },
  'demo-ivy': { 'hip-hop': 0.5, jazz: 0.5 },
  'demo-jon': { folk: 0.5, shoegaze: 0.5 },
  'demo-kim': { pop: 0.5, 'hip-hop': 0.5 },
  'demo-lou': { electronic: 0.8, shoegaze: 0.2 },
};

export interface DemoEvent {
  eventId: string;
  userId: string;
  trackId: string;
  artistId: string;
  ts: number;
  type: 'play' | 'skip' | 'like';
  msPlayed?: number;
  durationMs?: number;
  platform: string;
  country: string;
}

/** Listening history: each listener plays tracks from their genres (by taste weight), over the last week. */
export function demoEvents(now: number, perListener = 40): DemoEvent[] {
  const random = rng(42);
  const catalog = demoCatalog();
  const byGenre = new Map<string, DemoTrack[]>();
  for (const t of catalog) {
    const list = byGenre.get(t.genres[0]!) ?? [];
    list.push(t);
    byGenre.set(t.genres[0]!, list);
  }
  const platforms = ['ios', 'android', 'web', 'desktop'];
  const countries = ['GB', 'US', 'PT', 'DE', 'BR', 'JP'];
  const events: DemoEvent[] = [];
  for (const [userId, taste] of Object.entries(DEMO_LISTENERS)) {
    const genres = Object.entries(taste);
    // Each listener has a personal favourite subset of tracks: collaborative signal between lookalikes.
    for (let i = 0; i < perListener; i++) {
      let r = random();
      let genre = genres[0]![0];
      for (const [g, w] of genres) {
        if (r < w) {
          genre = g;
          break;
        }
        r -= w;
      }
      const pool = byGenre.get(genre)!;
      // Skewed towards the first tracks of the pool: popular tracks exist.
      const track = pool[Math.floor(random() ** 2 * pool.length)]!;
      const kind = random();
      const type = kind < 0.1 ? 'skip' : kind < 0.2 ? 'like' : 'play';
      events.push({
        eventId: `demo-${userId}-${i}`,
        userId,
        trackId: track.trackId,
        artistId: track.artistId,
        ts: now - Math.floor(random() * 7 * 24 * 3600 * 1000),
        type,
        ...(type === 'play'
          ? { msPlayed: Math.floor(track.durationMs * (0.5 + random() * 0.5)), durationMs: track.durationMs }
          : {}),
        platform: platforms[Math.floor(random() * platforms.length)]!,
        country: countries[Math.floor(random() * countries.length)]!,
      });
    }
  }
  return events;
}
