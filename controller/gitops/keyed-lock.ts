// One task at a time per key (a git directory): two reconciles sharing a checkout must not run git
// in it together, while different checkouts proceed in parallel.
const tails = new Map<string, Promise<unknown>>();

export const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => {});
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
};
