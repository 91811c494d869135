/**
 * The candidates table: one item per user, `state` = `packCandidateSet` (both kinds), with
 * `profileVersion` the condition (an older build never overwrites a newer one). Read together
 * with the profile, in one request, by a recommendation.
 */
import type { Profile } from '../../domain/profile/profile.ts';
import { profileFromItem } from './profiles.ts';
import {
  conditionalPut,
  conditionalStatement,
  executeConditionalBatch,
  jsItem,
  sleep,
  statementTexts,
  type WireBatchGetOutput,
  type WireItem,
} from './requests.ts';
import type { Stores } from './stores.ts';

export interface CandidatesWrite {
  userId: string;
  profileVersion: number;
  builtAt: number;
  state: Uint8Array;
  /** Whether an item is believed to exist (decides INSERT or conditional UPDATE; a wrong guess costs a retry). */
  existed: boolean;
}

const CANDIDATES_ATTRIBUTES = ['userId', 'profileVersion', 'builtAt', 'state'] as const;

/**
 * Candidate sets, 25 conditional statements per request; a statement whose INSERT or UPDATE
 * guessed wrong about the item's existence is resent as one conditional put. Returns the users
 * whose newer build was already stored (not written).
 */
export async function putCandidateSets(
  s: Stores,
  writes: readonly CandidatesWrite[],
  concurrency = 4,
): Promise<Set<string>> {
  const table = s.tableNames.candidates;
  const text = statementTexts(table, CANDIDATES_ATTRIBUTES, '"profileVersion" <= ?');
  const item = (w: CandidatesWrite) => ({
    userId: w.userId,
    profileVersion: w.profileVersion,
    builtAt: w.builtAt,
    state: w.state,
  });
  const lost = await executeConditionalBatch(
    s,
    writes.map((w) =>
      conditionalStatement(text, item(w), CANDIDATES_ATTRIBUTES, w.existed ? w.profileVersion : undefined),
    ),
    concurrency,
  );
  for (const w of writes) {
    if (!lost.has(w.userId)) continue;
    const written = await conditionalPut(s, {
      TableName: table,
      Item: item(w),
      ConditionExpression: 'attribute_not_exists(userId) OR profileVersion <= :pv',
      ExpressionAttributeValues: { ':pv': w.profileVersion },
    });
    if (written) lost.delete(w.userId);
  }
  return lost;
}

/**
 * A user's profile and candidate set in ONE BatchGet across the two tables (eventually
 * consistent): everything a recommendation reads from DynamoDB.
 */
export async function getProfileAndCandidates(
  s: Stores,
  userId: string,
): Promise<{ profile?: Profile; candidates?: Uint8Array }> {
  const profiles = s.tableNames.profiles;
  const candidates = s.tableNames.candidates;
  let request: Record<string, { Keys: WireItem[] }> | undefined = {
    [profiles]: { Keys: [{ userId: { S: userId } }] },
    [candidates]: { Keys: [{ userId: { S: userId } }] },
  };
  const out: { profile?: Profile; candidates?: Uint8Array } = {};
  for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
    if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    const res: WireBatchGetOutput = await s.wire.call<WireBatchGetOutput>('BatchGetItem', {
      RequestItems: request,
      ReturnConsumedCapacity: 'TOTAL',
    });
    s.counter.reads++;
    s.counter.readUnits += res.ConsumedCapacity?.reduce((a, c) => a + (c.CapacityUnits ?? 0), 0) ?? 0;
    const p = res.Responses?.[profiles]?.[0];
    if (p) {
      s.counter.itemsRead++;
      out.profile = profileFromItem(jsItem(p));
    }
    const c = res.Responses?.[candidates]?.[0];
    if (c) {
      s.counter.itemsRead++;
      const state = jsItem(c).state;
      if (state instanceof Uint8Array) out.candidates = state;
    }
    request = res.UnprocessedKeys;
  }
  return out;
}
