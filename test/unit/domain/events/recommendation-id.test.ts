import { describe, expect, it } from 'vitest';
import { ListenEventInput, ListenEventV1 } from '../../../../shared/domain/events/events.ts';
import { LbBadRequest, listenEventOf, parseSubmission } from '../../../../shared/domain/events/listenbrainz.ts';
import { newRecommendationId } from '../../../../shared/domain/experiments/recommendation-id.ts';

const id = newRecommendationId(Date.UTC(2026, 11, 5));
const base = { eventId: 'e1', userId: 'u1', trackId: 't1', ts: Date.UTC(2026, 11, 5), type: 'play' as const };

describe('recommendationId on a listen', () => {
  it('ingest checks its form and names the field; the topic never refuses an event for it', () => {
    expect(ListenEventInput.safeParse({ ...base, recommendationId: id }).success).toBe(true);
    const bad = ListenEventInput.safeParse({ ...base, recommendationId: 'rec-1' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['recommendationId']);
    // On the topic, an id ingest would not give (an old client, another producer) passes: it is
    // attributed implicitly, never dead-lettered.
    expect(ListenEventV1.safeParse({ ...base, recommendationId: 'rec-1' }).success).toBe(true);
  });

  it('ListenBrainz: additional_info.recommendation_id, checked and carried', () => {
    const body = (rid: unknown) =>
      JSON.stringify({
        listen_type: 'single',
        payload: [
          {
            listened_at: 1_764_900_000,
            track_metadata: { artist_name: 'A', track_name: 'T', additional_info: { recommendation_id: rid } },
          },
        ],
      });
    const ok = parseSubmission(body(id), 1_764_900_100);
    expect(listenEventOf('u1', ok.listens[0]!, 1_764_900_100_000).recommendationId).toBe(id);
    try {
      parseSubmission(body('nope'), 1_764_900_100);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LbBadRequest);
      expect((err as LbBadRequest).field).toMatch(/additional_info\.recommendation_id$/);
    }
  });
});
