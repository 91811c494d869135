/**
 * The project's Python venv (.data/venv) and the pinned packages the tools and tests use: created
 * on first use, packages installed from PyPI with the venv's pip. `npm run fuzz` needs
 * schemathesis; the ListenBrainz client test needs liblistenbrainz; `npm run cfn-lint` and test/cdk
 * need cfn-lint (CI installs them up front with `npm run python:venv -- liblistenbrainz cfn-lint`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const PYTHON_PACKAGES = {
  schemathesis: 'schemathesis==4.32.5',
  liblistenbrainz: 'liblistenbrainz==0.7.0',
  'cfn-lint': 'cfn-lint==1.58.0',
} as const;
export type PythonPackage = keyof typeof PYTHON_PACKAGES;

export const VENV_DIR = resolve(import.meta.dirname, '..', '..', '.data', 'venv');
export const venvBin = (name: string): string => resolve(VENV_DIR, 'bin', name);

function run(cmd: string, args: string[], log: (line: string) => void): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`${r.stdout ?? ''}${r.stderr ?? ''}`.trim());
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
  }
}

/** The installed version of a distribution in the venv, or undefined. */
function installedVersion(dist: string): string | undefined {
  const r = spawnSync(
    venvBin('python'),
    ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(dist)}))`],
    { encoding: 'utf8' },
  );
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Creates the venv if needed and installs the pinned packages missing from it; returns the venv's python. */
export function ensurePythonPackages(
  packages: readonly PythonPackage[],
  log: (line: string) => void = (l) => process.stderr.write(`[venv] ${l}\n`),
): string {
  if (!existsSync(venvBin('pip'))) {
    // CPython 3.11 has an AST recursion bug that hypothesis (schemathesis) trips over; prefer a newer one.
    const python =
      process.env.PYTHON ??
      ['python3.13', 'python3.12', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0) ??
      'python3';
    log(`creating the Python venv in ${VENV_DIR} with ${python}…`);
    mkdirSync(resolve(VENV_DIR, '..'), { recursive: true });
    run(python, ['-m', 'venv', VENV_DIR], log);
  }
  const missing = packages
    .map((p) => PYTHON_PACKAGES[p])
    .filter((spec) => {
      const [dist, version] = spec.split('==') as [string, string];
      return installedVersion(dist) !== version;
    });
  if (missing.length > 0) {
    log(`installing ${missing.join(', ')}…`);
    run(venvBin('pip'), ['install', '--quiet', '--disable-pip-version-check', ...missing], log);
  }
  return venvBin('python');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wanted = process.argv.slice(2);
  const known = Object.keys(PYTHON_PACKAGES);
  const bad = wanted.filter((w) => !known.includes(w));
  if (wanted.length === 0 || bad.length > 0) {
    process.stderr.write(`Usage: npm run python:venv -- <${known.join('|')}>…\n`);
    process.exit(2);
  }
  ensurePythonPackages(wanted as PythonPackage[]);
  process.stderr.write(`[venv] ${wanted.join(', ')} ready in ${VENV_DIR}\n`);
}
