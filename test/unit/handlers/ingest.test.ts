/** The ingest routes' shared shape on the samples in events/: one item or a list, each validated on its own. */
import { describe, expect, it } from 'vitest';
import { ListenEventInput, TrackUpsertInput } from '../../../shared/domain/events/events.ts';
import { HttpError } from '../../../shared/handlers/http.ts';
import { readItems, validateItems } from '../../../shared/handlers/ingest.ts';
import { httpSample } from '../../support/samples.ts';

const limits = { maxItems: 500, maxBytes: 1_000_000 };
const post = httpSample('ingest-events.json');
const withBody = (body: unknown) => ({ ...post, body: JSON.stringify(body) });

const failure = (fn: () => unknown): HttpError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected an HttpError');
};

describe('readItems', () => {
  it('reads {"events": [...]}, a bare list and a single item', () => {
    const items = readItems(post, 'events', limits);
    expect(items).toHaveLength(3);
    expect(readItems(withBody(items), 'events', limits)).toEqual(items);
    expect(readItems(withBody(items[0]), 'events', limits)).toEqual([items[0]]);
  });

  it('answers 400 for a non-list or empty list or a scalar, 413 over the item limit', () => {
    expect(failure(() => readItems(withBody({ events: 5 }), 'events', limits)).errors).toEqual([
      { path: 'events', message: 'expected an array' },
    ]);
    expect(failure(() => readItems(withBody({ events: [] }), 'events', limits)).statusCode).toBe(400);
    expect(failure(() => readItems(withBody('play'), 'events', limits)).statusCode).toBe(400);
    expect(failure(() => readItems(post, 'events', { ...limits, maxItems: 2 })).statusCode).toBe(413);
  });
});

describe('validateItems', () => {
  it('keeps the valid events and rejects the one without a track or artist, with its index and path', () => {
    const { valid, rejected } = validateItems(readItems(post, 'events', limits), ListenEventInput, 'events');
    expect(valid.map((v) => [v.index, v.item.trackId])).toEqual([
      [0, 'trk-shoegaze-1'],
      [1, 'trk-dreampop-2'],
    ]);
    expect(valid[0]!.item.country).toBe('PT');
    expect(rejected).toEqual([
      { index: 2, errors: [{ path: 'events[2].trackId', message: 'either trackId or artistId is required' }] },
    ]);
  });

  it('adds the check’s issues under the same prefix; a single item has no prefix', () => {
    const items = readItems(httpSample('ingest-tracks.json'), 'tracks', limits).slice(0, 2); // the third is an artist
    const tooLong = (t: { title: string }) => (t.title.length > 6 ? [{ path: 'title', message: 'too long' }] : []);
    const { valid, rejected } = validateItems(items, TrackUpsertInput, 'tracks', tooLong);
    expect(valid.map((v) => v.item.title)).toEqual(['Alison']);
    expect(rejected).toEqual([{ index: 1, errors: [{ path: 'tracks[1].title', message: 'too long' }] }]);
    expect(validateItems([{ trackId: 't' }], TrackUpsertInput, 'tracks').rejected[0]!.errors[0]!.path).toBe('title');
  });
});
