/**
 * The live dashboard: overview (pipeline health, genres, stream, are recommendations working) and
 * a listener page, switched by the URL hash (#/ and #/listener/<id>). Polls the stats endpoints
 * and the public read API.
 */
import './style.css';
import {
  AuthError,
  get,
  hasToken,
  type Neighbors,
  type Profile,
  type Radio,
  type RankedItems,
  type Recommendations,
  type Stats,
  type StreamEvent,
  type StreamPage,
  setToken,
  takeTokenFromUrl,
} from './api.ts';
import { barChart, setBars, sparkline } from './charts.ts';
import { byId, h, setOptions, time } from './dom.ts';
import { onWindowChange, pollExperiments } from './experiments.ts';

const STREAM_MS = 1500;
const STATS_MS = 2000;
const LISTENER_MS = 5000;
/** Hourly counts: a poll every half minute is plenty (the cloud caches them as long). */
const EXPERIMENTS_MS = 30_000;
const MAX_ROWS = 200;

const labels = new Map<string, string>();
const genreLabel = (g: string | null) => (g ? (labels.get(g) ?? g) : '—');

// ---------------------------------------------------------------------------------------------
// Status and auth

const status = byId('status');
function setStatus(text: string, bad = false): void {
  status.textContent = text;
  status.classList.toggle('bad', bad);
}
function failed(err: unknown): void {
  if (err instanceof AuthError) byId('auth').hidden = false;
  setStatus(err instanceof Error ? err.message : String(err), true);
}

// ---------------------------------------------------------------------------------------------
// Stream

const filters = byId<HTMLFormElement>('filters');
const eventsList = byId('events');
let cursor = 0;
let rows: StreamEvent[] = [];
/** Bumped on every filter change, so an answer to the old filters that lands late is dropped. */
let generation = 0;

function filterQuery(): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(filters)) if (typeof v === 'string' && v.trim()) q.set(k, v.trim());
  return q;
}

function eventRow(e: StreamEvent): HTMLElement {
  const track = [e.title ?? e.trackId, e.artistName].filter(Boolean).join(' — ');
  return h(
    'li',
    { 'data-seq': String(e.seq) },
    h('span', { class: 't', title: `listened ${new Date(e.ts).toLocaleString()}` }, time(e.receivedAt)),
    h('a', { href: `#/listener/${encodeURIComponent(e.userId)}`, class: 'user' }, e.userId),
    h('span', {}, h('span', { class: `badge ${e.type}` }, e.type)),
    h('span', { class: 'track', title: track }, track || '—'),
    h('span', { class: 'genre' }, genreLabel(e.genre)),
    h('span', { class: 'platform' }, e.platform ?? '—'),
    h('span', { class: 'country' }, e.country ?? '—'),
  );
}

function renderStream(): void {
  if (rows.length === 0) {
    eventsList.replaceChildren(h('li', { class: 'empty' }, 'waiting for events…'));
    return;
  }
  eventsList.replaceChildren(...rows.map(eventRow));
}

async function pollStream(): Promise<void> {
  const q = filterQuery();
  q.set('since', String(cursor));
  const asked = generation;
  const body = await get<StreamPage>(`/api/stream?${q}`);
  if (!body || asked !== generation) return;
  cursor = body.cursor;
  if (body.events.length > 0) {
    rows = [...body.events, ...rows].slice(0, MAX_ROWS);
    renderStream();
  }
}

filters.addEventListener('input', () => {
  generation++;
  cursor = 0;
  rows = [];
  renderStream();
  pollStream().catch(failed);
});
filters.addEventListener('submit', (e) => e.preventDefault());

// ---------------------------------------------------------------------------------------------
// Health and genres

const rateChart = sparkline(byId<HTMLCanvasElement>('rate-chart'));
const genreChart = barChart(byId<HTMLCanvasElement>('genre-chart'), 'events');

