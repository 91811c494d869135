/**
 * The dashboard end to end in headless Chromium (Debian's /usr/bin/chromium, never a downloaded
 * browser): a local pipeline on the real broker and DynamoDB Local serves the built page and its
 * stats endpoints; the demo world is posted through the API like `npm start` does.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCatalog, demoEvents } from '../../local/demo.ts';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { experimentsStoreFromEnv } from '../../shared/adapters/dynamodb/experiments.ts';
import { HOUR_MS } from '../../shared/domain/experiments/attribution.ts';
import { triggers } from '../../shared/topology.ts';
import { type CheckedRequestInit, checkedFetch } from '../support/contract.ts';
import { writeCounters } from '../support/experiments.ts';
import { eventually, provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

const ARTIFACTS = '.vitest-artifacts/dashboard';
const TOKEN = randomBytes(16).toString('hex');
const auth = { authorization: `Bearer ${TOKEN}` };
// The page and its stats endpoints are the dashboard's, not the API's: openapi.json leaves them out.
const DASHBOARD_ENDPOINT = "the dashboard's stats endpoint";
const DASHBOARD_PAGE = 'the dashboard page';

describe('dashboard', () => {
  let pipeline: LocalPipeline;
  let browser: Browser;
  let env: Awaited<ReturnType<typeof provisionedTestEnv>>;
  const api = async (path: string, init: CheckedRequestInit = {}) =>
    checkedFetch(pipeline.url, path, { ...init, headers: { ...auth, ...init.headers } });
  const post = async (path: string, body: unknown) => {
    const res = await api(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, res.text).toBe(202);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    env = await provisionedTestEnv('dashboard');
    pipeline = await startTestPipeline(env, {
      authToken: TOKEN,
      dashboard: true,
      env: {
        NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS: '0',
        // A second variant without overrides (it ranks as control does) for the experiments panel.
        RANKING_VARIANTS: JSON.stringify([{ name: 'fresh', from: 0, to: 500 }]),
      },
    });
    // Attribution counters as the attributor writes them, hours ago, so the panel has history to
    // show. The panel's test runs before any page asks for recommendations: the answers the later
    // tests get are recorded too (the current hour), and would change its totals.
    const hour = Math.floor(Date.now() / HOUR_MS);
    const at = (hoursAgo: number) => (hour - hoursAgo) * HOUR_MS + 5 * 60_000;
    await writeCounters(
      experimentsStoreFromEnv(env.env),
      [
        ...[6, 5, 4, 3, 2, 1].map((h) => ({
          variant: 'control',
          route: 'recommendations' as const,
          strategy: 'blend',
          servedAt: at(h),
          lists: 30,
          hitLists: 6 + h,
        })),
        ...[6, 5, 4, 3, 2, 1].map((h) => ({
          variant: 'fresh',
          route: 'recommendations' as const,
          strategy: 'blend',
          servedAt: at(h),
          lists: 30,
          hitLists: 14 + h,
        })),
        { variant: 'control', route: 'radio', strategy: 'seed', servedAt: at(3), lists: 12, hitLists: 3 },
        { variant: 'fresh', route: 'radio', strategy: 'seed', servedAt: at(3), lists: 10, hitLists: 3 },
      ],
      [
        { variant: 'control', ts: at(2), count: 200 },
        { variant: 'fresh', ts: at(2), count: 150 },
      ],
    );
    const catalog = demoCatalog();
    await post('/tracks', { tracks: catalog });
    await eventually(
      async () => ((await api(`/tracks/${catalog.at(-1)!.trackId}`)).status === 200 ? true : undefined),
      {
        what: 'catalog',
        timeoutMs: 30_000,
      },
    );
    await post('/events', { events: demoEvents(Date.now()) });
    // A record no trigger can decode: it must surface as a dead letter on the dashboard.
    const producer = env.kafka().producer();
    await producer.connect();
    await producer.send({ topic: env.topology.topicNames.listenEvents, messages: [{ key: 'x', value: 'not json' }] });
    await producer.disconnect();
    await eventually(
      async () => {
        const res = await api('/users/demo-ana/neighbors');
        return res.status === 200 && (res.body as { neighbors: unknown[] }).neighbors.length > 0 ? true : undefined;
      },
      { what: 'demo-ana neighbours', timeoutMs: 60_000 },
    );
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
  });

  it('guards the stats endpoints and rejects bad queries, while the page itself is public', async () => {
    const anon = await checkedFetch(pipeline.url, '/api/stats', { outsideContract: DASHBOARD_ENDPOINT });
    expect(anon.status).toBe(401);
    expect((await checkedFetch(pipeline.url, '/api/stream', { outsideContract: DASHBOARD_ENDPOINT })).status).toBe(401);
    const anonExperiments = await checkedFetch(pipeline.url, '/api/experiments', {
      outsideContract: DASHBOARD_ENDPOINT,
    });
    expect(anonExperiments.status).toBe(401);
    const badWindow = await api('/api/experiments?hours=0', { outsideContract: DASHBOARD_ENDPOINT });
    expect(badWindow.status).toBe(400);
    expect((badWindow.body as { errors: { path: string }[] }).errors.map((i) => i.path)).toEqual(['hours']);
    const bad = await api('/api/stream?since=-3&type=scrobble', { outsideContract: DASHBOARD_ENDPOINT });
    expect(bad.status).toBe(400);
    // The API's error shape (the dashboard-stats function answers, locally as in the cloud).
    const body = bad.body as { errors: { path: string }[] };
    expect(body.errors.map((i) => i.path).sort()).toEqual(['since', 'type']);
    expect((await api('/api/stream?color=red', { outsideContract: DASHBOARD_ENDPOINT })).status).toBe(400);

    const page = await checkedFetch(pipeline.url, '/', { outsideContract: DASHBOARD_PAGE });
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.text).not.toContain(TOKEN);
    const traversal = await checkedFetch(pipeline.url, '/assets/..%2f..%2fpackage.json', {
      outsideContract: DASHBOARD_PAGE,
    });
    expect(traversal.status).toBe(404);
  });

  it('shows whether recommendations are working: hit rate per route and variant over time, with intervals', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${pipeline.url}/?token=${TOKEN}`);
    const panel = page.locator('[data-testid=experiments]');
    const rows = panel.locator('[data-testid=experiments-table] tr');
    // A header; per route a group row and a row per variant; the share of listening likewise.
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1 + 3 * 3);
    await panel.scrollIntoViewIfNeeded();

    // One chart per route, each a line and a band per variant.
    const charts = panel.locator('[data-testid=hit-rate-chart]');
    expect(await Promise.all((await charts.all()).map((c) => c.getAttribute('data-route')))).toEqual([
      'recommendations',
      'radio',
    ]);
    expect((await charts.first().boundingBox())?.height).toBeGreaterThan(100);
    expect(await panel.locator('.exp-route h3').first().textContent()).toMatch(/Recommendations\s*control\s*fresh/);

    // Totals: 180 lists a variant; fresh's hit rate is apart from control's, radio's is not.
    const cells = async (route: string, variant: string) =>
      panel.locator(`tr[data-route="${route}"][data-variant="${variant}"] td`).allTextContents();
    expect(await cells('recommendations', 'control')).toEqual([
      'control',
      '180 lists',
      expect.stringMatching(/^31\.7 % \(\d+\.\d–\d+\.\d %\)$/),
      '—',
    ]);
    const fresh = await cells('recommendations', 'fresh');
    expect(fresh.slice(1, 3)).toEqual(['180 lists', expect.stringMatching(/^58\.3 % /)]);
    expect(fresh[3]).toMatch(/^apart, \+\d+ %$/);
    expect((await cells('radio', 'fresh'))[3]).toMatch(/^overlaps/);
    // The written plays and the demo's own (the attributor counts every play of the listeners).
    const listening = await cells('*', 'control');
    expect(Number(/^(\d+) plays$/.exec(listening[1]!)?.[1])).toBeGreaterThanOrEqual(260);
    expect(await panel.locator('tr.group').allTextContents()).toEqual([
      'Recommendations · hit rate',
      'Radio · hit rate',
      'All listening · share from recommendations',
    ]);
    await expect.poll(() => panel.locator('#exp-variants').textContent()).toMatch(/control 50 %.*fresh 50 %/);
    await page.screenshot({ path: `${ARTIFACTS}/experiments-1280x800.png` });

    // A longer window is fetched at once.
    expect(await panel.locator('#h-experiments').getAttribute('data-hours')).toBe('48');
    await page.selectOption('#exp-hours', '336');
    await expect.poll(() => panel.locator('#h-experiments').getAttribute('data-hours')).toBe('336');
    expect(await panel.locator('.exp-route canvas').count()).toBe(2);

    // Phone width: readable, no horizontal scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${ARTIFACTS}/experiments-390x844.png` });
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('streams, filters, shows health and genres, and opens a listener', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // Layout shifts while data streams in (the dashboard reserves space, so there should be ~none).
    // (Browser code as strings: the root tsconfig has no DOM types.)
    await page.addInitScript({
      content: `window.cls = 0; new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) window.cls += e.value;
      }).observe({ type: 'layout-shift', buffered: true });`,
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await page.goto(`${pipeline.url}/?token=${TOKEN}`);
    // The token leaves the address bar at once (it lives in sessionStorage).
    expect(page.url()).not.toContain(TOKEN);
    const rows = page.locator('[data-testid=stream] li[data-seq]');
    await rows.first().waitFor({ timeout: 15_000 });

    // New events arrive while the page is open.
    await post('/events', {
      events: ['play', 'like', 'play'].map((type, i) => ({
        userId: 'e2e-live',
        trackId: 'trk-slowdive-1',
        artistId: 'art-slowdive',
        ts: Date.now() - i,
        type,
        platform: 'web',
        country: 'PT',
      })),
    });
    await page.locator('[data-testid=stream] a', { hasText: 'e2e-live' }).first().waitFor({ timeout: 15_000 });

    // Health: the dead letter, lag per trigger and partition, a non-zero rate.
    await expect.poll(() => page.locator('#kpi-dlq').textContent(), { timeout: 20_000 }).toBe('1');
    await expect.poll(() => page.locator('#dlq li').first().textContent()).toMatch(/×1/);
    // A header row plus one row per trigger of the topology.
    await expect.poll(() => page.locator('[data-testid=lag-table] tr').count()).toBe(triggers.length + 1);
    expect(Number(await page.locator('#kpi-rate').textContent())).toBeGreaterThan(0);
    // Genres: the demo's shoegaze and friends with their top tracks.
    await expect.poll(() => page.locator('#top-tracks').textContent()).toMatch(/shoegaze · \d+/);

    // Filters: type, then genre + country narrow the stream to matching rows only.
    await page.selectOption('#filters select[name=type]', 'like');
    await expect.poll(() => page.locator('[data-testid=stream] .badge').allTextContents()).not.toHaveLength(0);
    expect(new Set(await page.locator('[data-testid=stream] .badge').allTextContents())).toEqual(new Set(['like']));
    await page.selectOption('#filters select[name=type]', '');
    await page.selectOption('#filters select[name=country]', 'PT');
    await page.fill('#filters input[name=user]', 'e2e-live');
    await expect
      .poll(() => page.locator('[data-testid=stream] .user').allTextContents())
      .toEqual(Array(3).fill('e2e-live'));
    expect(new Set(await page.locator('[data-testid=stream] .country').allTextContents())).toEqual(new Set(['PT']));
    await page.fill('#filters input[name=user]', '');
    await page.selectOption('#filters select[name=country]', '');
    await rows.nth(20).waitFor();
    await page.waitForTimeout(2500); // a few more polls for the layout-shift measure
    await page.screenshot({ path: `${ARTIFACTS}/overview-1280x800.png` });

    // The listener page: genre profile chart, neighbours, recommendations with reasons, the session
    // (the profile's recent listens) and the radio beside them.
    await page.fill('#user-search input', 'demo-ana');
    await page.press('#user-search input', 'Enter');
    await expect.poll(() => page.locator('#listener-title').textContent()).toBe('Listener demo-ana');
    await expect.poll(() => page.locator('#listener-summary').textContent()).toMatch(/events folded/);
    expect(await page.locator('[data-testid=profile-chart]').isVisible()).toBe(true);
    const neighbors = page.locator('[data-testid=neighbors] a');
    await expect.poll(() => neighbors.count()).toBeGreaterThan(0);
    const recs = page.locator('[data-testid=recommendations] li');
    await expect.poll(() => recs.count()).toBeGreaterThan(0);
    expect((await recs.locator('.why').first().textContent())?.length).toBeGreaterThan(5);
    await expect.poll(() => page.locator('[data-testid=recent-plays] .badge').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-testid=radio] .why').count()).toBeGreaterThan(0);
    expect(await recs.locator('.chip').first().textContent()).not.toBe('');
    await page.screenshot({ path: `${ARTIFACTS}/listener-1280x800.png` });

    // Click through to a neighbour.
    const neighbor = (await neighbors.first().textContent())!;
    await neighbors.first().click();
    await expect.poll(() => page.locator('#listener-title').textContent()).toBe(`Listener ${neighbor}`);

    // Phone width: readable, no horizontal scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.fill('#user-search input', 'demo-ana');
    await page.press('#user-search input', 'Enter');
    await expect.poll(() => page.locator('[data-testid=recommendations] .why').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/listener-390x844.png`, fullPage: true });
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
    await page.click('[data-nav=overview]');
    await rows.first().waitFor();
    await page.waitForTimeout(2000);
    await page.screenshot({ path: `${ARTIFACTS}/overview-390x844.png`, fullPage: true });
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);

    expect(pageErrors).toEqual([]);
    const cls = Number(await page.evaluate('window.cls'));
    expect(cls).toBeLessThan(0.1);
    await context.close();
  });
});
