/**
 * `GET /tracks/{trackId}/similar` and `GET /artists/{artistId}/similar`: the item's neighbours in
 * the item model — co-listening ("played by the same listeners") first, then what only content
 * ("tagged alike") adds (shared/domain/ranking/similar.ts). An id neither the catalog
 * nor the item model knows is a 404; a known item without lists (too new for the last build)
 * answers an empty list.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import type { Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { type CatalogItem, type CatalogKind, catalogItemId, itemKindOf } from '../../shared/domain/catalog/catalog.ts';
import { similarItems } from '../../shared/domain/ranking/similar.ts';
import { listenerVariant } from '../../shared/handlers/experiment.ts';
import { type HttpResult, json, parseQuery, pathParam, problem } from '../../shared/handlers/http.ts';
import { recordServed } from '../../shared/handlers/served-lists.ts';
import { catalogOf, describe, itemCache, itemModel, labelOf, limitParam, settings } from './catalog-view.ts';

const SimilarQuery = z.object({
  limit: limitParam(settings.RECOMMENDATIONS_MAX_LIMIT, settings.RECOMMENDATIONS_DEFAULT_LIMIT),
  /** The listener the answer is for: with it, the answer is recorded for attribution. */
  userId: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional(),
});

export function similarRoute(kind: CatalogKind) {
  return async (stores: Stores, event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const id = pathParam(event, kind === 'track' ? 'trackId' : 'artistId');
    const { limit, userId } = parseQuery(event, SimilarQuery);
    const [lists, known] = await Promise.all([
      itemModel.lists(stores, itemKindOf(kind), [id]),
      itemCache.get(stores, [catalogItemId(kind, id)]),
    ]);
    const item: CatalogItem | undefined = known.get(catalogItemId(kind, id));
    const own = lists.get(id);
    if (!item && !own) return problem(404, `no ${kind} ${id} in the catalog or the item model`);
    const similar = similarItems(id, own, limit);
    const catalog = await catalogOf(
      stores,
      kind,
      new Map(),
      similar.map((s) => s.id),
    );
    const name = labelOf(item, id);
    // Similar items rank the same for everyone: the variant only labels whom it was served to.
    const variant = userId === undefined ? undefined : listenerVariant(userId).name;
    const recommendationId =
      userId === undefined || variant === undefined
        ? null
        : recordServed({
            userId,
            route: kind === 'track' ? 'similar-tracks' : 'similar-artists',
            kind,
            variant,
            strategy: 'item-model',
            items: similar.map((s) => s.id),
          });
    return json(200, {
      ...(kind === 'track' ? { trackId: id } : { artistId: id }),
      name: item?.name ?? null,
      recommendationId,
      variant: variant ?? null,
      items: similar.map((s) => ({
        ...describe(kind, catalog.get(s.id), s.id),
        score: Math.round(s.score * 1e4) / 1e4,
        reasons: [...(s.together ? [`often played with ${name}`] : []), ...(s.tagged ? [`tagged like ${name}`] : [])],
      })),
    });
  };
}