function renderStats(s: Stats): void {
  byId('kpi-rate').textContent = s.eventsPerSecond.toFixed(1);
  byId('kpi-total').textContent = String(s.totalEvents);
  byId('kpi-lag').textContent = String(s.triggers.reduce((a, t) => a + t.totalLag, 0));
  byId('kpi-dlq').textContent = String(s.deadLetters.count);
  rateChart.data.datasets[0]!.data = s.rateSeries;
  rateChart.update('none');

  const partitions = [...new Set(s.triggers.flatMap((t) => Object.keys(t.lag)))].sort((a, b) => +a - +b);
  byId('lag').replaceChildren(
    h(
      'table',
      { 'data-testid': 'lag-table' },
      h('tr', {}, h('th', {}, 'trigger'), ...partitions.map((p) => h('th', {}, `p${p}`)), h('th', {}, 'failures')),
      ...s.triggers.map((t) =>
        h(
          'tr',
          {},
          h('td', { title: t.topic }, t.function),
          ...partitions.map((p) => h('td', {}, t.lag[p] ?? '')),
          h('td', {}, t.failures),
        ),
      ),
    ),
  );
  const reasons = Object.entries(s.deadLetters.byReason).map(([r, n]) => `${r} ×${n}`);
  byId('dlq').replaceChildren(
    ...(s.deadLetters.latest.length === 0
      ? [h('li', { class: 'empty' }, 'none')]
      : [
          h('li', {}, reasons.join(' · ')),
          ...s.deadLetters.latest.map((d) =>
            h('li', {}, `${time(d.failedAt)} ${d.reason} — ${d.sourceTopic}[${d.partition}]@${d.offset}`),
          ),
        ]),
  );
  byId('errors').replaceChildren(
    ...(s.errors.length === 0
      ? [h('li', { class: 'empty' }, 'none')]
      : s.errors.map((e) => h('li', { title: e.message }, `${time(e.at)} ${e.source}: ${e.message}`))),
  );

  byId('genre-window').textContent = `last ${Math.round(s.genreWindowSeconds / 60)} min`;
  setBars(
    genreChart,
    s.genres.map((g) => genreLabel(g.genre)),
    s.genres.map((g) => g.count),
  );
  byId('top-tracks').replaceChildren(
    ...s.genres.map((g) =>
      h(
        'div',
        { class: 'g' },
        h('b', {}, `${genreLabel(g.genre)} · ${g.count}`),
        ...g.topTracks.map((t) => h('div', {}, `${t.plays}× ${t.title ?? t.trackId} — ${t.artistName ?? ''}`)),
      ),
    ),
  );
  const form = filters.elements;
  setOptions(
    form.namedItem('platform') as HTMLSelectElement,
    s.facets.platforms.map((p) => ({ value: p, label: p })),
  );
  setOptions(
    form.namedItem('country') as HTMLSelectElement,
    s.facets.countries.map((c) => ({ value: c, label: c })),
  );
}

async function pollStats(): Promise<void> {
  const s = await get<Stats>('/api/stats');
  if (s) renderStats(s);
}

// ---------------------------------------------------------------------------------------------
// Listener page

const profileChart = barChart(byId<HTMLCanvasElement>('profile-chart'), 'share');
let listener: string | undefined;

async function loadListener(userId: string): Promise<void> {
  const id = encodeURIComponent(userId);
  const [profile, neighbors, recs, radio] = await Promise.all([
    get<Profile>(`/users/${id}/profile`),
    get<Neighbors>(`/users/${id}/neighbors`),
    get<Recommendations>(`/users/${id}/recommendations?limit=10`),
    get<Radio>(`/users/${id}/radio?limit=10`),
  ]);
  if (listener !== userId) return; // navigated away meanwhile
  byId('listener-title').textContent = `Listener ${userId}`;
  byId('listener-summary').textContent = profile
    ? `${profile.counts.events ?? 0} events folded · last listen ${profile.lastEventTs ? new Date(profile.lastEventTs).toLocaleString() : '—'}`
    : `no profile for ${userId} yet`;
  setBars(
    profileChart,
    (profile?.genres ?? []).map((g) => g.label),
    (profile?.genres ?? []).map((g) => Math.round(g.share * 1000) / 10),
  );
  const list = neighbors?.neighbors ?? [];
  byId('neighbors').replaceChildren(
    ...(list.length === 0
      ? [h('li', { class: 'empty' }, 'no neighbours yet')]
      : list.map((n) =>
          h(
            'li',
            {},
            h('a', { href: `#/listener/${encodeURIComponent(n.userId)}` }, n.userId),
            ` ${n.similarity.toFixed(3)}`,
            h('span', { class: 'sim', style: `width:${Math.round(Math.max(0, n.similarity) * 120)}px` }),
          ),
        )),
  );
  byId('recs').replaceChildren(...rankedList(recs?.items ?? [], 'no recommendations yet'));
  byId('radio').replaceChildren(...rankedList(radio?.items ?? [], 'no radio yet'));
  byId('radio-basis').textContent = radio ? `from ${radio.basis === 'seed' ? 'a seed' : `your ${radio.basis}`}` : '';
  const strength = recs?.session?.strength ?? 0;
  byId('session-strength').textContent =
    strength > 0 ? `steers ${Math.round(strength * 100)} % of the recommendations` : 'no plays in the last hour';
  const recent = profile?.recent ?? [];
  byId('plays').replaceChildren(
    ...(recent.length === 0
      ? [h('li', { class: 'empty' }, 'no listening yet')]
      : recent.map((e) =>
          h(
            'li',
            {},
            h('span', { class: `badge ${e.type}` }, e.type),
            ` ${e.title ?? e.trackId ?? e.artistId ?? '—'}${e.artistName ? ` — ${e.artistName}` : ''} `,
            h('span', { class: 'muted' }, ago(e.ts)),
          ),
        )),
  );
}

