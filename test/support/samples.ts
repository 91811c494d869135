/** The sample events in events/ (one per function and route), as the tests read them. */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, MSKEvent } from 'aws-lambda';

export const sample = (file: string): ReturnType<typeof JSON.parse> =>
  JSON.parse(readFileSync(new URL(`../../events/${file}`, import.meta.url), 'utf8'));

export const httpSample = (file: string) => sample(file) as APIGatewayProxyEventV2;
export const mskSample = (file: string) => sample(file) as MSKEvent;
