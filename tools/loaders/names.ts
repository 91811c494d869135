/** Stable ids from names, for sources without catalog ids (eventsim, streaming history). */
export { artistIdOf, normalizeName, trackIdOf } from '../../shared/domain/catalog/name-resolution.ts';
