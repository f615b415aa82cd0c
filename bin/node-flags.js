// How the long-running commands start. Memory: the embedded server holds 10,000 objects in under
// 150 MB with these (bench/apiserver.ts), and `simops up` syncs and reconciles 10,000 Machines in
// under 300 MB (bench/sync.ts), at no measured cost in throughput or watch latency
// (bench/RESULTS.md).
// - A 4 MB semi-space keeps V8's young generation from growing to 64 MB under bursts of writes
//   (memory V8 keeps afterwards).
// - `up` and `controller` hold every watched object for as long as they run: their old generation
//   may grow 20 % past what the last full GC kept, not the up to 4x V8 allows itself, or bursts of
//   garbage (a sync of 10,000 objects) leave the heap, and RSS, at twice what is live.
// - Two malloc arenas instead of one per thread; for `up` and `controller` also allocations of
//   128 KiB and more (request and response bodies) mapped and unmapped on their own, and free
//   memory at the top of the heap returned past 128 KiB: glibc otherwise keeps what a burst freed.
// - `worker` keeps little between jobs and is judged by throughput (bench/workers.ts): V8's own
//   heap growth there.
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=20'];
export const SERVER_ENV = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=4'];
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' };

/** The flags and environment a command starts with; none for short commands. */
export const startupOf = (command) =>
  command === 'up' || command === 'controller'
    ? { flags: SERVER_NODE_FLAGS, env: SERVER_ENV }
    : command === 'worker'
      ? { flags: WORKER_NODE_FLAGS, env: WORKER_ENV }
      : { flags: [], env: {} };
