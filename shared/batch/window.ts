/**
 * Which part of the archive a build reads: its newest hour partitions, back at most
 * ITEM_MODEL_WINDOW_DAYS and at most ITEM_MODEL_WINDOW_GB of JSON lines. Decay makes old hours
 * nearly worthless to the item model, and every Athena scan of `events` reads whole objects, so
 * reading all of history would grow a build's bytes, time and bill with the archive's age.
 *
 * The window is chosen from the archive itself (newest partition first, a lister that can stop
 * early), so a build stays a pure function of the archive: historical replays still build. Only
 * hours more than a day ahead of the clock (what ingest refuses; a producer writing to Kafka
 * directly could still send them) are skipped, so one bogus timestamp cannot move the window.
 *
 * The SQL filters `events` on `year` (a range Athena's partition projection prunes column by
 * column) and on the hour key `concat(year, month, day, hour)` (evaluated on the projected
 * partitions before any is listed), so a build lists and reads only the window's hours. Pure.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** `YYYYMMDDHH` (UTC): the hour partition's key, `concat(year, month, day, hour)` in SQL. */
export function hourKey(ts: number): string {
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
}

/** The start of an hour key's hour, epoch ms. */
export function hourStart(key: string): number {
  if (!/^\d{10}$/.test(key)) throw new Error(`not an hour key: ${key}`);
  return Date.UTC(+key.slice(0, 4), +key.slice(4, 6) - 1, +key.slice(6, 8), +key.slice(8, 10));
}

/** One hour partition of the archive and the bytes of its objects. */
export interface ArchiveHour {
  hour: string;
  bytes: number;
}

export interface BuildWindow {
  /** First and last hour read (inclusive hour keys). */
  fromHour: string;
  toHour: string;
  /** Hour partitions with objects in the window, and their bytes (what one scan reads). */
  hours: number;
  bytes: number;
}

/** Every hour: what a build without a window reads (tests, the offline evaluation). */
export const ALL_HOURS: Readonly<Pick<BuildWindow, 'fromHour' | 'toHour'>> = Object.freeze({
  fromHour: '0000000000',
  toHour: '9999999999',
});

export interface WindowLimits {
  now: number;
  maxDays: number;
  maxBytes: number;
}

/**
 * The window from the archive's hours, newest first (the lister is not read past the window's
 * oldest hour). The newest hour is always in, even past the byte budget: a build reads something
 * whenever the archive holds something. Undefined for an empty archive.
 */
export async function chooseWindow(
  newestFirst: AsyncIterable<ArchiveHour>,
  { now, maxDays, maxBytes }: WindowLimits,
): Promise<BuildWindow | undefined> {
  const latest = hourKey(now + DAY_MS);
  let window: BuildWindow | undefined;
  let oldest = '';
  for await (const h of newestFirst) {
    if (h.hour > latest) continue;
    if (!window) {
      window = { fromHour: h.hour, toHour: h.hour, hours: 1, bytes: h.bytes };
      oldest = hourKey(hourStart(h.hour) - maxDays * DAY_MS + HOUR_MS);
      continue;
    }
    if (h.hour < oldest || window.bytes + h.bytes > maxBytes) break;
    window.fromHour = h.hour;
    window.hours++;
    window.bytes += h.bytes;
  }
  return window;
}

/** The limits from the topology's settings. */
export function windowLimits(
  s: Readonly<{ ITEM_MODEL_WINDOW_DAYS: number; ITEM_MODEL_WINDOW_GB: number }>,
  now: number,
): WindowLimits {
  return { now, maxDays: s.ITEM_MODEL_WINDOW_DAYS, maxBytes: s.ITEM_MODEL_WINDOW_GB * 1e9 };
}
