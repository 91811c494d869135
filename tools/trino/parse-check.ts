/**
 * Trino's own SQL parser over SQL texts: writes each text to a file and runs ParseCheck.java with
 * io.trino:trino-parser (resolved from Maven Central by `npm run infra:resolve`). What parses
 * here is what Athena (engine v3, Trino) accepts syntactically.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { componentDir, resolveComponent } from '../../local/infra/jvm.ts';

export interface ParseResult {
  name: string;
  ok: boolean;
  statement?: string;
  error?: string;
}

export async function trinoParse(texts: Readonly<Record<string, string>>): Promise<ParseResult[]> {
  await resolveComponent('trino-parser');
  const dir = mkdtempSync(join(tmpdir(), 'tunestream-trino-'));
  try {
    const names = Object.keys(texts);
    const files = names.map((n, i) => {
      const f = join(dir, `${i}.sql`);
      writeFileSync(f, texts[n]!);
      return f;
    });
    const run = spawnSync(
      'java',
      ['-cp', `${componentDir('trino-parser')}/*`, resolve(import.meta.dirname, 'ParseCheck.java'), ...files],
      { encoding: 'utf8', maxBuffer: 16 << 20 },
    );
    const lines = (run.stdout ?? '').split('\n').filter((l) => l.startsWith('{'));
    if (lines.length !== files.length)
      throw new Error(`ParseCheck printed ${lines.length} results for ${files.length} files: ${run.stderr}`);
    return lines.map((l, i) => {
      const r = JSON.parse(l) as { ok: boolean; statement?: string; error?: string };
      return { name: names[i]!, ...r };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
