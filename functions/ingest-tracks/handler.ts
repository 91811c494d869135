/**
 * POST /tracks — catalog upserts: one item or {"tracks": [...]} (≤ 500, ≤ 1 MB). An item with a
 * trackId is a track (title, artist, genres or tags, duration); an item with only an artistId and
 * a name is an artist (Last.fm data is artist-level). Valid items go to the tracks topic keyed by
 * their id, stamped with `updatedAt` (the last-writer-wins key) when the client gave none.
 *
 * @producesTo tracks
 * @routes POST /tracks
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { produce, topicsFromEnv } from '../../shared/adapters/kafka.ts';
import { upsertItemId } from '../../shared/domain/catalog/catalog.ts';
import { ArtistUpsertV1, TrackUpsertInput } from '../../shared/domain/events/events.ts';
import { HttpError, type HttpResult, json, problem } from '../../shared/handlers/http.ts';
import { readItems, validateItems } from '../../shared/handlers/ingest.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { resolveSettings } from '../../shared/topology.ts';

const tools = observability('ingest-tracks');
const settings = resolveSettings();

/** Tracks carry a trackId; anything else is read as an artist upsert. */
export const CatalogUpsertInput = z.union([TrackUpsertInput, ArtistUpsertV1]);

export async function ingestTracks(event: APIGatewayProxyEventV2, now = Date.now()): Promise<HttpResult> {
  const topic = topicsFromEnv().tracks;
  try {
    const items = readItems(event, 'tracks', {
      maxItems: settings.INGEST_MAX_EVENTS,
      maxBytes: settings.INGEST_MAX_BYTES,
    });
    const { valid, rejected } = validateItems(items, CatalogUpsertInput, 'tracks');
    if (valid.length === 0) return json(400, { message: 'no valid catalog items', accepted: 0, rejected });
    await produce(
      topic,
      valid.map(({ item }) => {
        return {
          key: upsertItemId(item),
          value: JSON.stringify({ ...item, updatedAt: item.updatedAt ?? now, v: 1 }),
          headers: {
            'content-type': 'application/json',
            schema: 'trackId' in item ? 'track-upsert-v1' : 'artist-upsert-v1',
          },
        };
      }),
    );
    tools.metrics.addMetric('CatalogItemsAccepted', MetricUnit.Count, valid.length);
    return json(202, { accepted: valid.length, rejected });
  } catch (err) {
    if (err instanceof HttpError) return err.toResult();
    tools.logger.error('ingest failed', { error: err as Error });
    return problem(503, 'could not store the catalog items; retry');
  }
}

export const handler = wrap((event: APIGatewayProxyEventV2, _context: Context) => ingestTracks(event), tools);
