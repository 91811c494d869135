/**
 * A build's window of archive hours (shared/batch/window.ts) and what Athena's partition
 * projection makes of the SQL's filter on it: the year range prunes the projected years, the hour
 * key leaves exactly the window's hours to list — never the projection's 892,800 combinations.
 */
import { describe, expect, it } from 'vitest';
import { ITEM_MODEL_PARTS, partQuery, partRunParams, windowSqlValues } from '../../../shared/batch/item-model-sql.ts';
import { type ArchiveHour, chooseWindow, hourKey, hourStart } from '../../../shared/batch/window.ts';
import { batchLayer } from '../../../shared/topology.ts';

const H = 3_600_000;
const T = Date.UTC(2026, 11, 1, 12);

/** Hours newest first, `bytes` each, and how many the consumer pulled. */
function lister(hours: readonly number[], bytes = 100) {
  const pulled = { n: 0 };
  async function* gen(): AsyncGenerator<ArchiveHour> {
    for (const ts of hours) {
      pulled.n++;
      yield { hour: hourKey(ts), bytes };
    }
  }
  return { gen, pulled };
}

const hoursBack = (n: number, from = T) => Array.from({ length: n }, (_, i) => from - i * H);

describe('chooseWindow', () => {
  it('keeps the newest hours within the day bound and stops listing there', async () => {
    const l = lister(hoursBack(24 * 10));
    const w = await chooseWindow(l.gen(), { now: T, maxDays: 3, maxBytes: 1e12 });
    expect(w).toEqual({ fromHour: hourKey(T - (72 - 1) * H), toHour: hourKey(T), hours: 72, bytes: 7200 });
    expect(l.pulled.n).toBe(73);
  });

  it('keeps within the byte budget, but always the newest hour', async () => {
    expect(await chooseWindow(lister(hoursBack(50)).gen(), { now: T, maxDays: 90, maxBytes: 1050 })).toMatchObject({
      hours: 10,
      bytes: 1000,
    });
    expect(await chooseWindow(lister(hoursBack(5), 5000).gen(), { now: T, maxDays: 90, maxBytes: 1000 })).toMatchObject(
      { fromHour: hourKey(T), toHour: hourKey(T), hours: 1 },
    );
  });

  it('skips hours more than a day ahead of the clock; an empty archive has no window', async () => {
    const w = await chooseWindow(lister([T + 30 * 24 * H, T + 2 * H, T]).gen(), { now: T, maxDays: 1, maxBytes: 1e9 });
    expect(w).toMatchObject({ toHour: hourKey(T + 2 * H), fromHour: hourKey(T), hours: 2 });
    expect(await chooseWindow(lister([]).gen(), { now: T, maxDays: 1, maxBytes: 1e9 })).toBeUndefined();
  });

  it('a historical archive gets the window of its own newest hours (replays build)', async () => {
    const old = Date.UTC(2009, 4, 1);
    const w = await chooseWindow(lister(hoursBack(48, old)).gen(), { now: T, maxDays: 1, maxBytes: 1e9 });
    expect(w).toMatchObject({ toHour: hourKey(old), hours: 24 });
    expect(hourStart(w!.toHour)).toBe(old);
  });
});

describe("the SQL's window filter under Athena's partition projection", () => {
  const [firstYear, lastYear] = batchLayer.projectionYears;
  const pad = (n: number) => String(n).padStart(2, '0');

  /**
   * What Athena does with the projected `events` table (year: integer range of the topology,
   * month 1–12, day 1–31, hour 0–23, two digits): the year column's range predicate prunes the
   * years it enumerates; the hour-key predicate is then evaluated on each projected partition, and
   * only the survivors are listed in S3.
   */
  function projected(fromHour: string, toHour: string) {
    const v = windowSqlValues({ fromHour, toHour });
    const unquote = (s: string) => s.slice(1, -1);
    let enumerated = 0;
    let listed = 0;
    for (let y = firstYear; y <= lastYear; y++) {
      const year = String(y);
      if (year < unquote(v.window_from_year) || year > unquote(v.window_to_year)) continue;
      for (let m = 1; m <= 12; m++)
        for (let d = 1; d <= 31; d++)
          for (let h = 0; h <= 23; h++) {
            enumerated++;
            const key = `${year}${pad(m)}${pad(d)}${pad(h)}`;
            if (key >= unquote(v.window_from_hour) && key <= unquote(v.window_to_hour)) listed++;
          }
    }
    return { enumerated, listed };
  }

  it('a 90-day window across New Year lists its 2,160 hours (and a calendar slip), not the 892,800 projected', () => {
    const to = Date.UTC(2027, 0, 20, 23);
    const from = to - (90 * 24 - 1) * H;
    const p = projected(hourKey(from), hourKey(to));
    // The window's hours, and the hours of dates the projection does not know are none
    // (November 31st here: 24 empty prefixes listed).
    expect(p.listed).toBe(90 * 24 + 24);
    expect(p.enumerated).toBe(2 * 12 * 31 * 24);
    expect((lastYear - firstYear + 1) * 12 * 31 * 24).toBeGreaterThan(800_000);
  });

  it('every part that reads the archive filters it by the window, one `?` per run-time parameter', () => {
    for (const part of ITEM_MODEL_PARTS) {
      const q = partQuery(part);
      const params = partRunParams(part);
      expect((q.match(/\?/g) ?? []).length, part).toBe(params.length);
      if (/\bFROM events\b/.test(q)) {
        expect(params, part).toEqual(['window_from_year', 'window_to_year', 'window_from_hour', 'window_to_hour']);
        expect(q).toContain('year BETWEEN ? AND ?');
        expect(q).toContain('concat(year, month, day, hour) BETWEEN ? AND ?');
        expect(q.match(/\bFROM events\b/g)).toHaveLength(1);
      } else expect(params, part).toEqual([]);
    }
  });
});
