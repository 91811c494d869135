/**
 * Item sizes as DynamoDB bills them (AWS's documented rules): the request counter sizes PartiQL
 * and BatchWriteItem writes with them, since DynamoDB Local reports no consumed capacity for those.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * An attribute value's size as DynamoDB bills it: strings and binaries their bytes; numbers
 * 1 byte per two significant digits plus 1; maps and lists 3 bytes plus, per element, its size
 * (and key) plus 1. DynamoDB Local reports no consumed capacity for PartiQL, so profile write units
 * are computed from this; a test checks it against what DynamoDB Local reports for PutItem.
 */
export function attributeSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8Length(v.S);
  if (v.N !== undefined) return Math.ceil(significantDigits(v.N) / 2) + 1;
  if (v.M !== undefined) {
    let size = 3;
    for (const k in v.M) size += utf8Length(k) + attributeSize(v.M[k]!) + 1;
    return size;
  }
  if (v.L !== undefined) {
    let size = 3;
    for (const e of v.L) size += attributeSize(e) + 1;
    return size;
  }
  if (v.B !== undefined) return v.B.byteLength;
  if (v.NULL !== undefined || v.BOOL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((a, e) => a + utf8Length(e), 0);
  if (v.NS !== undefined) return v.NS.reduce((a, e) => a + Math.ceil(significantDigits(e) / 2) + 1, 0);
  return 0;
}

/** Digits of a decimal number string without sign, point, exponent, and leading/trailing zeroes. */
function significantDigits(n: string): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c === 101 || c === 69) break; // e / E: exponent
    if (c < 48 || c > 57) continue;
    if (c !== 48) {
      if (first < 0) first = count;
      last = count;
    }
    count++;
  }
  return first < 0 ? 1 : last - first + 1;
}

function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}
