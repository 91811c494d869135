/**
 * codec: the profile's stored form measured three ways on the same folded profiles — the
 * project's own binary codec (`profile-codec.ts`) and msgpackr (a maintained general codec) —
 * against the DynamoDB-JSON item it replaces: bytes (as DynamoDB bills them) and
 * encode / decode microseconds, medians of repeated runs. Pure: no Kafka or DynamoDB.
 */

import { convertToAttr } from '@aws-sdk/util-dynamodb';
import { pack, unpack } from 'msgpackr';
import { attributeSize } from '../shared/adapters/dynamodb/item-size.ts';
import { applyRecords, emptyProfile, type Profile } from '../shared/domain/profile/profile.ts';
import { decodeProfileState, encodeProfileState } from '../shared/domain/profile/profile-codec.ts';
import { log } from './env.ts';
import { median, rng } from './lib.ts';

/** A profile folded from `events` plays over Last.fm-like ids (`lastfm-<n>`, `lastfm-t-<n>`). */
function profileOf(events: number, seed: number): Profile {
  const r = rng(seed);
  const records = Array.from({ length: events }, (_, i) => ({
    event: {
      eventId: `e-${seed}-${i}`,
      trackId: `lastfm-t-${Math.floor(r() * 20_000)}`,
      artistId: `lastfm-${Math.floor(r() * 2_000)}`,
      ts: 1_790_000_000_000 + Math.floor(r() * 90 * 86_400_000),
      type: 'play' as const,
    },
    topicPartition: `listen-events-${i % 6}`,
    offset: i,
  }));
  return applyRecords(emptyProfile(`user-${seed}`), records, {
    genresOf: (e) => ({ rock: 0.5, indie: 0.3, [e.artistId!.endsWith('7') ? 'jazz' : 'pop']: 0.2 }),
  }).profile;
}

function timeUs(runs: number, fn: () => unknown): number {
  const samples: number[] = [];
  for (let s = 0; s < 7; s++) {
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) fn();
    samples.push(((performance.now() - t0) * 1000) / runs);
  }
  return median(samples);
}

export function codecBench(quick: boolean) {
  const runs = quick ? 300 : 2000;
  const out: Record<string, unknown>[] = [];
  for (const events of [5, 50, 500]) {
    const p = profileOf(events, events);
    const legacyBytes = attributeSize(convertToAttr(p, { removeUndefinedValues: true }));
    const own = encodeProfileState(p);
    const mp = pack(p);
    const row = {
      events,
      topArtists: Object.keys(p.topArtists).length,
      topTracks: Object.keys(p.topTracks).length,
      legacyDynamoJsonBytes: legacyBytes,
      own: {
        bytes: own.byteLength,
        encodeUs: timeUs(runs, () => encodeProfileState(p)),
        decodeUs: timeUs(runs, () => decodeProfileState(p.userId, p.version, own)),
      },
      msgpackr: {
        bytes: mp.byteLength,
        encodeUs: timeUs(runs, () => pack(p)),
        decodeUs: timeUs(runs, () => unpack(mp)),
      },
    };
    log(
      `codec: ${events} events: legacy ${legacyBytes} B; own ${row.own.bytes} B ${row.own.encodeUs.toFixed(1)}/${row.own.decodeUs.toFixed(1)} µs; msgpackr ${row.msgpackr.bytes} B ${row.msgpackr.encodeUs.toFixed(1)}/${row.msgpackr.decodeUs.toFixed(1)} µs`,
    );
    out.push(row);
  }
  return { byProfileSize: out };
}
