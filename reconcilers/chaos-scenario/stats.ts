// What agents observe, kept in HDR histograms (microseconds, 3 significant digits): the whole run,
// the current tick, a sliding window of the last ticks (what invariants read while the run goes),
// and collectors that cover a stretch of the run (each event's window, the time outside events).
import { build, type Histogram } from 'hdr-histogram-js';

/** ok: an expected status; error: another status; reset: the connection was reset or closed; timeout. */
export type Outcome = 'ok' | 'error' | 'reset' | 'timeout';

const histogram = (): Histogram =>
  build({ useWebAssembly: false, bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });

export interface Figures {
  requests: number;
  /** Every failed request: unexpected status, reset or timeout. */
  errors: number;
  resets: number;
  timeouts: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export class Bucket {
  readonly hist = histogram();
  requests = 0;
  errors = 0;
  resets = 0;
  timeouts = 0;

  record(latencyUs: number, outcome: Outcome) {
    this.hist.recordValue(Math.max(1, Math.round(latencyUs)));
    this.requests++;
    if (outcome !== 'ok') {
      this.errors++;
      if (outcome === 'reset') this.resets++;
      else if (outcome === 'timeout') this.timeouts++;
    }
  }

  add(other: Bucket) {
    if (other.requests) this.hist.add(other.hist);
    this.requests += other.requests;
    this.errors += other.errors;
    this.resets += other.resets;
    this.timeouts += other.timeouts;
  }

  clear() {
    this.hist.reset();
    this.requests = this.errors = this.resets = this.timeouts = 0;
  }

  figures(): Figures {
    const ms = (us: number) => Math.round(us) / 1000;
    const some = this.requests > 0;
    return {
      requests: this.requests,
      errors: this.errors,
      resets: this.resets,
      timeouts: this.timeouts,
      errorRate: some ? this.errors / this.requests : 0,
      p50Ms: some ? ms(this.hist.getValueAtPercentile(50)) : 0,
      p95Ms: some ? ms(this.hist.getValueAtPercentile(95)) : 0,
      p99Ms: some ? ms(this.hist.getValueAtPercentile(99)) : 0,
      maxMs: some ? ms(this.hist.maxValue) : 0,
      meanMs: some ? ms(this.hist.mean) : 0,
    };
  }
}

export class LoadStats {
  readonly total = new Bucket();
  private current = new Bucket();
  private readonly ring: Bucket[] = [];
  private readonly windowBucket = new Bucket();
  private readonly collectors = new Map<string, Bucket>();
  private readonly windowTicks: number;
  /** What the agents saw while no event was active. */
  readonly outside = new Bucket();
  outsideEvents = true;

  constructor(windowTicks: number) {
    this.windowTicks = windowTicks;
  }

  record(latencyUs: number, outcome: Outcome) {
    this.total.record(latencyUs, outcome);
    this.current.record(latencyUs, outcome);
    if (this.outsideEvents) this.outside.record(latencyUs, outcome);
    for (const c of this.collectors.values()) c.record(latencyUs, outcome);
  }

  /** Ends the tick: it joins the window (the oldest tick leaves) and the window's figures are returned. */
  closeTick(): { tick: Figures; window: Figures } {
    const tick = this.current;
    const tickFigures = tick.figures();
    this.ring.push(tick);
    const recycled = this.ring.length > this.windowTicks ? this.ring.shift() : undefined;
    if (recycled) recycled.clear();
    this.current = recycled ?? new Bucket();
    this.windowBucket.clear();
    for (const b of this.ring) this.windowBucket.add(b);
    return { tick: tickFigures, window: this.windowBucket.figures() };
  }

  open(key: string) {
    if (!this.collectors.has(key)) this.collectors.set(key, new Bucket());
  }

  /** Stops a collector and returns what it saw. */
  close(key: string): Figures | undefined {
    const b = this.collectors.get(key);
    this.collectors.delete(key);
    return b?.figures();
  }

  isOpen(key: string): boolean {
    return this.collectors.has(key);
  }
}

/** The q-quantile (0..1) of numbers, nearest rank; 0 for none. */
export const quantile = (values: readonly number[], q: number): number => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
};
