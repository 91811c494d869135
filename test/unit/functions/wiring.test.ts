/**
 * Each handler's header names how events reach it and where they go next — `@triggeredBy <topic>`,
 * `@producesTo <topic> …`, `@routes <METHOD path>, …`, `@schedule <function's schedule>` — so a
 * reader following an event finds the next hop in the file at hand. This test holds those lines
 * to the topology (shared/topology.ts), the one definition the stack and the local runtime read:
 * a hop added to one and not the other fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  dashboardRoutes,
  type FunctionName,
  functions,
  routes,
  schedules,
  topics,
  triggers,
} from '../../../shared/topology.ts';

function header(name: FunctionName): string {
  const file = new URL(`../../../functions/${name}/handler.ts`, import.meta.url);
  const text = readFileSync(file, 'utf8');
  const m = /^\/\*\*([\s\S]*?)\*\//.exec(text);
  if (!m) throw new Error(`functions/${name}/handler.ts has no header comment`);
  return m[1]!.replace(/^\s*\* ?/gm, '');
}

function tag(text: string, name: string): string[] {
  const line = new RegExp(`^@${name}\\s+(.+)$`, 'm').exec(text)?.[1];
  if (!line) return [];
  return name === 'routes'
    ? line.split(',').map((s) => s.trim())
    : line
        .split(/\s+/)
        .map((s) => s.trim())
        .filter(Boolean);
}

const topicName = (key: keyof typeof topics) => topics[key].name;

describe('handler headers name their hops as the topology declares them', () => {
  for (const name of Object.keys(functions) as FunctionName[]) {
    it(name, () => {
      const h = header(name);
      const spec = functions[name];
      expect(tag(h, 'triggeredBy').sort(), '@triggeredBy').toEqual(
        triggers
          .filter((t) => t.function === name)
          .map((t) => topicName(t.topic))
          .sort(),
      );
      expect(tag(h, 'producesTo').sort(), '@producesTo').toEqual(spec.producesTo.map(topicName).sort());
      expect(tag(h, 'routes').sort(), '@routes').toEqual(
        [...routes, ...dashboardRoutes]
          .filter((r) => r.function === name)
          .map((r) => `${r.method} ${r.path}`)
          .sort(),
      );
      expect(tag(h, 'schedule'), '@schedule').toEqual(
        schedules.filter((s) => s.function === name).map((s) => `every-${s.everyMinutes}-minutes`),
      );
    });
  }
});
