/**
 * DELETE /users/{userId} — forget a listener (IAM in the cloud, the admin bearer token locally):
 * the profile, neighbour list, neighbour-index entry, tokens and feedback are deleted
 * (adapters/forget.ts, the one place for per-user items), and the deletion is recorded — a
 * tombstone in the users table and one in the archive, which `replay --source archive` honours.
 * Other listeners' lists drop the user as they are read (the read API skips neighbours without a
 * profile) or refreshed (the index no longer has the user). Idempotent: a second call reports
 * nothing left to delete and the first deletion time.
 *
 * Listens for the user that arrive after the deletion start a new profile (a listener who comes
 * back); clients stop that by not sending them (its tokens are revoked here).
 *
 * @routes DELETE /users/{userId}
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { archiveFromEnv } from '../../shared/adapters/archive.ts';
import { experimentsStoreFromEnv } from '../../shared/adapters/dynamodb/experiments.ts';
import { storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { usersStoreFromEnv } from '../../shared/adapters/dynamodb/users.ts';
import { archiveDeletion, deletePerUserItems, recordDeletion } from '../../shared/adapters/forget.ts';
import { HttpError, type HttpResult, json, pathParam, problem } from '../../shared/handlers/http.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';

const tools = observability('user-admin');

export async function forgetUser(event: APIGatewayProxyEventV2, now = Date.now()): Promise<HttpResult> {
  try {
    const userId = pathParam(event, 'userId');
    const users = usersStoreFromEnv();
    const deleted = await deletePerUserItems(storesFromEnv(), users, experimentsStoreFromEnv(), userId);
    const deletedAt = await recordDeletion(users, userId, now);
    await archiveDeletion(archiveFromEnv(), userId, deletedAt);
    tools.metrics.addMetric('UsersForgotten', MetricUnit.Count, 1);
    tools.logger.info('user forgotten', { userId, deleted });
    return json(200, { userId, deletedAt, deleted });
  } catch (err) {
    if (err instanceof HttpError) return err.toResult();
    tools.logger.error('forgetting a user failed', { error: err as Error });
    return problem(503, 'could not delete everything; retry (deletion is idempotent)');
  }
}

export const handler = wrap((event: APIGatewayProxyEventV2, _context: Context) => forgetUser(event), tools);
