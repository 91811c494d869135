/**
 * Short functions (issue #25, item 4): none over LIMIT lines in shared/, functions/, local/,
 * tools/, bench/ and cdk/ without a `@long <reason>` in its doc comment (tools/function-length.ts
 * says how it measures, and what it does not check: test/).
 */
import { describe, expect, it } from 'vitest';
import { functionsOver, LIMIT, longFunctions } from '../../tools/function-length.ts';

describe('function length', () => {
  it(`no function over ${LIMIT} lines without a @long reason in its doc comment`, () => {
    const unexplained = longFunctions()
      .filter((f) => !f.reason)
      .map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`);
    expect(unexplained).toEqual([]);
  }, 30_000); // parses a hundred files: seconds on a loaded machine

  it('measures whole spans, names functions as a reader searches for them, and reads @long reasons', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  x += ${i};`).join('\n');
    const text = [
      `export function plain(x: number) {\n${body(5)}\n  return x;\n}`,
      `/**\n * Why it is long.\n * @long one table, read top to bottom\n */\nfunction table(x: number) {\n${body(5)}\n  return x;\n}`,
      `/** @long a reason on one line */\nexport const arrow = (x: number) => {\n${body(5)}\n  return x;\n};`,
      `class C {\n  method(x: number) {\n${body(5)}\n    return x;\n  }\n}`,
      'const short = () => 1;',
    ].join('\n');
    const found = functionsOver(text, 'x.ts', 6).map((f) => [f.name, f.lines, f.reason]);
    expect(found).toEqual([
      ['plain', 8, undefined],
      ['table', 8, 'one table, read top to bottom'],
      ['arrow', 8, 'a reason on one line'],
      ['method', 8, undefined],
    ]);
  });
});
