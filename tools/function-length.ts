/**
 * Long functions: every function, method or arrow function of the project's own code longer than
 * LIMIT lines, with the `@long <reason>` its doc comment gives (issue #25, item 4: none over ~120
 * lines without a reason; test/unit/function-length.test.ts holds the code to it).
 * A function's length is its whole span, nested functions included: the question is how much a
 * reader has to hold at once. Parsed with the TypeScript compiler API (no type checking: fast).
 *
 * Scope: shared/, functions/, local/, tools/, bench/, cdk/ (long constructors are split into
 * private methods, one per resource group). Not test/ (a describe block is one long arrow function).
 *
 * Usage: npx tsx tools/function-length.ts [--limit <lines>]   (prints every function over the limit)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const DIRS = ['shared', 'functions', 'local', 'tools', 'bench', 'cdk'];
export const LIMIT = 120;

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
  /** The `@long` reason of its doc comment, if any. */
  reason: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts)$/.test(d.name) && !d.name.endsWith('.d.ts') ? [path] : [];
  });
}

type FunctionNode = ts.FunctionLikeDeclaration;

function isFunction(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

/** The name a reader would search for: the declaration's, or the variable or property it is assigned to. */
function nameOf(node: FunctionNode): string {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

/** The doc comment that documents a function: its own, or its variable statement's. */
function docHost(node: FunctionNode): ts.Node {
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent)) return parent.parent.parent;
  if (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent;
  return node;
}

/** The `@long <reason>` of the function's doc comment (the comment right before it or its declaration). */
function longReason(node: FunctionNode): string | undefined {
  const host = docHost(node);
  const text = host.getSourceFile().getFullText();
  for (const range of ts.getLeadingCommentRanges(text, host.getFullStart()) ?? []) {
    const m = /@long[ \t]+([^\n]+)/.exec(text.slice(range.pos, range.end));
    const reason = m?.[1]?.replace(/\*\/\s*$/, '').trim();
    if (reason) return reason;
  }
  return undefined;
}

/** The functions of one source text longer than `limit` lines. */
export function functionsOver(text: string, file: string, limit = LIMIT): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (isFunction(node) && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > limit) out.push({ file, line: start + 1, name: nameOf(node), lines, reason: longReason(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Every function over `limit` lines in the checked folders, longest first. */
export function longFunctions(limit = LIMIT): LongFunction[] {
  return DIRS.flatMap((d) => sourceFiles(join(ROOT, d)))
    .flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      // A file no longer than the limit has no function over it: skip the parse (most files).
      return text.split('\n').length > limit ? functionsOver(text, relative(ROOT, file), limit) : [];
    })
    .sort((a, b) => b.lines - a.lines);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { limit: { type: 'string' } } });
  for (const f of longFunctions(Number(values.limit ?? LIMIT)))
    process.stdout.write(`${f.lines}\t${f.file}:${f.line}\t${f.name}${f.reason ? `\t@long ${f.reason}` : ''}\n`);
}
