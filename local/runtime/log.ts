/**
 * The runtime logs plain lines through a callback, like local/infra: the caller decides where they
 * go (stderr, a Powertools logger, a test buffer).
 */
export type LogLine = (line: string) => void;

export const stderrLog: LogLine = (line) => {
  process.stderr.write(`${line}\n`);
};

export const silentLog: LogLine = () => {};

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
