// Go-style durations (`90s`, `5m`, `1h30m`, `250ms`), as Flux's intervals are written.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const parseDuration = (text: string): number => {
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
};

/** Flux adds up to 5% jitter to intervals so many sources do not sync in lockstep. */
export const withJitter = (ms: number, fraction = 0.05, random = Math.random): number =>
  Math.round(ms * (1 - fraction + 2 * fraction * random()));
