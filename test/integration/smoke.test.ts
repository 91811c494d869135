/**
 * `npm run smoke` against a local pipeline on the real broker and DynamoDB Local: the CLI in its
 * own process, the same steps it runs after a deploy (listens → profile → recommendations, a
 * listener token and a ListenBrainz listen, a batch build, no alarm firing, clean-up), with the
 * local endpoints. And a failing run names its step and exits 1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import type { SmokeReport } from '../../tools/smoke/steps.ts';
import { checkedFetch } from '../support/contract.ts';
import { provisionedTestEnv, startTestPipeline, type TestEnv } from '../support/infra.ts';

const TOKEN = 'smoke-test-token';

function smoke(stackFile: string): Promise<{ code: number | null; report: SmokeReport; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve('tools/smoke.ts'), '--local-stack', stackFile, '--json', '--timeout', '90'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', fail);
    child.on('exit', (code) => {
      try {
        ok({ code, report: JSON.parse(out) as SmokeReport, stderr: err });
      } catch {
        fail(new Error(`smoke printed no report (exit ${code}): ${out}\n${err}`));
      }
    });
  });
}

describe('npm run smoke against the local pipeline', () => {
  let t: TestEnv;
  let pipeline: LocalPipeline;
  const dir = mkdtempSync(join(tmpdir(), 'tunestream-smoke-'));
  const stackFile = join(dir, 'local-stack.json');

  beforeAll(async () => {
    t = await provisionedTestEnv('smoke');
    pipeline = await startTestPipeline(t, {
      authToken: TOKEN,
      dashboard: true,
      env: { ARCHIVE_DIR: join(dir, 'archive'), NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS: '0' },
    });
    writeFileSync(
      stackFile,
      JSON.stringify({
        url: pipeline.url,
        dynamodbEndpoint: t.dynamodbEndpoint,
        kafkaBrokers: t.kafkaBrokers,
        prefix: t.prefix,
        archiveDir: join(dir, 'archive'),
        token: TOKEN,
      }),
    );
  });

  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every step, and forgets its listener', async () => {
    const { code, report, stderr } = await smoke(stackFile);
    expect(
      report.steps.filter((s) => !s.ok),
      stderr,
    ).toEqual([]);
    expect(report.steps.map((s) => s.step)).toEqual([
      'catalog',
      'listen events',
      'profile',
      'recommendations',
      'listener token',
      'batch build',
      'alarms',
      'cleanup',
    ]);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
    expect(report.steps.find((s) => s.step === 'batch build')?.detail).toMatch(/window \d+ hours/);
    const profile = await checkedFetch(pipeline.url, `/users/${report.userId}/profile`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(profile.status).toBe(404);
  }, 300_000);

  it('a failing step is named, the rest skipped, the exit code 1', async () => {
    const bad = join(dir, 'bad-stack.json');
    writeFileSync(
      bad,
      JSON.stringify({
        url: pipeline.url,
        dynamodbEndpoint: t.dynamodbEndpoint,
        kafkaBrokers: t.kafkaBrokers,
        prefix: t.prefix,
        token: 'not-the-token',
      }),
    );
    const { code, report } = await smoke(bad);
    expect(code).toBe(1);
    expect(report).toMatchObject({ ok: false, failedStep: 'catalog' });
    expect(report.steps[0]?.detail).toMatch(/HTTP 401/);
    expect(report.steps.map((s) => s.step)).toEqual(['catalog', 'cleanup']);
  }, 120_000);
});
