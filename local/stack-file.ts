/**
 * Where `npm start` records the running stack (its URL, endpoints and table prefix), so the tools
 * that talk to it find it without flags (`npm run users`, `npm run smoke -- --local`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const LOCAL_STACK_FILE = '.data/local-stack.json';

export interface LocalStack {
  url: string;
  dynamodbEndpoint: string;
  kafkaBrokers: string[];
  prefix: string;
  /** The archive the pipeline's archiver writes (the smoke test's local batch build reads it). */
  archiveDir?: string;
}

export function writeLocalStack(stack: LocalStack): void {
  writeFileSync(resolve(LOCAL_STACK_FILE), `${JSON.stringify(stack)}\n`);
}

/** The stack `npm start` recorded, or undefined when there is none. */
export function readLocalStack(): Partial<LocalStack> | undefined {
  const file = resolve(LOCAL_STACK_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalStack>;
}
