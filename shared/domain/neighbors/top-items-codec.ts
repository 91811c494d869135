/**
 * A user's strongest tracks and artists as the neighbour index carries them: what a refresh needs
 * to build the candidate lists of the users who find this one as a neighbour, without reading
 * their profiles. Weights are the ranking's prepared weights (square-root damped, L2-normalized),
 * quantized to 16 bits relative to the list's largest and normalized again on decode.
 *
 * Layout (version 1): u8 1 · tracks · artists, each a list of varint n, n × (u8 shared prefix,
 * str rest of id, u16 weight), ids sorted (front-coded).
 */
import { ByteReader, ByteWriter, CodecError } from '../binary.ts';
import type { PreparedItems } from '../ranking/types.ts';

export const TOP_ITEMS_CODEC_VERSION = 1;

export interface TopItems {
  tracks: PreparedItems;
  artists: PreparedItems;
}

function writeList(w: ByteWriter, items: ReadonlyMap<string, number>): void {
  let max = 0;
  for (const v of items.values()) if (v > max) max = v;
  const ids = [...items.keys()].filter((id) => items.get(id)! > 0).sort();
  w.varint(max > 0 ? ids.length : 0);
  if (!(max > 0)) return;
  let prev = '';
  for (const id of ids) {
    w.frontCoded(prev, id);
    w.u16(Math.max(1, Math.round((items.get(id)! / max) * 0xffff)));
    prev = id;
  }
}

function readList(r: ByteReader): PreparedItems {
  const n = r.varint();
  const ids: string[] = new Array(n);
  const weights = new Float64Array(n);
  let prev = '';
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const id = r.frontCoded(prev);
    const w = r.u16();
    ids[i] = id;
    weights[i] = w;
    norm += w * w;
    prev = id;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < n; i++) weights[i]! *= inv;
  }
  return { ids, weights };
}

/** Packs prepared weights (any positive scale: they are quantized relative to the largest). */
export function packTopItems(tracks: ReadonlyMap<string, number>, artists: ReadonlyMap<string, number>): Uint8Array {
  const w = new ByteWriter(64 + (tracks.size + artists.size) * 12);
  w.u8(TOP_ITEMS_CODEC_VERSION);
  writeList(w, tracks);
  writeList(w, artists);
  return w.bytes();
}

export function unpackTopItems(bytes: Uint8Array): TopItems {
  const r = new ByteReader(bytes);
  const v = r.u8();
  if (v !== TOP_ITEMS_CODEC_VERSION) throw new CodecError(`top items: unknown version ${v}`);
  const tracks = readList(r);
  const artists = readList(r);
  if (!r.done) throw new CodecError('top items: trailing bytes');
  return { tracks, artists };
}
