/**
 * Streaming line reader shared by the loaders: node:readline over an fs stream (never a whole-file
 * read), CRLF-tolerant, with 1-based line numbers for errors.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export class BadLineError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly why: string,
  ) {
    super(`${file}:${line}: ${why} (pass --skip-bad to skip and count such lines)`);
    this.name = 'BadLineError';
  }
}

export interface LineOptions {
  /** 'latin1' for Last.fm tags.dat; default utf8. */
  encoding?: BufferEncoding;
  /** Skip the first line (a header). */
  header?: boolean;
}

export async function* readLines(
  file: string,
  opts: LineOptions = {},
): AsyncGenerator<{ line: string; lineNo: number }> {
  const rl = createInterface({
    input: createReadStream(file, { encoding: opts.encoding ?? 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNo = 0;
  for await (const raw of rl) {
    lineNo++;
    if (lineNo === 1 && opts.header) continue;
    // readline splits on \n and \r\n; a stray trailing \r (CR-only ends) is dropped too.
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) continue;
    yield { line, lineNo };
  }
}

/** Counts what a loader read, for the end-of-run summary. */
export class LoadStats {
  lines = 0;
  bad = 0;
  readonly firstBad: string[] = [];
  constructor(readonly skipBad: boolean) {}
  /** Throws unless skipping; then counts (and keeps the first few reasons for the summary). */
  reject(file: string, lineNo: number, why: string): void {
    const err = new BadLineError(file, lineNo, why);
    if (!this.skipBad) throw err;
    this.bad++;
    if (this.firstBad.length < 5) this.firstBad.push(err.message.replace(/ \(pass.*\)$/, ''));
  }
  summary(what: string): string {
    const bad = this.bad > 0 ? `, ${this.bad} bad lines skipped (first: ${this.firstBad.join('; ')})` : '';
    return `${what}: ${this.lines} lines read${bad}`;
  }
}

/** Strict non-negative integer column. */
export function intField(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}
