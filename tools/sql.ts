/**
 * `npm run sql -- "<query>" [--archive DIR] [--json]`: ad-hoc SQL over the event archive with
 * DuckDB embedded. The archive is registered as `events` (one row per archived listen event, plus
 * its hour partition columns year, month, day, hour) and `deletions` (forgotten listeners) — the
 * names and columns of the Glue tables Athena queries in the cloud.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { archiveSize, EVENT_COLUMNS, openArchiveDb } from '../shared/adapters/duckdb.ts';

const USAGE = `Usage: npm run sql -- "<query>" [--archive DIR] [--json]

Runs one SQL query on DuckDB embedded over the event archive (default ARCHIVE_DIR or .data/archive).
Tables:
  events      ${Object.keys(EVENT_COLUMNS).join(', ')}, year, month, day, hour
  deletions   userId, deletedAt
Example (plays per artist per hour):
  npm run sql -- "SELECT year, month, day, hour, artistId, count(*) AS plays FROM events
                  WHERE type = 'play' GROUP BY ALL ORDER BY plays DESC LIMIT 20"
Options: --archive DIR, --json (one JSON object per row), -h/--help.
`;

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      archive: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const query = positionals.join(' ').trim();
  if (!query) {
    process.stderr.write(USAGE);
    return 2;
  }
  const dir = resolve(values.archive ?? (process.env.ARCHIVE_DIR || '.data/archive'));
  const size = await archiveSize(dir);
  process.stderr.write(`[sql] archive ${dir}: ${size.files} objects, ${(size.bytes / 1e6).toFixed(1)} MB\n`);
  const db = await openArchiveDb(dir);
  const interrupt = () => db.interrupt();
  process.once('SIGINT', interrupt);
  try {
    const t0 = performance.now();
    const rows = await db.rows(query);
    if (values.json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (rows.length > 0) {
      const cols = Object.keys(rows[0]!);
      const cells = rows.map((r) => cols.map((c) => cell(r[c])));
      const widths = cols.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
      const line = (r: string[]) => r.map((v, i) => v.slice(0, 60).padEnd(widths[i]!)).join(' │ ');
      process.stdout.write(`${line(cols)}\n${widths.map((w) => '─'.repeat(w)).join('─┼─')}\n`);
      for (const r of cells) process.stdout.write(`${line(r)}\n`);
    }
    process.stderr.write(`[sql] ${rows.length} rows in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
    return 0;
  } finally {
    process.off('SIGINT', interrupt);
    db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`sql: ${(err as Error)?.message ?? err}\n`);
    process.exit(1);
  },
);
