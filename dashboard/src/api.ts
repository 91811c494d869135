/**
 * The token and the one fetch wrapper. The token arrives once as `?token=` (the URL `npm start`
 * prints), moves to sessionStorage and leaves the address bar; it is never part of the build.
 */
const KEY = 'tunestream.token';

export class AuthError extends Error {}

export function takeTokenFromUrl(): void {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  sessionStorage.setItem(KEY, token);
  url.searchParams.delete('token');
  history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
}

export const hasToken = (): boolean => Boolean(sessionStorage.getItem(KEY));
export const setToken = (token: string): void => sessionStorage.setItem(KEY, token.trim());

/** GET a JSON path; 404 resolves to undefined (e.g. a listener without a profile yet). */
export async function get<T>(path: string): Promise<T | undefined> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}` } });
  if (res.status === 401) throw new AuthError('the API token was refused');
  if (res.status === 404) return undefined;
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(`${path}: ${res.status} ${body.message ?? res.statusText}`);
  }
  return (await res.json()) as T;
}

// The stats endpoints' answers: the dashboard-stats function's own types (cloud and local alike).
export type {
  ExperimentsReport,
  RateInterval,
  Stats,
  StreamEvent,
  StreamPage,
} from '../../functions/dashboard-stats/types.ts';

export interface Profile {
  userId: string;
  genres: { genre: string; label: string; share: number }[];
  counts: Record<string, number>;
  lastEventTs?: number;
  /** The newest listening events (the session), newest first. */
  recent?: {
    trackId?: string;
    artistId?: string;
    title: string | null;
    artistName: string | null;
    ts: number;
    type: string;
  }[];
}

export interface Neighbors {
  neighbors: { userId: string; similarity: number }[];
}

export interface RankedItems {
  strategy: string;
  items: {
    trackId: string;
    title: string | null;
    artistName: string | null;
    genres: Record<string, number>;
    score: number;
    reasons: string[];
  }[];
}

export interface Recommendations extends RankedItems {
  /** The session's share of the answer (null without plays in the last hour). */
  session: { strength: number } | null;
}

export interface Radio extends RankedItems {
  basis: 'seed' | 'session' | 'favourites';
}
