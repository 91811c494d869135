/**
 * Validation failures as the API reports them, `{path, message}` with paths like `events[3].ts`:
 * the HTTP error bodies, ingest's per-item rejections, and the reasons of dead letters.
 */
import type { z } from 'zod';

export interface FieldIssue {
  path: string;
  message: string;
}

/** Flatten zod issues to `{path, message}` with paths like `events[3].ts`; `prefix` is prepended. */
export function formatZodIssues(error: { issues: readonly z.core.$ZodIssue[] }, prefix = ''): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest rather than a generic "invalid input".
      const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      const base = joinPath(prefix, issue.path);
      out.push(...formatZodIssues({ issues: best }, base));
      continue;
    }
    out.push({ path: joinPath(prefix, issue.path) || '(root)', message: issue.message });
  }
  return out;
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let s = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else {
      const name = String(seg);
      s += /^[A-Za-z_$][\w$]*$/.test(name) ? (s === '' ? name : `.${name}`) : `[${JSON.stringify(name)}]`;
    }
  }
  return s;
}
