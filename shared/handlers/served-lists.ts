/**
 * Recording what an answer served: one JSON line on the function's output, which CloudWatch Logs
 * delivers to `served-list-recorder` through the topology's log subscription (the local runtime
 * reads the same lines). Writing it is the whole cost to the answer: no request, no wait.
 */
import { newRecommendationId } from '../domain/experiments/recommendation-id.ts';
import { type ServedListV1, type ServedRoute, servedListLine } from '../domain/experiments/served-list.ts';

export interface ServedAnswer {
  userId: string;
  route: ServedRoute;
  kind: 'track' | 'artist';
  variant: string;
  strategy: string;
  items: readonly string[];
}

/** Names the answer (its recommendationId) and records it; returns the id. */
export function recordServed(answer: ServedAnswer, now = Date.now()): string {
  const id = newRecommendationId(now);
  const list: ServedListV1 = { v: 1, id, ts: now, ...answer, items: [...answer.items] };
  process.stdout.write(servedListLine(list));
  return id;
}
