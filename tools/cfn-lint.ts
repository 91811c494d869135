/**
 * `npm run cfn-lint`: every deployable variant of the stack synthesized (as `cdk synth` does, cdk-nag
 * included, function bundling skipped: the template does not depend on bundle contents) and checked
 * with cfn-lint, the CloudFormation linter, against the resource specifications a real deploy is
 * validated against. Errors fail; warnings are printed. cfn-lint is pinned and installed into the
 * project's venv (.data/venv) on first use. test/cdk/cfn-lint.test.ts runs the same check.
 *
 *   npm run cfn-lint                 # all variants
 *   npm run cfn-lint -- --install    # only install cfn-lint (CI does this before the tests)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../cdk/build-app.ts';
import { REPO_ROOT } from '../cdk/constructs/function-defaults.ts';
import { ensurePythonPackages, PYTHON_PACKAGES, venvBin } from './python/venv.ts';

export const CFN_LINT = { spec: PYTHON_PACKAGES['cfn-lint'], bin: 'cfn-lint' } as const;
const ensureCfnLint = (log?: (line: string) => void): string => {
  ensurePythonPackages(['cfn-lint'], log);
  return venvBin(CFN_LINT.bin);
};

/**
 * Warnings reviewed and accepted, with why. Anything else fails test/cdk/cfn-lint.test.ts so it
 * gets a look before it gets a line here.
 */
export const KNOWN_WARNINGS: Record<string, string> = {
  W3005:
    'a DependsOn that a GetAtt/Ref already implies (aws-cdk-lib adds one per function role; the topics resource waits for the cluster explicitly): redundant, harmless',
};

/** Every combination `cdk deploy` accepts that changes the template's shape (docs/deploy.md). */
export const DEPLOY_VARIANTS: Record<string, Record<string, string>> = {
  'dev-serverless': {},
  'dev-provisioned': { msk: 'provisioned' },
  'prod-serverless': { stage: 'prod' },
  'prod-provisioned-jwt': {
    stage: 'prod',
    msk: 'provisioned',
    capacity: 'provisioned',
    batchEveryMinutes: '1440',
    jwtIssuer: 'https://issuer.example.com/',
    jwtAudience: 'tunestream-api,tunestream-web',
    alarmEmail: 'oncall@example.com',
  },
};

/**
 * Cloud assembly context from cdk.json plus `extra`, with bundling skipped for every stack (the
 * functions' and the dashboard's: neither changes the template beyond an asset hash).
 */
function contextFor(extra: Record<string, string>): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return { ...cdkJson.context, ...extra, 'aws:cdk:bundling-stacks': [] };
}

/** Synthesizes one variant into a fresh directory; returns the template file. Throws on cdk-nag findings. */
export function synthTemplate(context: Record<string, string>): string {
  const outdir = mkdtempSync(join(tmpdir(), 'tunestream-cfn-lint-'));
  const { app, stack } = buildApp({ context: contextFor(context), outdir });
  app.synth();
  return join(outdir, stack.templateFile);
}

export interface LintMatch {
  readonly file: string;
  readonly level: 'Error' | 'Warning' | 'Informational';
  readonly rule: string;
  readonly message: string;
  readonly path: string;
}

interface RawMatch {
  Filename: string;
  Level: LintMatch['level'];
  Rule: { Id: string };
  Message: string;
  Location: { Path?: (string | number)[] };
}

/** Runs cfn-lint once over the templates (one interpreter start) and returns every match. */
export function lintTemplates(templates: readonly string[], log?: (line: string) => void): LintMatch[] {
  const bin = ensureCfnLint(log);
  const r = spawnSync(bin, ['--format', 'json', '--', ...templates], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // Exit status is a bit mask of the levels found (2 error, 4 warning, 8 info); 1 is a crash.
  if (r.status === null || r.status === 1 || !r.stdout.trim().startsWith('['))
    throw new Error(`cfn-lint failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return (JSON.parse(r.stdout) as RawMatch[]).map((m) => ({
    file: m.Filename,
    level: m.Level,
    rule: m.Rule.Id,
    message: m.Message,
    path: (m.Location.Path ?? []).join('/'),
  }));
}

async function main(argv: string[]): Promise<number> {
  const log = (line: string) => process.stderr.write(`[cfn-lint] ${line}\n`);
  if (argv.includes('--install')) {
    const bin = ensureCfnLint(log);
    log(`${CFN_LINT.spec} ready at ${bin}`);
    return 0;
  }
  const files = new Map<string, string>();
  for (const [variant, context] of Object.entries(DEPLOY_VARIANTS)) {
    log(`synthesizing ${variant}…`);
    files.set(synthTemplate(context), variant);
  }
  const t0 = performance.now();
  const matches = lintTemplates([...files.keys()], log);
  log(`${CFN_LINT.spec}: ${files.size} templates in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  let errors = 0;
  for (const [file, variant] of files) {
    const mine = matches.filter((m) => resolve(m.file) === resolve(file));
    const count = (level: LintMatch['level']) => mine.filter((m) => m.level === level).length;
    errors += count('Error');
    log(`${variant}: ${count('Error')} errors, ${count('Warning')} warnings, ${count('Informational')} informational`);
    for (const m of mine) if (m.level === 'Error') log(`  ${m.rule} ${m.path}: ${m.message}`);
    const warnings = new Map<string, number>();
    for (const m of mine) if (m.level === 'Warning') warnings.set(m.rule, (warnings.get(m.rule) ?? 0) + 1);
    for (const [rule, n] of warnings) log(`  ${rule} ×${n} (${KNOWN_WARNINGS[rule] ?? 'not reviewed'})`);
  }
  return errors === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
