/**
 * The smoke test's target for the local pipeline (`npm start`, or a test's pipeline): the HTTP API
 * with the bearer token, listener tokens in the local users table, the item model build run here
 * as the local schedule runs it (DuckDB over the archive, the lease, the streaming loader), and for
 * alarms the local stats the dashboard reads: dead letters, handler errors and consumer lag since
 * the smoke test started — the conditions the cloud's alarms watch.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OFFSET_LAG_ALARM_THRESHOLD } from '../../cdk/constructs/observability.ts';
import { applyFunctionEnv, functionEnv } from '../../local/runtime/functions.ts';
import type { LocalStack } from '../../local/stack-file.ts';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import { resetStores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { createToken, revokeTokens, type UsersStore } from '../../shared/adapters/dynamodb/users.ts';
import { resolveTopology } from '../../shared/topology.ts';
import type { SmokeResponse, SmokeTarget } from './steps.ts';

/** What `npm start` records (local/stack-file.ts), and the API's token (a test writes its own). */
export type SmokeStack = Omit<LocalStack, 'prefix'> & {
  prefix?: string;
  /** The API's bearer token (else API_TOKEN, else .data/api-token). */
  token?: string;
};

export function readSmokeStack(file: string): SmokeStack {
  const stack = JSON.parse(readFileSync(resolve(file), 'utf8')) as SmokeStack;
  const token = stack.token ?? process.env.API_TOKEN ?? readFileSync(resolve('.data/api-token'), 'utf8').trim();
  return { ...stack, token };
}

interface LocalStats {
  triggers?: { function: string; totalLag?: number }[];
  deadLetters?: { count: number };
  errors?: { at: number; source: string; message: string }[];
}

export function localTarget(stack: SmokeStack, region = 'us-east-1'): SmokeTarget {
  const topology = resolveTopology(stack.prefix ?? '');
  const users: UsersStore = {
    client: createDocumentClient({ endpoint: stack.dynamodbEndpoint, region }),
    table: topology.tableNames.users,
  };
  const started = Date.now();
  let baseline: LocalStats | undefined;
  const call = async (method: string, path: string, auth: string, body?: unknown): Promise<SmokeResponse> => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const stats = async (): Promise<LocalStats> => {
    const r = await call('GET', '/api/stats', `Bearer ${stack.token}`);
    // Without the stats (a pipeline started without its dashboard) nothing would be checked.
    if (r.status !== 200) throw new Error(`GET /api/stats: HTTP ${r.status} (the local alarms' source)`);
    return r.body;
  };
  void stats().then(
    (s) => {
      baseline = s;
    },
    () => {},
  );
  return {
    description: `local pipeline ${stack.url}${stack.prefix ? ` (prefix ${stack.prefix})` : ''}`,
    request: (method, path, body) => call(method, path, `Bearer ${stack.token}`, body),
    listenerRequest: (token, method, path, body) => call(method, path, `Token ${token}`, body),
    createListenerToken: (userId) => createToken(users, userId),
    revokeListenerTokens: (userId) => revokeTokens(users, userId),
    async runBatch() {
      applyFunctionEnv({
        ...functionEnv({ topology, kafkaBrokers: stack.kafkaBrokers, dynamodbEndpoint: stack.dynamodbEndpoint }),
        ...(stack.archiveDir ? { ARCHIVE_DIR: stack.archiveDir } : {}),
      });
      resetStores();
      const { buildItemModelLocally } = await import('../../local/batch/item-model-job.ts');
      // A build of the running stack's schedule may hold the lease: wait for it, as a deployed
      // state machine's next execution would.
      for (let attempt = 0; ; attempt++) {
        const s = await buildItemModelLocally(
          storesFromEnv(),
          stack.archiveDir ? { archiveDir: stack.archiveDir } : {},
        );
        if (s.skipped === 'empty') throw new Error('the archive is empty: the listens were not archived');
        if (!s.skipped)
          return `window ${s.window?.hours} hours, ${s.kinds.a.items + s.kinds.t.items} items, ${s.itemsWritten} written, ${s.published ? `published ${s.modelId}` : 'unchanged'}, ${s.announced} announced`;
        if (attempt >= 30) throw new Error('another build held the lease for 5 minutes');
        await new Promise((ok) => setTimeout(ok, 10_000));
      }
    },
    async firingAlarms() {
      const now = await stats();
      const base = baseline ?? now;
      const firing: string[] = [];
      const dead = (now.deadLetters?.count ?? 0) - (base.deadLetters?.count ?? 0);
      if (dead > 0) firing.push(`dead letters: ${dead} since the smoke test started`);
      for (const e of (now.errors ?? []).filter((x) => x.at >= started)) firing.push(`${e.source}: ${e.message}`);
      for (const t of now.triggers ?? [])
        if ((t.totalLag ?? 0) > OFFSET_LAG_ALARM_THRESHOLD) firing.push(`${t.function}: offset lag ${t.totalLag}`);
      return firing;
    },
    async close() {
      const kafka = await import('../../shared/adapters/kafka.ts');
      await kafka.disconnectProducer();
    },
  };
}
