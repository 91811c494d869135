/**
 * The canonical genre vocabulary and the mapping of free-form tags (Last.fm tags, Spotify
 * `track_genre` labels, user input) onto it. Pure data and functions. Over 400 lines because
 * most of it is the vocabulary and its alias table (data); the mapping functions are ~100 lines.
 */

/** Canonical genres. The order is part of the wire format: it defines the taste-vector dimensions. Append only. */
export const GENRES = [
  'rock',
  'pop',
  'hip-hop',
  'electronic',
  'dance',
  'house',
  'techno',
  'trance',
  'drum-and-bass',
  'dubstep',
  'ambient',
  'trip-hop',
  'lo-fi',
  'indie',
  'alternative',
  'punk',
  'emo',
  'grunge',
  'metal',
  'hard-rock',
  'progressive-rock',
  'psychedelic',
  'folk',
  'country',
  'singer-songwriter',
  'jazz',
  'blues',
  'soul',
  'rnb',
  'funk',
  'disco',
  'reggae',
  'latin',
  'classical',
  'soundtrack',
  'shoegaze',
  'post-rock',
  'new-wave',
  'synthpop',
  'industrial',
  'gothic',
  'experimental',
  'world',
  'k-pop',
  'j-pop',
  'gospel',
  'children',
] as const;

export type Genre = (typeof GENRES)[number];

/** Genre → vector dimension. */
export const GENRE_INDEX: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(GENRES.map((g, i) => [g, i])),
);

export const GENRE_COUNT = GENRES.length;

export function isGenre(value: string): value is Genre {
  return Object.hasOwn(GENRE_INDEX, value);
}

const LABEL_OVERRIDES: Record<string, string> = {
  'hip-hop': 'hip-hop',
  'drum-and-bass': 'drum & bass',
  rnb: 'R&B',
  'k-pop': 'K-pop',
  'j-pop': 'J-pop',
  'lo-fi': 'lo-fi',
  'post-rock': 'post-rock',
  'trip-hop': 'trip-hop',
  'hard-rock': 'hard rock',
  'progressive-rock': 'progressive rock',
  'new-wave': 'new wave',
  'singer-songwriter': 'singer-songwriter',
  children: "children's music",
};

/** Human-readable name for reasons and UIs. */
export function genreLabel(genre: string): string {
  return LABEL_OVERRIDES[genre] ?? genre.replace(/-/g, ' ');
}

/**
 * Moods are kept apart from genres: they describe how music feels, not what it is. Append only:
 * the profile codec codes them by position.
 */
export const MOODS = [
  'chill',
  'happy',
  'sad',
  'mellow',
  'energetic',
  'romantic',
  'melancholic',
  'party',
  'relaxing',
  'dark',
  'dreamy',
  'uplifting',
  'aggressive',
  'atmospheric',
  'epic',
  'nostalgic',
  'sexy',
  'sleep',
  'study',
  'workout',
] as const;

export type Mood = (typeof MOODS)[number];

/** Sparse genre → weight map. Produced by `genreWeightsFromTags` it sums to 1. */
export type GenreWeights = Record<string, number>;

/**
 * Compact comparison key for a tag: lower-case, accents stripped, `&` read as "n" (r&b → rnb,
 * rock & roll → rocknroll), every other non-alphanumeric dropped, so "Hip Hop", "hip-hop" and
 * "hiphop" are all "hiphop".
 */
export function normalizeTag(tag: string): string {
  return tag
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, 'n')
    .replace(/[^a-z0-9]+/g, '');
}

