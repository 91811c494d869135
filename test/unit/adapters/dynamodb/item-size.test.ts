/** Item sizes as DynamoDB bills them (AWS's documented rules), computed by hand. */
import { describe, expect, it } from 'vitest';
import { attributeSize } from '../../../../shared/adapters/dynamodb/item-size.ts';

describe('attributeSize', () => {
  it('counts strings and binaries by their UTF-8 bytes', () => {
    expect(attributeSize({ S: 'rock' })).toBe(4);
    expect(attributeSize({ S: 'Motörhead' })).toBe(10); // ö is 2 bytes
    expect(attributeSize({ B: new Uint8Array(7) })).toBe(7);
  });

  it('counts numbers as one byte per two significant digits plus one', () => {
    expect(attributeSize({ N: '1' })).toBe(2);
    expect(attributeSize({ N: '1000000' })).toBe(2); // trailing zeroes are trimmed
    expect(attributeSize({ N: '0.000123' })).toBe(3); // so are leading ones: 3 digits
    expect(attributeSize({ N: '-12345.678' })).toBe(5); // 8 digits
    expect(attributeSize({ N: '1.2345678901234567e-5' })).toBe(10); // 17 digits, exponent ignored
  });

  it('counts maps and lists as 3 bytes plus, per element, its key, its value and 1', () => {
    expect(attributeSize({ M: {} })).toBe(3);
    expect(attributeSize({ M: { ab: { N: '1' }, cde: { S: 'xy' } } })).toBe(3 + (2 + 2 + 1) + (3 + 2 + 1));
    expect(attributeSize({ L: [{ S: 'abc' }, { NULL: true }] })).toBe(3 + (3 + 1) + (1 + 1));
    expect(attributeSize({ M: { l: { L: [{ BOOL: true }] } } })).toBe(3 + (1 + (3 + 2) + 1));
  });
});
