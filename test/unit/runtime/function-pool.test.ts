import { describe, expect, it } from 'vitest';
import { defaultPoolSize, poolSizeFromEnv, startFunctionPool } from '../../../local/runtime/function-pool.ts';

describe('function pool size', () => {
  it('leaves two cores to the JVMs and caps at four', () => {
    expect([1, 2, 3, 4, 6, 8, 64].map((cores) => defaultPoolSize(cores))).toEqual([0, 0, 1, 2, 4, 4, 4]);
  });

  it('LOCAL_HTTP_WORKERS overrides it; 0 means in-process', () => {
    expect(poolSizeFromEnv({ LOCAL_HTTP_WORKERS: '0' })).toBe(0);
    expect(poolSizeFromEnv({ LOCAL_HTTP_WORKERS: ' 3 ' })).toBe(3);
    expect(poolSizeFromEnv({ LOCAL_HTTP_WORKERS: '' })).toBe(defaultPoolSize());
    expect(poolSizeFromEnv({})).toBe(defaultPoolSize());
    for (const bad of ['-1', '1.5', 'two', '65']) expect(() => poolSizeFromEnv({ LOCAL_HTTP_WORKERS: bad })).toThrow();
  });

  it('refuses an empty pool', () => {
    expect(() => startFunctionPool({ name: 'read-api', size: 0 })).toThrow(/≥ 1/);
  });
});