// Exact synonyms (keys are written loosely and normalized below). Canonical names map to themselves.
const SYNONYMS: Record<string, Genre> = {
  // hip-hop
  rap: 'hip-hop',
  'hip hop': 'hip-hop',
  'hip-hop/rap': 'hip-hop',
  trap: 'hip-hop',
  grime: 'hip-hop',
  'gangsta rap': 'hip-hop',
  'boom bap': 'hip-hop',
  drill: 'hip-hop',
  // electronic
  electronica: 'electronic',
  electro: 'electronic',
  idm: 'electronic',
  breakbeat: 'electronic',
  breakbeats: 'electronic',
  'big beat': 'electronic',
  chiptune: 'electronic',
  glitch: 'electronic',
  vaporwave: 'electronic',
  breakcore: 'electronic',
  'future bass': 'electronic',
  'electronic music': 'electronic',
  // dance
  edm: 'dance',
  club: 'dance',
  hardstyle: 'dance',
  eurodance: 'dance',
  eurobeat: 'dance',
  'happy hardcore': 'dance',
  'dance pop': 'dance',
  'j-dance': 'j-pop',
  // house / techno / trance
  'uk garage': 'house',
  ukg: 'house',
  minimal: 'techno',
  psytrance: 'trance',
  goa: 'trance',
  'goa trance': 'trance',
  // drum and bass / dubstep
  dnb: 'drum-and-bass',
  'd&b': 'drum-and-bass',
  'drum n bass': 'drum-and-bass',
  'drum & bass': 'drum-and-bass',
  'drum and bass': 'drum-and-bass',
  drumandbass: 'drum-and-bass',
  jungle: 'drum-and-bass',
  'liquid funk': 'drum-and-bass',
  neurofunk: 'drum-and-bass',
  brostep: 'dubstep',
  // ambient / downtempo
  'new age': 'ambient',
  newage: 'ambient',
  drone: 'ambient',
  downtempo: 'trip-hop',
  'lofi hip hop': 'lo-fi',
  lofi: 'lo-fi',
  'lo fi': 'lo-fi',
  'bedroom pop': 'lo-fi',
  // indie / alternative
  'indie pop': 'indie',
  'indie rock': 'indie',
  'indie folk': 'folk',
  britpop: 'indie',
  slowcore: 'indie',
  'alt rock': 'alternative',
  'alt-rock': 'alternative',
  'alternative rock': 'alternative',
  // punk / emo
  hardcore: 'punk',
  'post-hardcore': 'emo',
  'post hardcore': 'emo',
  screamo: 'emo',
  'pop punk': 'punk',
  'punk rock': 'punk',
  'post-punk': 'new-wave',
  'post punk': 'new-wave',
  // metal / rock
  'heavy metal': 'metal',
  metalcore: 'metal',
  deathcore: 'metal',
  grindcore: 'metal',
  djent: 'metal',
  sludge: 'metal',
  doom: 'metal',
  thrash: 'metal',
  'hard rock': 'hard-rock',
  'stoner rock': 'hard-rock',
  stoner: 'hard-rock',
  'glam rock': 'hard-rock',
  'progressive rock': 'progressive-rock',
  'prog rock': 'progressive-rock',
  prog: 'progressive-rock',
  'art rock': 'progressive-rock',
  'symphonic rock': 'progressive-rock',
  'psych-rock': 'psychedelic',
  'psych rock': 'psychedelic',
  'psychedelic rock': 'psychedelic',
  psych: 'psychedelic',
  'space rock': 'psychedelic',
  'noise rock': 'experimental',
  krautrock: 'experimental',
  'math rock': 'post-rock',
  'gothic rock': 'gothic',
  goth: 'gothic',
  deathrock: 'gothic',
  darkwave: 'gothic',
  coldwave: 'gothic',
  'pop rock': 'pop',
  'power-pop': 'pop',
  'power pop': 'pop',
  'classic rock': 'rock',
  'rock n roll': 'rock',
  'rock and roll': 'rock',
  "rock 'n' roll": 'rock',
  rockabilly: 'rock',
  garage: 'rock',
  'garage rock': 'rock',
  // pop
  'electro pop': 'synthpop',
  electropop: 'synthpop',
  'synth pop': 'synthpop',
  'synth-pop': 'synthpop',
  synthwave: 'synthpop',
  'dream pop': 'shoegaze',
  dreampop: 'shoegaze',
  'art pop': 'pop',
  cantopop: 'pop',
  mandopop: 'pop',
  kpop: 'k-pop',
  'korean pop': 'k-pop',
  jpop: 'j-pop',
  'j-rock': 'j-pop',
  jrock: 'j-pop',
  'j-idol': 'j-pop',
  anime: 'j-pop',
  'visual kei': 'j-pop',
  'city pop': 'j-pop',
  // folk / country / songwriter
  'folk rock': 'folk',
  celtic: 'folk',
  americana: 'country',
  bluegrass: 'country',
  'honky-tonk': 'country',
  'alt-country': 'country',
  'singer songwriter': 'singer-songwriter',
  songwriter: 'singer-songwriter',
  acoustic: 'singer-songwriter',
  // jazz / blues / soul / rnb / funk
  swing: 'jazz',
  bebop: 'jazz',
  'big band': 'jazz',
  'bossa nova': 'latin',
  lounge: 'jazz',
  'blues rock': 'blues',
  motown: 'soul',
  'neo soul': 'soul',
  'neo-soul': 'soul',
  'doo wop': 'soul',
  'r&b': 'rnb',
  'r-n-b': 'rnb',
  'r n b': 'rnb',
  'rhythm and blues': 'rnb',
  'contemporary r&b': 'rnb',
  groove: 'funk',
  'nu disco': 'disco',
  'italo disco': 'disco',
  // reggae / latin / world
  ska: 'reggae',
  dub: 'reggae',
  dancehall: 'reggae',
  'roots reggae': 'reggae',
  reggaeton: 'latin',
  latino: 'latin',
  salsa: 'latin',
  samba: 'latin',
  tango: 'latin',
  forro: 'latin',
  mpb: 'latin',
  pagode: 'latin',
  sertanejo: 'latin',
  cumbia: 'latin',
  bachata: 'latin',
  flamenco: 'latin',
  brazil: 'latin',
  brazilian: 'latin',
  spanish: 'latin',
  'world music': 'world',
  'world-music': 'world',
  worldmusic: 'world',
  ethnic: 'world',
  afrobeat: 'world',
  afrobeats: 'world',
  fado: 'world',
  bhangra: 'world',
  // Spotify's regional labels whose tracks are mostly local traditional/pop music
  indian: 'world',
  iranian: 'world',
  malay: 'world',
  turkish: 'world',
  // classical / soundtrack
  opera: 'classical',
  baroque: 'classical',
  neoclassical: 'classical',
  'modern classical': 'classical',
  'contemporary classical': 'classical',
  orchestral: 'classical',
  // Spotify's "piano" label is mostly neo-classical piano
  piano: 'classical',
  ost: 'soundtrack',
  score: 'soundtrack',
  'film score': 'soundtrack',
  'original soundtrack': 'soundtrack',
  'video game music': 'soundtrack',
  vgm: 'soundtrack',
  'show tunes': 'soundtrack',
  'show-tunes': 'soundtrack',
  musical: 'soundtrack',
  musicals: 'soundtrack',
  'pop-film': 'soundtrack',
  bollywood: 'soundtrack',
  // misc
  ebm: 'industrial',
  'industrial rock': 'industrial',
  noise: 'experimental',
  'avant-garde': 'experimental',
  avantgarde: 'experimental',
  christian: 'gospel',
  worship: 'gospel',
  'christian rock': 'gospel',
  'contemporary christian': 'gospel',
  kids: 'children',
  disney: 'children',
  "children's music": 'children',
  childrens: 'children',
  lullaby: 'children',
  lullabies: 'children',
  'nursery rhymes': 'children',
};

