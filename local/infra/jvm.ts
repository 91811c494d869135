/**
 * Resolving and launching the JVM components (Kafka broker, DynamoDB Local) without Docker:
 * Maven resolves the pinned artifacts once into a cache outside the repo; later runs are offline.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const POM_DIR = resolve(here, '..', 'jvm');

export type Component = 'kafka' | 'dynamodb' | 'trino-parser';

export function cacheRoot(): string {
  return (
    process.env.TUNESTREAM_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tunestream')
  );
}

export function componentDir(component: Component): string {
  return join(cacheRoot(), 'jvm', component);
}

export class PrerequisiteError extends Error {}

const DOCKER_HINT =
  'Without Java 17+ and Maven you can still run everything against containers: start Redpanda and DynamoDB Local ' +
  '(docker compose -f docker-compose.localstack.yml up -d) and set KAFKA_BROKERS=127.0.0.1:19092 ' +
  'DYNAMODB_ENDPOINT=http://127.0.0.1:8000; then no JVM is started.';

/** Java major version, or a clear error that also names the Docker alternative. */
export function checkJava(): number {
  // `java -version` prints to stderr.
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) throw new PrerequisiteError(`Java 17+ is required to run Kafka and DynamoDB Local. ${DOCKER_HINT}`);
  const out = `${probe.stderr ?? ''}${probe.stdout ?? ''}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(out);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : Number.NaN;
  if (!(major >= 17))
    throw new PrerequisiteError(`Java 17+ is required, found: ${out.split('\n')[0] ?? 'unknown'}. ${DOCKER_HINT}`);
  return major;
}

export function checkMaven(): void {
  try {
    execFileSync('mvn', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new PrerequisiteError(
      `Maven is required once, to fetch Kafka and DynamoDB Local from Maven Central. ${DOCKER_HINT}`,
    );
  }
}

function isResolved(component: Component): boolean {
  const dir = componentDir(component);
  if (!existsSync(join(dir, '.resolved'))) return false;
  return readdirSync(dir).some((f) => f.endsWith('.jar'));
}

/** Resolves a component's jars into the cache (no-op when already there). Returns seconds spent. */
export async function resolveComponent(component: Component, log: (line: string) => void = () => {}): Promise<number> {
  const dir = componentDir(component);
  const pom = join(POM_DIR, `${component}.pom.xml`);
  const marker = join(dir, '.resolved');
  // The marker records the pom's content hash: a fresh clone is not a change, a new pinned version is.
  const pomStamp = createHash('sha256').update(readFileSync(pom)).digest('hex');
  if (isResolved(component) && readFileSync(marker, 'utf8') === pomStamp) return 0;
  checkMaven();
  mkdirSync(dir, { recursive: true });
  log(`resolving ${component} from Maven Central into ${dir} (first run only)…`);
  const started = performance.now();
  await new Promise<void>((ok, fail) => {
    const child = spawn(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${dir}`,
        // Stable file names: sqlite4java looks for libsqlite4java-linux-amd64.so by that exact name.
        '-Dmdep.stripVersion=true',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`mvn failed resolving ${component} (exit ${code}):\n${output.slice(-4000)}`)),
    );
  });
  writeFileSync(marker, pomStamp);
  return (performance.now() - started) / 1000;
}

export interface JvmProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  stop(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code when the JVM exits on its own (a crash). */
  readonly exited: Promise<number | null>;
}

/**
 * Starts a JVM whose stdout/stderr go to a log file. On Linux it runs under `setpriv --pdeathsig`
 * so the JVM dies with its parent even when the parent is SIGKILLed: no orphan JVMs.
 */
export function launchJvm(name: string, javaArgs: string[], logFile: string): JvmProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = createWriteStream(logFile, { flags: 'a' });
  const usePdeathsig = process.platform === 'linux' && existsSync('/usr/bin/setpriv');
  const [cmd, args] = usePdeathsig
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', 'java', ...javaArgs]]
    : ['java', javaArgs];
  // Own process group: Ctrl-C in a terminal signals the whole foreground group, and the JVMs must
  // outlive the pipeline's clean stop (commits, disconnects) — we stop them last ourselves.
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((ok) =>
    child.on('exit', (code) => {
      exitCode = code;
      ok(code);
    }),
  );
  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    out.end();
  };
  return { name, child, logFile, stop, exited };
}

/** Resident set size of a process in MiB (Linux /proc), or undefined elsewhere. */
export function residentMiB(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    // Under setpriv the JVM replaces setpriv via exec, so the pid is the JVM's.
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
