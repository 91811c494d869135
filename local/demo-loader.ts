/**
 * Loads the demo world into a running local pipeline through its HTTP API, in stages that each
 * wait for a condition no later event can overtake: the catalog is readable; every demo listener's
 * profile has folded all of its events; the item model is built (its announcement refreshes every
 * active listener against the complete index); demo-ana has neighbours and a collaborative answer.
 *
 * Why the build comes before the neighbour wait: refreshes that ran while the profiles were still
 * arriving saw a partial index (parallel partitions cannot see each other's entries until written),
 * and a refreshed list is otherwise not recomputed until the next update after the refresh interval
 * (issue #27: 60-second starts under load). The announcement is that next update, for everyone.
 *
 * Progress is printed every few seconds; a stage that does not finish says what it last saw.
 */
import { DEMO_LISTENERS, demoCatalog, demoEvents } from './demo.ts';
import type { LocalPipeline } from './pipeline.ts';

export interface DemoLoadOptions {
  url: string;
  headers: Record<string, string>;
  pipeline: Pick<LocalPipeline, 'schedules' | 'mappings'>;
  log: (line: string) => void;
  /** Per stage (default 120 s: a loaded 2-core machine finishes in well under half of it). */
  stageTimeoutMs?: number;
  /** How often progress is printed while a stage waits. */
  progressEveryMs?: number;
  now?: number;
}

export class DemoNotReadyError extends Error {
  override name = 'DemoNotReadyError';
}

/** The listener whose answers `npm start` suggests trying first. */
export const DEMO_SHOWCASE = 'demo-ana';

export async function loadDemo(opts: DemoLoadOptions): Promise<{ loaded: boolean }> {
  const api = demoApi(opts.url, opts.headers);
  if ((await api.get(`/users/${DEMO_SHOWCASE}/profile`)).status === 200) {
    opts.log('demo data already present (external services): not loading it again');
    return { loaded: false };
  }
  const stage = stageRunner(opts);
  const catalog = demoCatalog();
  opts.log(`loading the demo catalog (${catalog.length} tracks)…`);
  await api.post('/tracks', { tracks: catalog });
  const last = catalog.at(-1)!.trackId;
  await stage('catalog', async () => {
    const status = (await api.get(`/tracks/${last}`)).status;
    return { done: status === 200, seen: `GET /tracks/${last} → ${status}` };
  });

  const events = demoEvents(opts.now ?? Date.now());
  const expected = new Map<string, number>();
  for (const e of events) expected.set(e.userId, (expected.get(e.userId) ?? 0) + 1);
  opts.log(`posting ${events.length} listen events for ${expected.size} demo listeners…`);
  for (let i = 0; i < events.length; i += 500) await api.post('/events', { events: events.slice(i, i + 500) });
  await stage('profiles', async () => {
    const folded = await Promise.all(
      [...expected].map(async ([userId, n]) => ({ userId, n, got: await api.eventsFolded(userId) })),
    );
    const complete = folded.filter((f) => f.got >= f.n);
    const behind = folded.filter((f) => f.got < f.n).map((f) => `${f.userId} ${f.got}/${f.n}`);
    const total = folded.reduce((a, f) => a + Math.min(f.got, f.n), 0);
    return {
      done: behind.length === 0,
      seen: `${complete.length}/${folded.length} listeners complete, ${total}/${events.length} events folded${
        behind.length > 0 ? ` (behind: ${behind.slice(0, 4).join(', ')}${behind.length > 4 ? ', …' : ''})` : ''
      }${lagNote(opts.pipeline)}`,
    };
  });

  // The item model: co-listening and tag lists, listener counts; its announcement refreshes every
  // demo listener's neighbours and candidate set against the index that now holds everyone.
  opts.log('building the item model (its announcement refreshes every listener)…');
  await opts.pipeline.schedules.runNow('item-model-builder');
  await stage('neighbours', async () => {
    const [neighbors, recs] = await Promise.all([
      api.json(`/users/${DEMO_SHOWCASE}/neighbors`),
      api.json(`/users/${DEMO_SHOWCASE}/recommendations?limit=5`),
    ]);
    const count = (neighbors.body.neighbors as unknown[] | undefined)?.length ?? 0;
    const strategy = recs.body.strategy as string | undefined;
    return {
      done: count > 0 && strategy === 'collaborative',
      seen: `${DEMO_SHOWCASE}: ${count} neighbours (refreshed at ${neighbors.body.refreshedAt ?? 'never'}), recommendations '${strategy ?? recs.status}'${lagNote(opts.pipeline)}`,
    };
  });
  opts.log(`demo listeners (${Object.keys(DEMO_LISTENERS).length}) have profiles, neighbours and recommendations.`);
  return { loaded: true };
}

function demoApi(url: string, headers: Record<string, string>) {
  const get = (path: string) => fetch(`${url}${path}`, { headers });
  return {
    get,
    async post(path: string, body: unknown): Promise<void> {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 202) throw new Error(`POST ${path} → ${res.status}: ${await res.text()}`);
    },
    async json(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
      const res = await get(path);
      return { status: res.status, body: res.status === 200 ? ((await res.json()) as Record<string, unknown>) : {} };
    },
    async eventsFolded(userId: string): Promise<number> {
      const res = await get(`/users/${userId}/profile`);
      if (res.status !== 200) return 0;
      return ((await res.json()) as { counts: { events: number } }).counts.events;
    },
  };
}

/** Consumer lag of the triggers still behind, for the progress and the diagnosis. */
function lagNote(pipeline: Pick<LocalPipeline, 'mappings'>): string {
  const behind = pipeline.mappings
    .map((m) => ({
      group: m.groupId,
      lag: Object.values(m.stats().lagByPartition).reduce((a, b) => a + b, 0),
      inFlight: m.stats().inFlight,
    }))
    .filter((m) => m.lag > 0 || m.inFlight > 0)
    .map((m) => `${m.group} lag ${m.lag}${m.inFlight > 0 ? `, ${m.inFlight} in flight` : ''}`);
  return behind.length > 0 ? `; ${behind.join('; ')}` : '';
}

type Probe = () => Promise<{ done: boolean; seen: string }>;

/** Runs `probe` every 250 ms until done; prints what it sees every `progressEveryMs`; names the stage when stuck. */
function stageRunner(opts: DemoLoadOptions) {
  const timeoutMs = opts.stageTimeoutMs ?? 120_000;
  const every = opts.progressEveryMs ?? 5_000;
  return async (name: string, probe: Probe): Promise<void> => {
    const started = Date.now();
    let lastNote = started;
    let seen = 'nothing yet';
    while (Date.now() - started < timeoutMs) {
      try {
        const r = await probe();
        seen = r.seen;
        if (r.done) return;
      } catch (err) {
        seen = `error: ${(err as Error).message}`;
      }
      if (Date.now() - lastNote >= every) {
        lastNote = Date.now();
        opts.log(`  …${name}: ${seen} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new DemoNotReadyError(
      `demo not ready: stage '${name}' did not finish within ${timeoutMs / 1000} s; last seen: ${seen}`,
    );
  };
}