// Tags that look like they could be genres but are not (checked before suffix rules).
const NOT_GENRES = [
  'seen live',
  'favorites',
  'favourites',
  'favorite',
  'favourite',
  'favorite songs',
  'love',
  'loved',
  'awesome',
  'amazing',
  'beautiful',
  'cool',
  'good',
  'great',
  'best',
  'epic',
  'female vocalists',
  'female vocalist',
  'male vocalists',
  'male vocalist',
  'female vocals',
  'male vocals',
  'vocal',
  'vocals',
  'instrumental',
  'cover',
  'covers',
  'live',
  'remix',
  'remixes',
  'oldies',
  'comedy',
  'easy listening',
  'under 2000 listeners',
  'spotify',
  'albums i own',
  'my music',
  'favourite albums',
  'catchy',
  'sexy',
  'guitar',
  // nationalities / countries (genre-less)
  'american',
  'british',
  'uk',
  'usa',
  'us',
  'english',
  'german',
  'deutsch',
  'french',
  'swedish',
  'norwegian',
  'finnish',
  'danish',
  'icelandic',
  'dutch',
  'belgian',
  'italian',
  'polish',
  'russian',
  'canadian',
  'australian',
  'irish',
  'scottish',
  'japanese',
  'japan',
  'korean',
  'korea',
  'chinese',
  'mexican',
  'argentinian',
  'portuguese',
  'greek',
  'israeli',
  'african',
];

