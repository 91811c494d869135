/**
 * POST /events — one listen event or {"events": [...]} (≤ 500 events, ≤ 1 MB). Each event is
 * validated on its own; the valid ones are produced to listen-events keyed by userId (acks=all),
 * so a user's events stay in order on one partition. 202 with what was accepted and rejected.
 *
 * @producesTo listen-events
 * @routes POST /events
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { produce, topicsFromEnv } from '../../shared/adapters/kafka.ts';
import { isTsTooFarInFuture, ListenEventInput, type ListenEventV1 } from '../../shared/domain/events/events.ts';
import { HttpError, type HttpResult, json, problem } from '../../shared/handlers/http.ts';
import { readItems, validateItems } from '../../shared/handlers/ingest.ts';
import { resolveListens } from '../../shared/handlers/name-resolution.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { resolveSettings } from '../../shared/topology.ts';

const tools = observability('ingest-events');
const settings = resolveSettings();

/**
 * An event without a client eventId gets one derived from its content, so a client that retries
 * the same POST does not count the listen twice.
 */
export function assignEventId(e: Omit<ListenEventV1, 'eventId'> & { eventId?: string }): string {
  if (e.eventId) return e.eventId;
  const basis = [e.userId, e.ts, e.type, e.trackId ?? '', e.artistId ?? '', e.msPlayed ?? '', e.rating ?? ''].join('|');
  return `ev-${createHash('sha256').update(basis).digest('base64url').slice(0, 22)}`;
}

export async function ingestEvents(event: APIGatewayProxyEventV2, now = Date.now()): Promise<HttpResult> {
  const topic = topicsFromEnv().listenEvents;
  try {
    const items = readItems(event, 'events', {
      maxItems: settings.INGEST_MAX_EVENTS,
      maxBytes: settings.INGEST_MAX_BYTES,
    });
    const { valid, rejected } = validateItems(items, ListenEventInput, 'events', (e) =>
      isTsTooFarInFuture(e.ts, now) ? [{ path: 'ts', message: 'is more than a day in the future' }] : [],
    );
    if (valid.length === 0) {
      return json(400, { message: 'no valid events', accepted: 0, rejected });
    }
    // The eventId comes from the listen as sent, before resolution: a retry after the catalog
    // learned a name still has the same id.
    const { events, counts } = await resolveListens(
      valid.map(({ item }) => ({ event: { ...item, eventId: assignEventId(item), v: 1 as const } as ListenEventV1 })),
      (error) => tools.logger.warn('name resolution failed; listens go on unresolved', { error }),
    );
    await produce(
      topic,
      events.map((e) => ({
        key: e.userId,
        value: JSON.stringify(e),
        headers: { 'content-type': 'application/json', schema: 'listen-event-v1' },
      })),
    );
    tools.metrics.addMetric('EventsAccepted', MetricUnit.Count, events.length);
    if (rejected.length > 0) tools.metrics.addMetric('EventsRejected', MetricUnit.Count, rejected.length);
    if (counts.named > 0) {
      tools.metrics.addMetric('NamedListens', MetricUnit.Count, counts.named);
      tools.metrics.addMetric('NamesResolved', MetricUnit.Count, counts.resolved);
    }
    return json(202, { accepted: events.length, eventIds: events.map((e) => e.eventId), rejected, resolution: counts });
  } catch (err) {
    if (err instanceof HttpError) return err.toResult();
    tools.logger.error('ingest failed', { error: err as Error });
    return problem(503, 'could not store the events; retry with the same eventIds');
  }
}

export const handler = wrap((event: APIGatewayProxyEventV2, _context: Context) => ingestEvents(event), tools);
