/**
 * Lambda request authorizer (HTTP API, payload 2.0, simple responses) of the user-token routes:
 * `Authorization: Token <token>` → the listener it belongs to (users table, SHA-256 of the token).
 *
 * It identifies rather than gates: every request that reaches it is authorized, with
 * `context.userId` set only for a valid token, and the route's function answers 401 in the
 * ListenBrainz error shape otherwise. API Gateway cannot shape an authorizer's denial (it would be
 * a bare 403 `{"message":"Forbidden"}`), and ListenBrainz clients expect 401 with `error`. API
 * Gateway caches the answer per Authorization header (USER_TOKEN_CACHE_SECONDS), so a hot client
 * costs no token lookups; requests without the header never reach the authorizer (API Gateway's 401).
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
} from 'aws-lambda';
import { userIdForToken, usersStoreFromEnv } from '../../shared/adapters/dynamodb/users.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';

const tools = observability('token-authorizer');

export interface TokenContext {
  /** The listener; '' when the token is unknown or the header malformed. */
  userId: string;
  /** Why there is no listener: 'missing' | 'malformed' | 'unknown' ('' when there is one). */
  problem: string;
  [key: string]: string;
}

/** `Token <t>` (ListenBrainz) or `Bearer <t>`; anything else is malformed. */
export function tokenOf(header: string | undefined): string | undefined {
  const m = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(header?.trim() ?? '');
  return m?.[1];
}

export async function authorize(
  event: Pick<APIGatewayRequestAuthorizerEventV2, 'headers'>,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<TokenContext>> {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  if (!header) return { isAuthorized: true, context: { userId: '', problem: 'missing' } };
  const token = tokenOf(header);
  if (!token) return { isAuthorized: true, context: { userId: '', problem: 'malformed' } };
  const userId = await userIdForToken(usersStoreFromEnv(), token);
  return { isAuthorized: true, context: userId ? { userId, problem: '' } : { userId: '', problem: 'unknown' } };
}

export const handler = wrap((event: APIGatewayRequestAuthorizerEventV2, _context: Context) => authorize(event), tools);
