export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  /** A promise that settles when the process we wait for has died: stop waiting at once. */
  failFast?: Promise<unknown>;
  logHint?: string;
}

/** Polls `probe` until it returns true; the last probe error is part of the timeout message. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let died = false;
  let exitCode: unknown;
  opts.failFast?.then((code) => {
    died = true;
    exitCode = code;
  });
  let lastError = '';
  while (Date.now() < deadline) {
    if (died) throw new Error(`${what} exited with code ${String(exitCode)} before becoming ready${hint(opts)}`);
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
  throw new Error(
    `${what} not ready after ${opts.timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}${hint(opts)}`,
  );
}

const hint = (opts: WaitOptions) => (opts.logHint ? `; see ${opts.logHint}` : '');
