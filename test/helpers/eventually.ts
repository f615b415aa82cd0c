// Polls until a condition holds: controllers converge asynchronously.

/** Resolves with the first truthy value of `fn`; rejects after `timeoutMs` naming `what` (and the last error). */
export const eventually = async <T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 8000,
  intervalMs = 50,
): Promise<T> => {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
};
