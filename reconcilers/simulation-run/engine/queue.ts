// The queue recurrence, FlowTime's stateful primitive:
//   Q[t] = max(0, Q[t-1] + inflow[t] - outflow[t] - loss[t])
// with an initial depth, an optional WIP limit (the excess leaves as overflow), an optional dispatch
// schedule (outflow only every `period` bins from `phase`, capped by a capacity series), and, when
// only a capacity is given, a served series derived as min(capacity, what is waiting).

export interface Dispatch {
  period: number;
  phase: number;
  capacity?: Float64Array;
}

export interface QueueSpec {
  queue: Float64Array;
  /** Summed: arrivals (or their constrained share) plus overflow from upstream queues. */
  inflow: Float64Array[];
  /** The served series when the template binds it. */
  outflow?: Float64Array;
  /** Otherwise a capacity, and `served` receives min(capacity, waiting). */
  capacity?: Float64Array;
  served?: Float64Array;
  loss?: Float64Array;
  initial: number;
  wipLimit?: Float64Array | number;
  overflow?: Float64Array;
  dispatch?: Dispatch;
}

const safe = (v: number) => (Number.isFinite(v) ? v : 0);

export const queueStep = (q: QueueSpec): ((t: number) => void) => {
  const { queue, inflow, outflow, capacity, served, loss, initial, wipLimit, overflow, dispatch } = q;
  const gate = dispatch
    ? (t: number, x: number) => {
        const phase = dispatch.phase % dispatch.period;
        if (t < phase || (t - phase) % dispatch.period !== 0) return 0;
        const cap = dispatch.capacity?.[t];
        return cap !== undefined && Number.isFinite(cap) ? Math.min(x, cap) : x;
      }
    : (_t: number, x: number) => x;
  return (t) => {
    const previous = t === 0 ? initial : queue[t - 1]!;
    let arriving = 0;
    for (const c of inflow) arriving += safe(c[t]!);
    const lost = loss ? safe(loss[t]!) : 0;
    let depth: number;
    if (outflow) {
      depth = Math.max(0, previous + arriving - gate(t, safe(outflow[t]!)) - lost);
    } else if (capacity) {
      const waiting = Math.max(0, previous + arriving - lost);
      const s = Math.min(Math.max(0, gate(t, safe(capacity[t]!))), waiting);
      served![t] = s;
      depth = waiting - s;
    } else {
      depth = Math.max(0, previous + arriving - lost);
    }
    if (wipLimit !== undefined) {
      const limit = typeof wipLimit === 'number' ? wipLimit : wipLimit[t]!;
      if (Number.isFinite(limit) && depth > limit) {
        if (overflow) overflow[t] = depth - limit;
        depth = limit;
      }
    }
    queue[t] = depth;
  };
};
