// How the long-running commands (`up`, `controller`, `worker`) start. Memory: the embedded server
// holds 10,000 objects in under 150 MB with these (bench/apiserver.ts), at no cost in throughput.
// - A 4 MB semi-space keeps V8's young generation from growing to 64 MB under bursts of writes
//   (memory V8 keeps afterwards).
// - Two malloc arenas instead of one per thread: freed memory in idle arenas is otherwise kept.
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];
export const SERVER_ENV = { MALLOC_ARENA_MAX: '2' };
export const LONG_RUNNING = new Set(['up', 'controller', 'worker']);
