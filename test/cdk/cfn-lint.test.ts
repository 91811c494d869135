/**
 * cfn-lint (pinned, in the project's venv) on every deployable variant of the stack: zero errors,
 * and no warning that has not been reviewed (tools/cfn-lint.ts KNOWN_WARNINGS). Plus a negative
 * control, so a linter that silently checks nothing cannot pass.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_VARIANTS, KNOWN_WARNINGS, type LintMatch, lintTemplates, synthTemplate } from '../../tools/cfn-lint.ts';

const templates = new Map<string, string>();
let matches: LintMatch[] = [];

let broken: string;

beforeAll(() => {
  for (const [variant, context] of Object.entries(DEPLOY_VARIANTS)) templates.set(variant, synthTemplate(context));
  broken = brokenCopy(templates.get('dev-serverless')!);
  // One cfn-lint run for all templates: the interpreter start and rule loading dominate.
  matches = lintTemplates([...templates.values(), broken]);
});

/** A copy of a good template with values a deploy would reject. */
function brokenCopy(good: string): string {
  const template = JSON.parse(readFileSync(good, 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const esm = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
  // Lambda allows at most 10,000 records per Kafka batch; and a misspelt poller-group property.
  esm.Properties.BatchSize = 20_000;
  (esm.Properties.ProvisionedPollerConfig as Record<string, unknown>).PollerGroup = 'typo';
  const bad = good.replace(/\.template\.json$/, '.broken.template.json');
  writeFileSync(bad, JSON.stringify(template));
  return bad;
}

describe('cfn-lint on every synthesized variant', () => {
  for (const variant of Object.keys(DEPLOY_VARIANTS)) {
    it(`${variant}: 0 errors, only reviewed warnings`, () => {
      const file = resolve(templates.get(variant)!);
      const mine = matches.filter((m) => resolve(m.file) === file);
      expect(mine.filter((m) => m.level === 'Error')).toEqual([]);
      expect(mine.filter((m) => m.level === 'Warning' && !(m.rule in KNOWN_WARNINGS))).toEqual([]);
    });
  }

  it('negative control: a template a deploy would reject gets errors', () => {
    const errors = matches.filter((m) => resolve(m.file) === resolve(broken) && m.level === 'Error');
    expect(errors.map((e) => e.path).join(' ')).toMatch(/BatchSize/);
    expect(errors.map((e) => `${e.path} ${e.message}`).join(' ')).toMatch(/PollerGroup/);
  });
});
