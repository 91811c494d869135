/**
 * The project's one Python venv (.data/venv): created on first use with the newest usable
 * interpreter, each tool pip-installed at its pinned version. `npm run fuzz` (schemathesis) and
 * `npm run cfn-lint` share it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VENV_DIR = resolve(REPO_ROOT, '.data/venv');

export interface PythonTool {
  /** pip requirement with an exact pin, e.g. `cfn-lint==1.58.0`. */
  readonly spec: string;
  /** Console script the package installs into the venv's bin/. */
  readonly bin: string;
}

const silent = () => {};

/** Path of the tool's executable, installing the venv and the pinned version if needed. */
export function ensurePythonTool(tool: PythonTool, log: (line: string) => void = silent): string {
  const bin = resolve(VENV_DIR, 'bin', tool.bin);
  const pip = resolve(VENV_DIR, 'bin/pip');
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
  };
  if (!existsSync(pip)) {
    // CPython 3.11 has an AST recursion bug that hypothesis (schemathesis) trips over; prefer a
    // newer one. pyenv shims exist for versions that are not active, so ask each for its version.
    const python =
      process.env.PYTHON ??
      ['python3.13', 'python3.12', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0) ??
      'python3';
    log(`creating the Python venv in .data/venv with ${python}…`);
    mkdirSync(dirname(VENV_DIR), { recursive: true });
    run(python, ['-m', 'venv', VENV_DIR]);
  }
  const version = tool.spec.split('==')[1];
  if (!version) throw new Error(`${tool.spec}: pin an exact version (name==x.y.z)`);
  const installed = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (installed.status !== 0 || !`${installed.stdout}${installed.stderr}`.includes(version)) {
    log(`installing ${tool.spec} into .data/venv…`);
    run(pip, ['install', '--quiet', '--disable-pip-version-check', tool.spec]);
  }
  return bin;
}
