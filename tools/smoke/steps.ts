/**
 * The post-deploy smoke test's steps, the same against a deployed stack (tools/smoke/cloud.ts:
 * SigV4, the stack's outputs, Step Functions, CloudWatch alarms) and against the local pipeline
 * (tools/smoke/local.ts: the bearer token, the local build, the local stats): a catalog and a new
 * listener's listens go in; a profile and a non-empty recommendation must come out within a
 * bound; a listener token is created and a ListenBrainz listen submitted with it; a batch build
 * runs to success; no alarm may be firing; what was created is removed. A failure names its step.
 */
import { randomBytes } from 'node:crypto';

export interface SmokeResponse {
  status: number;
  body: Record<string, unknown>;
}

/** Where the smoke test runs: the endpoints and operations a deployment offers. */
export interface SmokeTarget {
  readonly description: string;
  /** An API request with the operator's credentials (SigV4 in the cloud, the bearer token locally). */
  request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<SmokeResponse>;
  /** An API request as a listener (`Authorization: Token <token>`, the ListenBrainz routes). */
  listenerRequest(token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<SmokeResponse>;
  createListenerToken(userId: string): Promise<string>;
  revokeListenerTokens(userId: string): Promise<number>;
  /** Runs one item model build to its end; what it did, or an error. */
  runBatch(): Promise<string>;
  /** Alarms (or their local equivalents) firing now: name and reason. */
  firingAlarms(): Promise<string[]>;
  close(): Promise<void>;
}

export interface SmokeOptions {
  /** How long listens may take to become a profile and recommendations. */
  pipelineTimeoutMs: number;
  /** How long alarms may take to settle (a fresh stack's silence alarms clear within minutes). */
  alarmTimeoutMs: number;
  pollMs: number;
  log?: (line: string) => void;
}

export interface StepResult {
  step: string;
  ok: boolean;
  seconds: number;
  detail: string;
}

export interface SmokeReport {
  target: string;
  userId: string;
  ok: boolean;
  failedStep?: string;
  steps: StepResult[];
}

/** The smoke test's fixed catalog: upserted each run (idempotent, nothing accumulates). */
export const SMOKE_ARTIST = { artistId: 'smoke-artist', name: 'Smoke Test Artist', tags: ['shoegaze'] };
export const SMOKE_TRACKS = [1, 2, 3].map((n) => ({
  trackId: `smoke-track-${n}`,
  title: `Smoke Test ${n}`,
  artistName: SMOKE_ARTIST.name,
  artistId: SMOKE_ARTIST.artistId,
  tags: ['shoegaze'],
  durationMs: 200_000,
}));

class StepFailure extends Error {}

const fail = (message: string): never => {
  throw new StepFailure(message);
};

/** Polls `probe` until it returns a value or the bound passes (then fails with what it saw last). */
async function within<T>(
  opts: SmokeOptions,
  timeoutMs: number,
  what: string,
  probe: () => Promise<{ value?: T; seen: string }>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let seen = 'nothing';
  while (true) {
    const r = await probe().catch((err: Error) => ({ value: undefined, seen: `error: ${err.message}` }));
    seen = r.seen;
    if (r.value !== undefined) return r.value;
    if (Date.now() >= deadline) return fail(`${what} not within ${Math.round(timeoutMs / 1000)} s (last: ${seen})`);
    await new Promise((ok) => setTimeout(ok, opts.pollMs));
  }
}

const expectStatus = (r: SmokeResponse, status: number, what: string) => {
  if (r.status !== status)
    fail(`${what}: HTTP ${r.status} (expected ${status}): ${JSON.stringify(r.body).slice(0, 300)}`);
};

export async function runSmoke(target: SmokeTarget, opts: SmokeOptions): Promise<SmokeReport> {
  const userId = `smoke-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const steps: StepResult[] = [];
  const log = opts.log ?? (() => {});
  const step = async (name: string, run: () => Promise<string>): Promise<boolean> => {
    const t0 = performance.now();
    log(`${name}…`);
    let result: StepResult;
    try {
      result = { step: name, ok: true, seconds: 0, detail: await run() };
    } catch (err) {
      result = { step: name, ok: false, seconds: 0, detail: err instanceof Error ? err.message : String(err) };
    }
    result.seconds = (performance.now() - t0) / 1000;
    steps.push(result);
    return result.ok;
  };
  const stepsInOrder: [string, () => Promise<string>][] = [
    ['catalog', () => catalog(target, opts)],
    ['listen events', () => listens(target, userId)],
    ['profile', () => profile(target, opts, userId)],
    ['recommendations', () => recommendations(target, opts, userId)],
    ['listener token', () => listenerToken(target, userId)],
    ['batch build', () => target.runBatch()],
    ['alarms', () => alarms(target, opts)],
  ];
  for (const [name, run] of stepsInOrder) if (!(await step(name, run))) break;
  await step('cleanup', () => cleanup(target, userId));
  const failed = steps.find((s) => !s.ok);
  return { target: target.description, userId, ok: !failed, ...(failed ? { failedStep: failed.step } : {}), steps };
}

async function catalog(target: SmokeTarget, opts: SmokeOptions): Promise<string> {
  const now = Date.now();
  // Artists go in the same list as tracks (POST /tracks takes either).
  const r = await target.request('POST', '/tracks', {
    tracks: [{ ...SMOKE_ARTIST, updatedAt: now }, ...SMOKE_TRACKS.map((t) => ({ ...t, updatedAt: now }))],
  });
  expectStatus(r, 202, 'POST /tracks');
  // Listens take their genres from the catalog: it must know the tracks before they are folded.
  const last = SMOKE_TRACKS.at(-1)!.trackId;
  await within(opts, opts.pipelineTimeoutMs, `GET /tracks/${last}`, async () => {
    const t = await target.request('GET', `/tracks/${last}`);
    return { value: t.status === 200 ? true : undefined, seen: `HTTP ${t.status}` };
  });
  return `${SMOKE_TRACKS.length} tracks and their artist upserted, readable`;
}

async function listens(target: SmokeTarget, userId: string): Promise<string> {
  const now = Date.now();
  const [t1, t2] = SMOKE_TRACKS;
  const base = { userId, artistId: SMOKE_ARTIST.artistId };
  const r = await target.request('POST', '/events', {
    events: [
      { ...base, trackId: t1!.trackId, ts: now - 2000, type: 'play', msPlayed: 190_000, durationMs: 200_000 },
      { ...base, trackId: t1!.trackId, ts: now - 1000, type: 'like' },
      { ...base, trackId: t2!.trackId, ts: now, type: 'play', msPlayed: 200_000, durationMs: 200_000 },
    ],
  });
  expectStatus(r, 202, 'POST /events');
  if (r.body.accepted !== 3) fail(`POST /events accepted ${JSON.stringify(r.body.accepted)} of 3`);
  return `3 events accepted for ${userId}`;
}

async function profile(target: SmokeTarget, opts: SmokeOptions, userId: string): Promise<string> {
  const p = await within(opts, opts.pipelineTimeoutMs, `a profile with both plays for ${userId}`, async () => {
    const r = await target.request('GET', `/users/${userId}/profile`);
    const counts = r.body.counts as { plays?: number } | undefined;
    return {
      value: r.status === 200 && (counts?.plays ?? 0) >= 2 ? r.body : undefined,
      seen: `HTTP ${r.status} ${JSON.stringify(counts ?? null)}`,
    };
  });
  return `counts ${JSON.stringify(p.counts)}`;
}

async function recommendations(target: SmokeTarget, opts: SmokeOptions, userId: string): Promise<string> {
  const r = await within(opts, opts.pipelineTimeoutMs, `a non-empty recommendation for ${userId}`, async () => {
    const res = await target.request('GET', `/users/${userId}/recommendations?limit=5`);
    const items = (res.body.items as unknown[] | undefined) ?? [];
    return {
      value: res.status === 200 && items.length > 0 ? res.body : undefined,
      seen: `HTTP ${res.status}, strategy ${String(res.body.strategy)}, ${items.length} items`,
    };
  });
  const items = r.items as { id?: string; trackId?: string }[];
  return `${items.length} items (strategy ${String(r.strategy)})`;
}

async function listenerToken(target: SmokeTarget, userId: string): Promise<string> {
  const token = await target.createListenerToken(userId);
  const v = await target.listenerRequest(token, 'GET', '/1/validate-token');
  expectStatus(v, 200, 'GET /1/validate-token');
  if (v.body.valid !== true || v.body.user_name !== userId) fail(`validate-token answered ${JSON.stringify(v.body)}`);
  const t = SMOKE_TRACKS[2]!;
  const submit = await target.listenerRequest(token, 'POST', '/1/submit-listens', {
    listen_type: 'single',
    payload: [
      {
        listened_at: Math.floor(Date.now() / 1000),
        track_metadata: {
          artist_name: t.artistName,
          track_name: t.title,
          additional_info: { duration_ms: t.durationMs },
        },
      },
    ],
  });
  expectStatus(submit, 200, 'POST /1/submit-listens');
  return 'token created, validated, a ListenBrainz listen accepted';
}

async function alarms(target: SmokeTarget, opts: SmokeOptions): Promise<string> {
  await within(opts, opts.alarmTimeoutMs, 'no alarm firing', async () => {
    const firing = await target.firingAlarms();
    return { value: firing.length === 0 ? true : undefined, seen: firing.join('; ') };
  });
  return 'none firing';
}

async function cleanup(target: SmokeTarget, userId: string): Promise<string> {
  const revoked = await target.revokeListenerTokens(userId);
  const r = await target.request('DELETE', `/users/${encodeURIComponent(userId)}`);
  expectStatus(r, 200, `DELETE /users/${userId}`);
  return `${userId} forgotten (${revoked} token${revoked === 1 ? '' : 's'} revoked); the smoke catalog items stay (fixed ids, upserted each run)`;
}

/** The report as text: one line per step, then the verdict naming the failed step. */
export function formatReport(r: SmokeReport): string {
  const lines = [`tunestream smoke test: ${r.target} (listener ${r.userId})`];
  for (const s of r.steps)
    lines.push(`  ${s.ok ? '✓' : '✗'} ${s.step.padEnd(16)} ${s.seconds.toFixed(1).padStart(6)} s  ${s.detail}`);
  const failed = r.steps.find((s) => !s.ok);
  lines.push(r.ok ? 'PASSED' : `FAILED at step "${r.failedStep}": ${failed?.detail ?? ''}`);
  return `${lines.join('\n')}\n`;
}
