import { describe, expect, it } from 'vitest';
import * as errors from '../../shared/errors.ts';

describe('named errors', () => {
  it('name themselves after their class and keep the cause', () => {
    const cause = new Error('socket hang up');
    for (const [exported, ErrorClass] of Object.entries(errors)) {
      const err = new ErrorClass('it failed', { cause });
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe(exported);
      expect(err.message).toBe('it failed');
      expect(err.cause).toBe(cause);
      expect(String(err)).toBe(`${exported}: it failed`);
    }
  });
});
