import { describe, expect, it } from 'vitest';
import {
  CatalogRecordV1,
  DeadLetterV1,
  isTsTooFarInFuture,
  ListenEventBatchInput,
  ListenEventInput,
  ListenEventV1,
  ProfileUpdateV1,
  TrackUpsertInput,
  TrackUpsertV1,
} from '../../../../shared/domain/events/events.ts';
import { formatZodIssues } from '../../../../shared/handlers/field-issues.ts';

const TS = Date.UTC(2024, 5, 1);
const ok = { eventId: 'e1', userId: 'u1', trackId: 't1', ts: TS, type: 'play' as const };

function issues(r: { success: boolean; error?: { issues: never[] } }) {
  expect(r.success).toBe(false);
  return formatZodIssues(r.error as never);
}

describe('ListenEventV1', () => {
  it('accepts a valid event, strips unknown keys and upper-cases the country', () => {
    const r = ListenEventV1.parse({ ...ok, country: 'de', extra: 'x', msPlayed: 1000, durationMs: 2000 });
    expect(r).toEqual({ ...ok, country: 'DE', msPlayed: 1000, durationMs: 2000 });
  });
  it('requires trackId or artistId, reported on a path', () => {
    const { trackId: _, ...rest } = ok;
    expect(issues(ListenEventV1.safeParse(rest) as never)).toEqual([
      { path: 'trackId', message: 'either trackId or artistId is required' },
    ]);
    expect(ListenEventV1.safeParse({ ...rest, artistId: 'a' }).success).toBe(true);
  });
  it('reports field paths for bad fields', () => {
    const paths = issues(
      ListenEventV1.safeParse({ ...ok, ts: 12, type: 'listen', rating: 9, country: 'USA', msPlayed: -1 }) as never,
    ).map((i) => i.path);
    expect(paths.sort()).toEqual(['country', 'msPlayed', 'rating', 'ts', 'type']);
  });
  it('rejects timestamps before 2000 and after 2100, and non-integers', () => {
    expect(ListenEventV1.safeParse({ ...ok, ts: Date.UTC(1999, 11, 31) }).success).toBe(false);
    expect(ListenEventV1.safeParse({ ...ok, ts: Date.UTC(2100, 0, 2) }).success).toBe(false);
    expect(ListenEventV1.safeParse({ ...ok, ts: TS + 0.5 }).success).toBe(false);
    expect(isTsTooFarInFuture(TS + 2 * 86_400_000, TS)).toBe(true);
    expect(isTsTooFarInFuture(TS + 3_600_000, TS)).toBe(false);
  });
  it('requires eventId on the topic but not at ingest', () => {
    const { eventId: _, ...noId } = ok;
    expect(ListenEventV1.safeParse(noId).success).toBe(false);
    expect(ListenEventInput.safeParse(noId).success).toBe(true);
  });
  it('formats nested batch paths', () => {
    const r = ListenEventBatchInput.safeParse({ events: [ok, ok, ok, { ...ok, ts: 'soon' }] });
    expect(issues(r as never)).toEqual([{ path: 'events[3].ts', message: expect.any(String) }]);
  });
  it('prefixes paths', () => {
    const r = ListenEventV1.safeParse({ ...ok, userId: '' });
    expect(r.success).toBe(false);
    if (!r.success) expect(formatZodIssues(r.error, 'events[2]')[0]!.path).toBe('events[2].userId');
  });
});

describe('catalog upserts', () => {
  it('rejects unknown genres with a path', () => {
    const r = TrackUpsertInput.safeParse({ trackId: 't', title: 'x', artistName: 'a', genres: ['rock', 'rokc'] });
    expect(issues(r as never)[0]!.path).toBe('genres[1]');
  });
  it('requires updatedAt on the topic', () => {
    expect(TrackUpsertV1.safeParse({ trackId: 't', title: 'x', artistName: 'a' }).success).toBe(false);
    expect(CatalogRecordV1.safeParse({ artistId: 'a', name: 'A' }).success).toBe(false);
    expect(CatalogRecordV1.safeParse({ artistId: 'a', name: 'A', updatedAt: TS }).success).toBe(true);
  });
});

describe('other records', () => {
  it('ProfileUpdateV1 and DeadLetterV1 validate', () => {
    expect(ProfileUpdateV1.safeParse({ userId: 'u', version: 3, ts: TS, genres: { rock: 1 } }).success).toBe(true);
    const dl = {
      reason: 'invalid-json',
      sourceTopic: 't',
      partition: 0,
      offset: 5,
      value: 'aGk=',
      function: 'f',
      failedAt: TS,
    };
    expect(DeadLetterV1.safeParse(dl).success).toBe(true);
    expect(DeadLetterV1.safeParse({ ...dl, value: 'not base64!' }).success).toBe(false);
  });
});
