export * from './events.ts';
export * from './genres.ts';
export * from './item-neighbors.ts';
export * from './neighbor-index.ts';
export * from './profile.ts';
export * from './recommend.ts';
export * from './similarity.ts';
export * from './weights.ts';