/** Recommendations and radio: title and artist, genres, and why. */
function rankedList(items: RankedItems['items'], empty: string): HTMLElement[] {
  if (items.length === 0) return [h('li', { class: 'empty' }, empty)];
  return items.map((r) =>
    h(
      'li',
      {},
      h('div', {}, h('b', {}, r.title ?? r.trackId), r.artistName ? ` — ${r.artistName}` : ''),
      h('div', {}, ...Object.keys(r.genres).map((g) => h('span', { class: 'chip' }, genreLabel(g)))),
      h('div', { class: 'why' }, r.reasons.join(' · ')),
    ),
  );
}

function ago(ts: number): string {
  const minutes = Math.round((Date.now() - ts) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : new Date(ts).toLocaleDateString();
}

// ---------------------------------------------------------------------------------------------
// Routing and polling

function route(): void {
  const m = /^#\/listener\/(.+)$/.exec(location.hash);
  listener = m ? decodeURIComponent(m[1]!) : undefined;
  byId('overview').hidden = listener !== undefined;
  byId('listener').hidden = listener === undefined;
  if (listener) {
    byId('listener-title').textContent = `Listener ${listener}`;
    loadListener(listener).catch(failed);
  }
}

byId<HTMLFormElement>('user-search').addEventListener('submit', (e) => {
  e.preventDefault();
  const user = (new FormData(e.target as HTMLFormElement).get('user') as string).trim();
  if (user) location.hash = `#/listener/${encodeURIComponent(user)}`;
});
byId<HTMLFormElement>('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(new FormData(e.target as HTMLFormElement).get('token') as string);
  location.reload();
});

function every(ms: number, task: () => Promise<void>): void {
  const tick = async () => {
    try {
      await task();
      setStatus(`live · ${time(Date.now())}`);
    } catch (err) {
      failed(err);
    }
    setTimeout(tick, ms);
  };
  tick();
}

async function main(): Promise<void> {
  takeTokenFromUrl();
  if (!hasToken()) {
    byId('auth').hidden = false;
    setStatus('no token', true);
    return;
  }
  const genres = await get<{ genres: { id: string; label: string }[] }>('/genres');
  for (const g of genres?.genres ?? []) labels.set(g.id, g.label);
  setOptions(
    filters.elements.namedItem('genre') as HTMLSelectElement,
    (genres?.genres ?? []).map((g) => ({ value: g.id, label: g.label })),
  );
  renderStream();
  window.addEventListener('hashchange', route);
  route();
  every(STREAM_MS, () => (listener ? Promise.resolve() : pollStream()));
  every(STATS_MS, () => (listener ? Promise.resolve() : pollStats()));
  every(LISTENER_MS, () => (listener ? loadListener(listener) : Promise.resolve()));
  onWindowChange(failed);
  every(EXPERIMENTS_MS, () => (listener ? Promise.resolve() : pollExperiments()));
}

main().catch(failed);
