import { describe, expect, it } from 'vitest';
import { DEFAULT_WEIGHTS, eventWeight } from '../../../../shared/domain/profile/weights.ts';

describe('eventWeight', () => {
  it('weights plays by completion', () => {
    expect(eventWeight({ type: 'play', msPlayed: 200_000, durationMs: 200_000 })).toBeCloseTo(1);
    expect(eventWeight({ type: 'play', msPlayed: 100_000, durationMs: 200_000 })).toBeCloseTo(0.6);
    expect(eventWeight({ type: 'play', msPlayed: 900_000, durationMs: 200_000 })).toBeCloseTo(1);
  });
  it('uses the default for unknown completion and little for short plays', () => {
    expect(eventWeight({ type: 'play' })).toBe(DEFAULT_WEIGHTS.playDefault);
    expect(eventWeight({ type: 'play', msPlayed: 10_000, durationMs: 200_000 })).toBe(DEFAULT_WEIGHTS.shortPlay);
    expect(eventWeight({ type: 'play', msPlayed: 10_000 })).toBe(DEFAULT_WEIGHTS.shortPlay);
    // A 20 s track played through is a full play.
    expect(eventWeight({ type: 'play', msPlayed: 20_000, durationMs: 20_000 })).toBeCloseTo(1);
  });
  it('orders like > play > skip > dislike', () => {
    const like = eventWeight({ type: 'like' });
    const play = eventWeight({ type: 'play' });
    const skip = eventWeight({ type: 'skip' });
    const dislike = eventWeight({ type: 'dislike' });
    expect(like).toBeGreaterThan(play);
    expect(play).toBeGreaterThan(0);
    expect(skip).toBeLessThan(0);
    expect(dislike).toBeLessThan(skip);
  });
  it('maps ratings around 2.5', () => {
    expect(eventWeight({ type: 'play', rating: 5 })).toBe(2);
    expect(eventWeight({ type: 'play', rating: 2.5 })).toBe(0);
    expect(eventWeight({ type: 'like', rating: 0 })).toBe(-2);
  });
  it('is configurable', () => {
    expect(eventWeight({ type: 'skip' }, { ...DEFAULT_WEIGHTS, skip: -1 })).toBe(-1);
  });
});
