import { describe, expect, it } from 'vitest';
import {
  GENRE_INDEX,
  GENRES,
  genreWeightsFromTags,
  MOODS,
  normalizeTag,
  primaryGenre,
  tagToGenre,
  tagToMood,
} from '../../../shared/domain/genres.ts';

describe('genre vocabulary', () => {
  it('has 30–60 unique genres indexed in order', () => {
    expect(GENRES.length).toBeGreaterThanOrEqual(30);
    expect(GENRES.length).toBeLessThanOrEqual(60);
    expect(new Set(GENRES).size).toBe(GENRES.length);
    for (const [i, g] of GENRES.entries()) expect(GENRE_INDEX[g]).toBe(i);
  });
  it('every genre maps to itself', () => {
    for (const g of GENRES) expect(tagToGenre(g)).toBe(g);
  });
});

describe('normalizeTag', () => {
  it('unifies separators, case and accents', () => {
    expect(normalizeTag('Hip Hop')).toBe(normalizeTag('hip-hop'));
    expect(normalizeTag('hiphop')).toBe(normalizeTag('HIP_HOP '));
    expect(normalizeTag('Música')).toBe('musica');
    expect(normalizeTag('R&B')).toBe('rnb');
  });
});

describe('tagToGenre', () => {
  it.each([
    ['hip hop', 'hip-hop'],
    ['Hip-Hop', 'hip-hop'],
    ['rap', 'hip-hop'],
    ['underground hip hop', 'hip-hop'],
    ['electronica', 'electronic'],
    ['R&B', 'rnb'],
    ['rnb', 'rnb'],
    ['r-n-b', 'rnb'],
    ['drum n bass', 'drum-and-bass'],
    ['dnb', 'drum-and-bass'],
    ['Drum & Bass', 'drum-and-bass'],
    ['alt-rock', 'alternative'],
    ['hard-rock', 'hard-rock'],
    ['j-pop', 'j-pop'],
    ['kpop', 'k-pop'],
    ['edm', 'dance'],
    ['deep-house', 'house'],
    ['chicago-house', 'house'],
    ['black-metal', 'metal'],
    ['death-metal', 'metal'],
    ['melodic death metal', 'metal'],
    ['post-rock', 'post-rock'],
    ['dream pop', 'shoegaze'],
    ['indie rock', 'indie'],
    ['classic rock', 'rock'],
    ['psych-rock', 'psychedelic'],
    ['singer-songwriter', 'singer-songwriter'],
    ['world-music', 'world'],
    ['show-tunes', 'soundtrack'],
  ])('%s → %s', (tag, genre) => {
    expect(tagToGenre(tag)).toBe(genre);
  });

  it.each([
    'seen live',
    'favorites',
    'love',
    'awesome',
    'beautiful',
    '80s',
    '1994',
    '2000s',
    'british',
    'american',
    'female vocalists',
    'chill',
    'happy',
    'demo',
    '',
  ])('%s → null', (tag) => {
    expect(tagToGenre(tag)).toBeNull();
  });

  it('maps moods separately', () => {
    expect(tagToMood('chill')).toBe('chill');
    expect(tagToMood('Chillout')).toBe('chill');
    expect(tagToMood('melancholy')).toBe('melancholic');
    expect(tagToMood('rock')).toBeNull();
    expect(MOODS).toContain('party');
  });
});

describe('genreWeightsFromTags', () => {
  it('sums counts per genre and normalizes to 1', () => {
    const w = genreWeightsFromTags([
      { tag: 'indie rock', count: 60 },
      { tag: 'shoegaze', count: 30 },
      { tag: 'seen live', count: 100 },
      { tag: 'indie', count: 30 },
    ]);
    expect(w).toEqual({ indie: 0.75, shoegaze: 0.25 });
    expect(primaryGenre(w)).toBe('indie');
  });
  it('is empty when nothing maps', () => {
    expect(genreWeightsFromTags([{ tag: 'seen live' }, { tag: '80s' }])).toEqual({});
    expect(primaryGenre({})).toBeNull();
  });
  it('breaks primary-genre ties by vocabulary order', () => {
    expect(primaryGenre({ pop: 0.5, rock: 0.5 })).toBe('rock');
  });
});
