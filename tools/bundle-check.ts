/**
 * Function bundles as `cdk synth` builds them (NodejsFunction: local esbuild, the options in
 * cdk/constructs/function-defaults.ts), each imported in a plain Node process the way the Lambda
 * runtime loads it: the exported handler must be an async function, nothing may be missing, and
 * every module a bundle still imports must be a Node built-in (Lambda's image has nothing else).
 * test/cdk/stack.test.ts checks the bundles of its synthesis; `npm run bundle-check` prints sizes
 * and import times for BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';

export interface BundleProbe {
  /** Construct path of the function, e.g. tunestream-dev/Functions/read-api. */
  readonly function: string;
  readonly file: string;
  readonly bytes: number;
  readonly mapBytes: number;
  /** Milliseconds for `await import(bundle)` in a fresh Node process (module load + top-level code). */
  readonly importMs: number;
  readonly handlerType: string;
  readonly handlerIsAsync: boolean;
  /** esbuild's errors for modules the bundle imports that are neither in it nor Node built-ins. */
  readonly nonBuiltinImports: readonly string[];
  readonly error?: string;
}

// Runs in the child: import the bundle, time it, describe `handler`.
const PROBE = `
const t0 = performance.now();
try {
  const mod = await import(process.argv[1]);
  const importMs = performance.now() - t0;
  const h = mod.handler;
  process.stdout.write(JSON.stringify({ importMs, handlerType: typeof h, handlerIsAsync: h?.constructor?.name === 'AsyncFunction' }));
} catch (err) {
  process.stdout.write(JSON.stringify({ importMs: -1, handlerType: 'none', handlerIsAsync: false, error: String(err?.stack ?? err).slice(0, 2000) }));
}`;

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Modules the bundle loads that are neither in it nor Node built-ins, found by esbuild parsing the
 * bundle (text in strings is not mistaken for an import). Lambda's image would have none of them.
 * A require() inside try/catch is an optional dependency (the AWS SDK's CRT signer): esbuild
 * reports it as a warning, not an error, and so does this check.
 */
export async function unresolvedImports(file: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  const result = await esbuild
    .build({
      entryPoints: [file],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      external: [...BUILTINS],
    })
    .then(
      () => [] as string[],
      (err: { errors?: { text: string }[] }) => (err.errors ?? []).map((e) => e.text),
    );
  return result;
}

/** Imports one bundle in a fresh `node` with a Lambda-like env (region, and the function's own variables). */
export async function probeBundle(
  functionPath: string,
  file: string,
  env: Record<string, string> = {},
): Promise<BundleProbe> {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, file], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', ...env },
    timeout: 60_000,
  });
  const out = JSON.parse(r.stdout || '{}') as Partial<BundleProbe>;
  let mapBytes = 0;
  try {
    mapBytes = statSync(`${file}.map`).size;
  } catch {}
  return {
    function: functionPath,
    file,
    bytes: statSync(file).size,
    mapBytes,
    importMs: out.importMs ?? -1,
    handlerType: out.handlerType ?? 'none',
    handlerIsAsync: out.handlerIsAsync ?? false,
    nonBuiltinImports: await unresolvedImports(file),
    ...(out.error || r.status !== 0 ? { error: out.error ?? r.stderr } : {}),
  };
}

/** Every NodejsFunction of a synthesized stack with its bundle (index.mjs) in the cloud assembly. */
export function bundlesOf(stack: Stack, outdir: string): { function: NodejsFunction; file: string }[] {
  const template = JSON.parse(readFileSync(join(outdir, stack.templateFile), 'utf8')) as {
    Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }>;
  };
  return stack.node
    .findAll()
    .filter((c): c is NodejsFunction => c instanceof NodejsFunction)
    .map((fn) => {
      const id = stack.getLogicalId(fn.node.defaultChild as CfnFunction);
      const key = template.Resources[id]?.Properties.Code?.S3Key;
      if (!key) throw new Error(`${fn.node.path}: no S3Key in the template`);
      return { function: fn, file: join(outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs') };
    });
}

async function main(): Promise<number> {
  const { buildApp } = await import('../cdk/build-app.ts');
  const { REPO_ROOT } = await import('../cdk/constructs/function-defaults.ts');
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const outdir = mkdtempSync(join(tmpdir(), 'tunestream-bundles-'));
  const t0 = performance.now();
  const { app, stack } = buildApp({ context: cdkJson.context, outdir });
  app.synth();
  process.stderr.write(`[bundles] synthesized with bundling in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const runs = 3;
  let failed = 0;
  const rows: string[] = [
    '| function | bundle KiB | source map KiB | import ms (median of 3, fresh node) |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const b of bundlesOf(stack, outdir)) {
    const probes: BundleProbe[] = [];
    for (let i = 0; i < runs; i++) probes.push(await probeBundle(b.function.node.path, b.file));
    const first = probes[0]!;
    if (first.error || !first.handlerIsAsync || first.nonBuiltinImports.length > 0) {
      failed++;
      process.stderr.write(`[bundles] ${first.function}: ${JSON.stringify(first)}\n`);
    }
    const median = probes.map((p) => p.importMs).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
    rows.push(
      `| ${b.function.node.path.split('/').slice(1).join('/')} | ${(first.bytes / 1024).toFixed(0)} | ${(first.mapBytes / 1024).toFixed(0)} | ${median.toFixed(0)} |`,
    );
  }
  process.stdout.write(`${rows.join('\n')}\n`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
