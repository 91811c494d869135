/** POST /events' idempotency key, on the sample request in events/. */
import { describe, expect, it } from 'vitest';
import { assignEventId } from '../../../functions/ingest-events/handler.ts';
import { ListenEventInput } from '../../../shared/domain/events/events.ts';
import { httpSample } from '../../support/samples.ts';

const [play, like] = (JSON.parse(httpSample('ingest-events.json').body!) as { events: unknown[] }).events
  .slice(0, 2) // the third has neither track nor artist
  .map((e) => ListenEventInput.parse(e));

describe('assignEventId', () => {
  it('keeps an eventId the client sent', () => {
    expect(assignEventId({ ...play!, eventId: 'client-key-1' })).toBe('client-key-1');
  });

  it('derives one from the content otherwise: a retried POST gets the same id, another listen another', () => {
    const id = assignEventId(play!);
    expect(id).toMatch(/^ev-[\w-]{22}$/);
    expect(assignEventId({ ...play! })).toBe(id);
    expect(assignEventId(like!)).not.toBe(id);
    expect(assignEventId({ ...play!, type: 'skip' })).not.toBe(id);
    expect(assignEventId({ ...play!, msPlayed: 1 })).not.toBe(id);
    // fields outside the key (where it was played) do not make a retry a new listen
    expect(assignEventId({ ...play!, platform: 'ios', country: 'GB' })).toBe(id);
  });
});