const MOOD_SYNONYMS: Record<string, Mood> = {
  chill: 'chill',
  chillout: 'chill',
  'chill out': 'chill',
  chilled: 'chill',
  happy: 'happy',
  'feel good': 'happy',
  fun: 'happy',
  cheerful: 'happy',
  sad: 'sad',
  depressing: 'sad',
  depressive: 'sad',
  sadness: 'sad',
  mellow: 'mellow',
  calm: 'mellow',
  soft: 'mellow',
  energetic: 'energetic',
  energy: 'energetic',
  upbeat: 'energetic',
  romantic: 'romantic',
  romance: 'romantic',
  'love songs': 'romantic',
  melancholic: 'melancholic',
  melancholy: 'melancholic',
  melancholia: 'melancholic',
  party: 'party',
  relaxing: 'relaxing',
  relax: 'relaxing',
  relaxation: 'relaxing',
  dark: 'dark',
  dreamy: 'dreamy',
  uplifting: 'uplifting',
  aggressive: 'aggressive',
  angry: 'aggressive',
  atmospheric: 'atmospheric',
  epic: 'epic',
  nostalgic: 'nostalgic',
  nostalgia: 'nostalgic',
  sexy: 'sexy',
  sensual: 'sexy',
  sleep: 'sleep',
  sleeping: 'sleep',
  study: 'study',
  focus: 'study',
  concentration: 'study',
  workout: 'workout',
  gym: 'workout',
  running: 'workout',
};

const GENRE_BY_KEY = new Map<string, Genre>();
for (const g of GENRES) GENRE_BY_KEY.set(normalizeTag(g), g);
for (const [k, g] of Object.entries(SYNONYMS)) GENRE_BY_KEY.set(normalizeTag(k), g);

const NOT_GENRE_KEYS = new Set(NOT_GENRES.map(normalizeTag));
const MOOD_BY_KEY = new Map<string, Mood>();
for (const [k, m] of Object.entries(MOOD_SYNONYMS)) MOOD_BY_KEY.set(normalizeTag(k), m);

// Suffix rules for compound tags ("melodic death metal", "deep-house", "underground hip hop").
// Order matters: the first matching suffix wins.
const SUFFIX_RULES: readonly [string, Genre][] = [
  ['metal', 'metal'],
  ['metalcore', 'metal'],
  ['hardcore', 'punk'],
  ['punk', 'punk'],
  ['hiphop', 'hip-hop'],
  ['rap', 'hip-hop'],
  ['house', 'house'],
  ['techno', 'techno'],
  ['trance', 'trance'],
  ['dubstep', 'dubstep'],
  ['drumnbass', 'drum-and-bass'],
  ['ambient', 'ambient'],
  ['jazz', 'jazz'],
  ['blues', 'blues'],
  ['soul', 'soul'],
  ['rnb', 'rnb'],
  ['funk', 'funk'],
  ['disco', 'disco'],
  ['reggae', 'reggae'],
  ['latin', 'latin'],
  ['latina', 'latin'],
  ['latino', 'latin'],
  ['country', 'country'],
  ['folk', 'folk'],
  ['classical', 'classical'],
  ['soundtrack', 'soundtrack'],
  ['gospel', 'gospel'],
  ['postrock', 'post-rock'],
  ['shoegaze', 'shoegaze'],
  ['industrial', 'industrial'],
  ['electronic', 'electronic'],
  ['electronica', 'electronic'],
  ['electro', 'electronic'],
  ['newwave', 'new-wave'],
  ['synthpop', 'synthpop'],
  ['indie', 'indie'],
  ['kpop', 'k-pop'],
  ['jpop', 'j-pop'],
  ['pop', 'pop'],
  ['rock', 'rock'],
];

