/**
 * `npm run bench -- start`: how long the README's first command takes to be ready, and whether it
 * ever fails. Runs `npm start` (JVMs, topics and tables, the demo, the first item model build)
 * START_BENCH_RUNS times on a quiet machine and as many times beside CPU-bound neighbour processes
 * (START_BENCH_BURNERS of them, each a busy loop in its own process), alternating quiet and loaded
 * so that both see the same drift of a shared machine. Each run stops with SIGINT to its process
 * group (Ctrl-C) and must stop cleanly: "stopped." printed and no process it launched (JVMs
 * included) left after 30 s.
 *
 * Ready = the time `npm start` prints in "tunestream is running (ready in X s)"; the wall time from
 * spawn to that line (npm and tsx start-up included) is reported beside it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { log } from './env.ts';
import { percentile } from './lib.ts';

interface StartRun {
  mode: 'quiet' | 'loaded';
  ok: boolean;
  readySeconds?: number;
  wallSeconds?: number;
  /** The error line (or the last lines of stderr) of a failed start. */
  failure?: string;
  cleanExit?: boolean;
  /** The 1-minute load average when the start began (the machine is shared). */
  loadAtStart?: number;
}

const READY = /tunestream is running \(ready in ([\d.]+) s\)/;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  signalProcess(-pid, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Every live process below `root` (from /proc's parent links; Linux), `root` included. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {}
  }
  const out = [root];
  for (let k = 0; k < out.length; k++) out.push(...(children.get(out[k]!) ?? []));
  return out;
}

/** Whether every process of `pids` has exited within `ms`. */
async function allGone(pids: readonly number[], ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (!pids.some((pid) => signalProcess(pid, 0))) return true;
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What runs now, so that a Ctrl-C of the bench stops it too (the start runs in its own group). */
const live = { start: undefined as number | undefined, burners: new Set<ChildProcess>() };

/** A CPU-bound neighbour: a busy loop in its own Node process. */
function burner(): ChildProcess {
  const b = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  live.burners.add(b);
  b.on('exit', () => live.burners.delete(b));
  return b;
}

function stopLive(): void {
  if (live.start !== undefined) signalGroup(live.start, 'SIGINT');
  for (const b of live.burners) b.kill('SIGKILL');
}

async function oneStart(mode: StartRun['mode'], timeoutMs: number): Promise<StartRun> {
  const port = await freePort();
  const loadAtStart = loadavg()[0]!;
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent', '--', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOCAL_SCHEDULE_SECONDS: '60' },
    detached: true,
  });
  live.start = child.pid;
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const outcome = await new Promise<{ ready?: number; wall?: number; failure?: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ failure: `not ready within ${timeoutMs / 1000} s` }), timeoutMs);
    const check = setInterval(() => {
      const m = READY.exec(out);
      if (m) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ ready: Number(m[1]), wall: (performance.now() - started) / 1000 });
      }
    }, 100);
    exited.then((code) => {
      if (READY.test(out)) return;
      clearInterval(check);
      clearTimeout(timer);
      const lines = err.trim().split('\n');
      resolve({ failure: `exited ${code}: ${lines.slice(-3).join(' | ')}` });
    });
  });
  // Ctrl-C, as a user stops it: SIGINT to the whole process group (npm, tsx, node), as a terminal
  // sends it. npm itself dies of the signal (its convention), and the JVMs run in their own groups
  // (the runtime stops them), so a clean stop is judged by what matters: the runtime says
  // "stopped." and no process the start launched (its descendants, JVMs included) is left.
  const launched = descendants(child.pid!);
  if (child.exitCode === null) signalGroup(child.pid!, 'SIGINT');
  await exited;
  const emptied = await allGone(launched, 30_000);
  if (!emptied) for (const pid of launched) signalProcess(pid, 'SIGKILL');
  // The last writer is gone: let its last lines drain from the pipe.
  await Promise.race([new Promise((r) => child.stderr!.once('close', r)), new Promise((r) => setTimeout(r, 2_000))]);
  live.start = undefined;
  const cleanExit = emptied && /^stopped\.$/m.test(err);
  return {
    mode,
    ok: outcome.failure === undefined,
    ...(outcome.ready !== undefined ? { readySeconds: outcome.ready, wallSeconds: outcome.wall } : {}),
    ...(outcome.failure ? { failure: outcome.failure } : {}),
    cleanExit,
    loadAtStart,
  };
}

export async function startBench(quick: boolean) {
  const runs = Number(process.env.START_BENCH_RUNS ?? (quick ? 2 : 10));
  const burners = Number(process.env.START_BENCH_BURNERS ?? 1);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`START_BENCH_RUNS must be a positive integer`);
  if (!Number.isInteger(burners) || burners < 0) throw new Error(`START_BENCH_BURNERS must be a whole number`);
  const timeoutMs = 180_000;
  const results: StartRun[] = [];
  process.on('SIGINT', stopLive);
  for (let i = 0; i < runs; i++) {
    for (const mode of ['quiet', 'loaded'] as const) {
      const neighbours = mode === 'loaded' ? Array.from({ length: burners }, burner) : [];
      try {
        const r = await oneStart(mode, timeoutMs);
        results.push(r);
        log(
          `start ${i + 1}/${runs} ${mode} (load ${r.loadAtStart?.toFixed(1)}): ${r.ok ? `ready in ${r.readySeconds} s (wall ${r.wallSeconds?.toFixed(1)} s)` : `FAILED ${r.failure}`}${r.cleanExit ? '' : ', did not stop cleanly on SIGINT'}`,
        );
      } finally {
        for (const b of neighbours) b.kill('SIGKILL');
      }
    }
  }
  process.off('SIGINT', stopLive);
  const summary = (mode: StartRun['mode']) => {
    const mine = results.filter((r) => r.mode === mode);
    const ready = mine.filter((r) => r.ok).map((r) => r.readySeconds!);
    const wall = mine.filter((r) => r.ok).map((r) => r.wallSeconds!);
    return {
      starts: mine.length,
      ready: ready.length,
      failures: mine.filter((r) => !r.ok).map((r) => r.failure),
      uncleanExits: mine.filter((r) => !r.cleanExit).length,
      readyP50Seconds: percentile(ready, 50),
      readyP95Seconds: percentile(ready, 95),
      readyMaxSeconds: Math.max(...ready),
      wallP50Seconds: percentile(wall, 50),
      loadAtStartP50: percentile(
        mine.map((r) => r.loadAtStart ?? 0),
        50,
      ),
    };
  };
  return { burners, quiet: summary('quiet'), loaded: summary('loaded') };
}
