// Entry of a function worker thread (function-pool.ts): plain JavaScript, so it starts the same
// whether the parent runs under tsx or vitest; registers tsx's loader in this thread, then loads
// the worker proper.
import { register } from 'tsx/esm/api';

register();
await import('./function-worker.ts');