const DECADE_OR_YEAR = /^(?:\d0s|(?:19|20)\d0s|(?:19|20)\d\d)$/;

/** Canonical genre of a tag, or null for non-genre tags (moods, decades, nationalities, opinions…). */
export function tagToGenre(tag: string): Genre | null {
  const key = normalizeTag(tag);
  if (key.length === 0) return null;
  const exact = GENRE_BY_KEY.get(key);
  if (exact !== undefined) return exact;
  if (NOT_GENRE_KEYS.has(key) || MOOD_BY_KEY.has(key) || DECADE_OR_YEAR.test(key)) return null;
  for (const [suffix, genre] of SUFFIX_RULES) {
    // A prefix of at least 2 characters, so "pop" alone is handled by the exact table.
    if (key.length > suffix.length + 1 && key.endsWith(suffix)) return genre;
  }
  // Prefix forms ("indie/alternative" → "indiealternative") fall back to the leading genre.
  for (const [suffix, genre] of SUFFIX_RULES) {
    if (suffix.length >= 4 && key.startsWith(suffix) && key.length > suffix.length + 1) return genre;
  }
  return null;
}

/** Canonical mood of a tag, or null. */
export function tagToMood(tag: string): Mood | null {
  return MOOD_BY_KEY.get(normalizeTag(tag)) ?? null;
}

export interface TagCount {
  readonly tag: string;
  readonly count?: number;
}

/** Map tags through `tagToGenre`, sum their counts (default 1) and normalize to sum 1. Empty if nothing maps. */
export function genreWeightsFromTags(tags: readonly (TagCount | string)[]): GenreWeights {
  const acc: GenreWeights = {};
  let total = 0;
  for (const t of tags) {
    const tag = typeof t === 'string' ? t : t.tag;
    const count = typeof t === 'string' ? 1 : (t.count ?? 1);
    if (!(count > 0) || !Number.isFinite(count)) continue;
    const g = tagToGenre(tag);
    if (g === null) continue;
    acc[g] = (acc[g] ?? 0) + count;
    total += count;
  }
  return total > 0 ? scaleInPlace(acc, 1 / total) : acc;
}

/**
 * Weights keyed by genres or genre-like tags (e.g. an explicit `genres` field): keys go through
 * `tagToGenre`, unknown keys and non-positive weights are dropped, the result sums to 1.
 */
export function normalizeGenreWeights(weights: Readonly<Record<string, number>> | readonly string[]): GenreWeights {
  if (Array.isArray(weights)) return genreWeightsFromTags(weights as readonly string[]);
  const acc: GenreWeights = {};
  let total = 0;
  for (const [k, v] of Object.entries(weights as Record<string, number>)) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    const g = isGenre(k) ? k : tagToGenre(k);
    if (g === null) continue;
    acc[g] = (acc[g] ?? 0) + v;
    total += v;
  }
  return total > 0 ? scaleInPlace(acc, 1 / total) : acc;
}

/** The highest-weighted genre (ties broken by vocabulary order), or null when empty. */
export function primaryGenre(weights: Readonly<GenreWeights>): Genre | null {
  let best: Genre | null = null;
  let bestW = 0;
  let bestI = Number.POSITIVE_INFINITY;
  for (const k in weights) {
    const w = weights[k]!;
    const i = GENRE_INDEX[k];
    if (i === undefined || !(w > 0)) continue;
    if (w > bestW || (w === bestW && i < bestI)) {
      best = k as Genre;
      bestW = w;
      bestI = i;
    }
  }
  return best;
}

function scaleInPlace(w: GenreWeights, f: number): GenreWeights {
  for (const k in w) w[k] = w[k]! * f;
  return w;
}
