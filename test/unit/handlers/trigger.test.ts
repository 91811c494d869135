/** The Kafka-triggered handlers' skeleton on the samples in events/ (batches without dead letters: no broker needed). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CatalogRecordV1 } from '../../../shared/domain/events/events.ts';
import { observability } from '../../../shared/handlers/observability.ts';
import { forEachLimit, runTrigger } from '../../../shared/handlers/trigger.ts';
import { resolveTopology, resourceEnv } from '../../../shared/topology.ts';
import { mskSample } from '../../support/samples.ts';

describe('runTrigger', () => {
  beforeEach(() => {
    for (const [name, value] of Object.entries(resourceEnv(resolveTopology('unit-')))) vi.stubEnv(name, value);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('runs the work on the valid records and sums up the batch with what the work counted', async () => {
    const work = vi.fn(async (valid: unknown[]) => ({ catalogWrites: valid.length }));
    const summary = await runTrigger(mskSample('catalog-updater.json'), {
      functionName: 'catalog-updater',
      schema: CatalogRecordV1,
      tools: observability('catalog-updater'),
      work,
    });
    expect(summary).toEqual({ records: 2, valid: 2, deadLettered: 0, catalogWrites: 2 });
    const [valid, all, settings] = work.mock.calls[0] as unknown as [
      { value: { updatedAt: number } }[],
      unknown[],
      object,
    ];
    expect(valid.map((v) => v.value.updatedAt)).toEqual([1795199400000, 1795199400000]);
    expect(all).toHaveLength(2);
    expect(settings).toHaveProperty('MAX_RECORD_BYTES');
  });

  it('fails the whole batch when the work throws (the event source mapping retries it)', async () => {
    const failing = runTrigger(mskSample('catalog-updater.json'), {
      functionName: 'catalog-updater',
      schema: CatalogRecordV1,
      tools: observability('catalog-updater'),
      work: async () => {
        throw new Error('table unavailable');
      },
    });
    await expect(failing).rejects.toThrow('table unavailable');
  });

  it('refuses to run without its dead-letter topic', async () => {
    vi.stubEnv('TOPIC_DEAD_LETTERS', '');
    const run = runTrigger(mskSample('catalog-updater.json'), {
      functionName: 'catalog-updater',
      schema: CatalogRecordV1,
      tools: observability('catalog-updater'),
      work: async () => ({}),
    });
    await expect(run).rejects.toMatchObject({ name: 'ConfigurationError', message: 'TOPIC_DEAD_LETTERS is not set' });
  });
});

describe('forEachLimit', () => {
  it('visits every item with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      seen.push(n);
      inFlight--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });
});
