/**
 * A minimal little-endian byte writer and reader for the project's compact item codecs (profile
 * state, neighbour lists). DynamoDB bills an item by its bytes and the SDK's CPU grows with its
 * attribute count, so hot items keep one binary attribute instead of wide maps. Pure: no I/O.
 *
 * Strings are a varint byte length and UTF-8; numbers are varints (non-negative integers) or
 * float64 / float32. A reader that runs past the end throws `CodecError` instead of returning
 * garbage.
 */

import { CodecError } from '../errors.ts';

// The codecs built on these readers throw it too; they import it from here with the reader.
export { CodecError };

// Scratch for float64 bytes: copying 8 bytes by hand beats Buffer.writeDoubleLE's checks.
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  /** Unsigned LEB128 of a non-negative integer up to 2^53. */
  varint(v: number): void {
    if (!(v >= 0) || !Number.isSafeInteger(v)) throw new CodecError(`varint out of range: ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  f64(v: number): void {
    this.ensure(8);
    F64[0] = v;
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 8; i++) b[p++] = F64_BYTES[i]!;
    this.pos = p;
  }

  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  str(s: string): void {
    // ASCII fast path (ids almost always are): one byte per char, no encoder call.
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.varint(s.length);
      this.ensure(s.length);
      for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * `s` front-coded against `prev` (sorted ids share long prefixes: `lastfm-t-1…`): u8 count of
   * UTF-16 units shared with `prev` (at most 255, never splitting a surrogate pair), then the rest.
   */
  frontCoded(prev: string, s: string): void {
    let shared = 0;
    const max = Math.min(prev.length, s.length, 255);
    while (shared < max && prev.charCodeAt(shared) === s.charCodeAt(shared)) shared++;
    if (shared > 0 && (s.charCodeAt(shared - 1) & 0xfc00) === 0xd800) shared--;
    this.u8(shared);
    this.str(shared === 0 ? s : s.slice(shared));
  }

  /** The bytes written so far (a copy, so the writer can be dropped). */
  bytes(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos);
  }
}

export class ByteReader {
  private pos = 0;
  private readonly view: DataView;
  private readonly buf: Buffer;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.byteLength)
      throw new CodecError(`truncated: needs ${n} more bytes at ${this.pos} of ${this.bytes.byteLength}`);
  }

  get done(): boolean {
    return this.pos >= this.bytes.byteLength;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new CodecError(`varint too long at ${this.pos}`);
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  f32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  /** The inverse of `ByteWriter.frontCoded`, given the previous string read. */
  frontCoded(prev: string): string {
    const shared = this.u8();
    if (shared > prev.length)
      throw new CodecError(`a front-coded string shares ${shared} of ${prev.length} characters`);
    const rest = this.str();
    return shared === 0 ? rest : prev.slice(0, shared) + rest;
  }

  str(): string {
    const n = this.varint();
    this.need(n);
    const start = this.pos;
    this.pos += n;
    const b = this.bytes;
    for (let i = start; i < start + n; i++) if (b[i]! > 0x7f) return this.buf.toString('utf8', start, start + n);
    // ASCII: latin1 makes a flat one-byte string without UTF-8 decoding.
    return this.buf.toString('latin1', start, start + n);
  }
}
