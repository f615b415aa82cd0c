// Compiles the topology into units. Per node: arrivals (bound, or the sum of inbound edge flows and
// generated traffic), the node's processing by kind — service (served = MIN(arrivals, capacity),
// the rest as errors), queue (the recurrence of queue.ts, with constraints, WIP limits, overflow and
// dispatch), router and sink (served = arrivals) — and retry echoes. Per edge: the source's measure
// split by weight among the source's edges, times the multiplier, `lag` bins later.
import type { CompileContext } from './context.ts';
import type { Read, SeriesSpec, Unit } from './plan.ts';
import { queueStep } from './queue.ts';
import type { Measure, ParsedTopology, TopologyEdge, TopologyNode } from './topology-parse.ts';

export interface CompiledTopology {
  units: Unit[];
  series: SeriesSpec[];
}

const SERIES_MEASURES = ['arrivals', 'served', 'errors', 'capacity', 'attempts', 'failures'] as const;

export const compileTopology = (
  t: ParsedTopology,
  external: Map<string, string>,
  ctx: CompileContext,
): CompiledTopology => {
  const out: CompiledTopology = { units: [], series: [] };
  const byId = new Map(t.nodes.map((n) => [n.id, n]));
  const inbound = new Map<string, TopologyEdge[]>();
  for (const e of t.edges) inbound.set(e.to, [...(inbound.get(e.to) ?? []), e]);
  const overflowInto = new Map<string, TopologyNode[]>();
  for (const n of t.nodes) {
    if (!n.wipOverflow) continue;
    const target = byId.get(n.wipOverflow.target);
    if (target?.kind !== 'queue') {
      ctx.errors.push({ field: n.wipOverflow.field, message: `must name a queue node of the topology` });
      continue;
    }
    overflowInto.set(target.id, [...(overflowInto.get(target.id) ?? []), n]);
  }

  // Where each node's measures live: a bound series, or a column a unit below derives.
  const columns = new Map<string, Partial<Record<Measure | 'queue' | 'overflow' | 'retryEcho', string>>>();
  for (const n of t.nodes) {
    const c: Partial<Record<Measure | 'queue' | 'overflow' | 'retryEcho', string>> = { ...n.bound };
    const edgesIn = inbound.get(n.id) ?? [];
    // One inbound edge and no traffic: the node's arrivals are that edge's flow (no copy).
    if (!c.arrivals && edgesIn.length === 1 && !external.has(n.id)) c.arrivals = `flow@${edgesIn[0]!.id}`;
    else if (!c.arrivals && (edgesIn.length > 0 || external.has(n.id))) c.arrivals = `arrivals@${n.id}`;
    if (!c.arrivals && !(n.kind === 'queue' && overflowInto.has(n.id))) {
      ctx.errors.push({
        field: `${n.field}.semantics.arrivals`,
        message: 'Required value: bind a series, or connect an edge or a traffic arrival to the node',
      });
    }
    if (n.bound.externalDemand === undefined && external.has(n.id) && n.bound.arrivals) {
      ctx.warnings.push({
        code: 'trafficIgnored',
        message: `traffic arrivals for ${n.id} are ignored: the node binds semantics.arrivals`,
        nodeId: n.id,
      });
    }
    if (n.kind === 'queue') {
      c.queue = n.queueName ?? flowTimeName(n.id, 'queue');
      if (!c.served && c.capacity) c.served = `served@${n.id}`;
      if (!c.served && !n.isDlq) {
        ctx.errors.push({
          field: `${n.field}.semantics.served`,
          message: 'Required value: served or capacity',
        });
      }
      if (n.wipLimit !== undefined) c.overflow = flowTimeName(n.id, 'overflow');
    } else if (n.kind === 'service') {
      if (!c.served) c.served = c.capacity ? `served@${n.id}` : c.arrivals;
      if (!c.errors && !n.bound.served && c.capacity) c.errors = `errors@${n.id}`;
    } else if (!c.served) c.served = c.arrivals;
    if (n.retryEcho) c.retryEcho = n.retryEcho.name;
    columns.set(n.id, c);
  }
  const measureOf = (id: string) => columns.get(id) ?? {};

  // Every bound series must exist (and a bound telemetry file be loaded) even when no unit reads it.
  out.units.push({
    id: 'topology semantics',
    field: 'topology',
    writes: [],
    reads: t.nodes.flatMap((n) =>
      Object.entries(n.bound).map(([m, column]) => ({ column, lag: 1, field: `${n.field}.semantics.${m}` })),
    ),
    build: () => ({}),
  });
  const constrained = constraintUnits(t, measureOf, ctx, out.units);
  for (const e of edgeUnits(t.edges, measureOf, ctx)) out.units.push(e.unit);
  for (const n of t.nodes) {
    const c = measureOf(n.id);
    if (c.arrivals === `arrivals@${n.id}`)
      out.units.push(inflowUnit(n, inbound.get(n.id) ?? [], external.get(n.id)));
    if (n.kind === 'queue')
      out.units.push(queueUnit(n, c, constrained.get(n.id), overflowInto.get(n.id) ?? [], measureOf));
    if (n.kind === 'service' && c.served === `served@${n.id}` && c.arrivals && c.capacity) {
      out.units.push(serviceUnit(n, c.arrivals, c.capacity, c.errors === `errors@${n.id}`));
    }
    if (n.retryEcho) {
      const from = n.bound.failures ?? c.errors;
      if (!from) {
        ctx.errors.push({
          field: n.retryEcho.field,
          message: 'a retry echo needs a failures or errors series',
        });
      } else out.units.push(retryEchoUnit(n, from));
    }
    for (const m of [...SERIES_MEASURES, 'queue', 'overflow', 'retryEcho'] as const) {
      const column = c[m];
      if (!column) continue;
      out.series.push({
        id: `${m}@${n.id}@DEFAULT`,
        column,
        kind: m === 'queue' ? 'state' : 'flow',
        unit: m === 'queue' ? 'entities' : 'entities/bin',
        componentId: n.id,
      });
    }
  }
  for (const e of t.edges) {
    out.series.push({
      id: `flow@${e.id}@DEFAULT`,
      column: `flow@${e.id}`,
      kind: 'flow',
      unit: 'entities/bin',
      componentId: e.id,
    });
  }
  return out;
};

type Columns = (id: string) => Partial<Record<string, string>>;

/**
 * The series name FlowTime gives a queue's depth or overflow, `<snake_case(node)>_queue` (`Queue` →
 * `queue_queue`, `HubQueue` → `hub_queue_queue`), so expressions and outputs written for FlowTime
 * find them; `<measure>@<node>` when the node id makes no identifier.
 */
export const flowTimeName = (nodeId: string, measure: 'queue' | 'overflow'): string => {
  let snake = '';
  for (let i = 0; i < nodeId.length; i++) {
    const ch = nodeId[i]!;
    const upper = ch >= 'A' && ch <= 'Z';
    if (upper && i > 0) {
      const prev = nodeId[i - 1]!;
      const next = nodeId[i + 1];
      const prevUpper = prev >= 'A' && prev <= 'Z';
      const nextLower = next !== undefined && next >= 'a' && next <= 'z';
      if (!prevUpper || nextLower) snake += '_';
    }
    snake += ch.toLowerCase();
  }
  const name = `${snake}_${measure}`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `${measure}@${nodeId}`;
};

const inflowUnit = (n: TopologyNode, edges: TopologyEdge[], external: string | undefined): Unit => {
  const sources = [...edges.map((e) => `flow@${e.id}`), ...(external ? [external] : [])];
  const column = `arrivals@${n.id}`;
  return {
    id: `topology node ${n.id}`,
    field: `${n.field}.semantics.arrivals`,
    writes: [column],
    reads: sources.map((s) => ({ column: s, lag: 0 })),
    build: (b) => {
      const out = b.column(column);
      const ins = sources.map((s) => b.column(s));
      return {
        step: (t) => {
          let sum = 0;
          for (const c of ins) sum += c[t]!;
          out[t] = sum;
        },
      };
    },
  };
};

/** Each constraint shares its capacity among its members' arrivals in proportion, when they exceed it. */
const constraintUnits = (t: ParsedTopology, measureOf: Columns, ctx: CompileContext, units: Unit[]) => {
  const capped = new Map<string, string>();
  for (const c of t.constraints) {
    const members = t.nodes.filter((n) => n.constraint?.id === c.id && measureOf(n.id).arrivals);
    if (members.length === 0) continue;
    const demands = members.map((n) => measureOf(n.id).arrivals!);
    const outs = members.map((n) => `capped@${n.id}`);
    for (const [i, n] of members.entries()) capped.set(n.id, outs[i]!);
    units.push({
      id: `constraint ${c.id}`,
      field: c.field,
      writes: outs,
      reads: [...demands, c.capacity].map((column) => ({ column, lag: 0 })),
      build: (b) => {
        const cap = b.column(c.capacity);
        const ds = demands.map((d) => b.column(d));
        const os = outs.map((o) => b.column(o));
        return {
          step: (tt) => {
            const limit = cap[tt]!;
            let total = 0;
            for (const d of ds) total += Number.isFinite(d[tt]!) ? d[tt]! : 0;
            const scale = total > limit && total > 0 ? limit / total : 1;
            for (let i = 0; i < ds.length; i++) {
              const d = ds[i]![tt]!;
              os[i]![tt] = (Number.isFinite(d) ? d : 0) * scale;
            }
          },
        };
      },
    });
  }
  for (const n of t.nodes) {
    if (n.constraint && !t.constraints.some((c) => c.id === n.constraint!.id)) {
      ctx.errors.push({ field: n.constraint.field, message: `unknown constraint "${n.constraint.id}"` });
    }
  }
  return capped;
};

const edgeUnits = (edges: TopologyEdge[], measureOf: Columns, ctx: CompileContext) => {
  const totals = new Map<string, number>();
  for (const e of edges)
    totals.set(`${e.from}/${e.measure}`, (totals.get(`${e.from}/${e.measure}`) ?? 0) + e.weight);
  return edges.flatMap((e) => {
    const source = measureOf(e.from)[e.measure];
    if (!source) {
      ctx.errors.push({ field: `${e.field}.measure`, message: `node ${e.from} has no ${e.measure} series` });
      return [];
    }
    const total = totals.get(`${e.from}/${e.measure}`)!;
    const factor = total > 0 ? (e.weight / total) * e.multiplier : 0;
    const column = `flow@${e.id}`;
    const unit: Unit = {
      id: `edge ${e.id}`,
      field: e.field,
      writes: [column],
      reads: [{ column: source, lag: e.lag, field: `${e.field}.from` }],
      build: (b) => {
        const from = b.column(source);
        const out = b.column(column);
        const lag = e.lag;
        return {
          step: (t) => {
            out[t] = t >= lag ? from[t - lag]! * factor : 0;
          },
        };
      },
    };
    return [{ unit }];
  });
};

const queueUnit = (
  n: TopologyNode,
  c: Partial<Record<string, string>>,
  capped: string | undefined,
  overflowFrom: TopologyNode[],
  measureOf: Columns,
): Unit => {
  const at = (f: string) => `${n.field}.${f}`;
  const inflow = [capped ?? c.arrivals, ...overflowFrom.map((s) => measureOf(s.id).overflow)].filter(
    (x): x is string => !!x,
  );
  const outflow = n.bound.served;
  const capacity = outflow ? undefined : c.capacity;
  const loss = c.errors;
  const reads: Read[] = [
    ...inflow.map((column) => ({ column, lag: 0 })),
    ...(outflow ? [{ column: outflow, lag: 0, field: at('semantics.served') }] : []),
    ...(capacity ? [{ column: capacity, lag: 0, field: at('semantics.capacity') }] : []),
    ...(loss ? [{ column: loss, lag: 0, field: at('semantics.errors') }] : []),
    ...(typeof n.wipLimit === 'string' ? [{ column: n.wipLimit, lag: 0, field: at('wipLimit') }] : []),
    ...(n.dispatch?.capacity
      ? [{ column: n.dispatch.capacity, lag: 0, field: at('dispatchSchedule.capacitySeries') }]
      : []),
  ];
  const writes = [c.queue!, ...(capacity ? [c.served!] : []), ...(c.overflow ? [c.overflow] : [])];
  return {
    id: `topology node ${n.id}`,
    field: n.field,
    writes,
    reads,
    build: (b) => ({
      step: queueStep({
        queue: b.column(c.queue!),
        inflow: inflow.map((x) => b.column(x)),
        outflow: outflow ? b.column(outflow) : undefined,
        capacity: capacity ? b.column(capacity) : undefined,
        served: capacity ? b.column(c.served!) : undefined,
        loss: loss ? b.column(loss) : undefined,
        initial: n.initial,
        wipLimit: typeof n.wipLimit === 'string' ? b.column(n.wipLimit) : n.wipLimit,
        overflow: c.overflow ? b.column(c.overflow) : undefined,
        dispatch: n.dispatch && {
          period: n.dispatch.period,
          phase: n.dispatch.phase,
          capacity: n.dispatch.capacity ? b.column(n.dispatch.capacity) : undefined,
        },
      }),
    }),
  };
};

/** A service without a queue serves what its capacity allows; the rest are its errors (unmet). */
const serviceUnit = (n: TopologyNode, arrivals: string, capacity: string, withErrors: boolean): Unit => {
  const served = `served@${n.id}`;
  const errors = `errors@${n.id}`;
  return {
    id: `topology node ${n.id}`,
    field: n.field,
    writes: [served, ...(withErrors ? [errors] : [])],
    reads: [
      { column: arrivals, lag: 0, field: `${n.field}.semantics.arrivals` },
      { column: capacity, lag: 0, field: `${n.field}.semantics.capacity` },
    ],
    build: (b) => {
      const a = b.column(arrivals);
      const cap = b.column(capacity);
      const s = b.column(served);
      const e = withErrors ? b.column(errors) : undefined;
      return {
        step: (t) => {
          const v = Math.max(0, Math.min(a[t]!, cap[t]!));
          s[t] = v;
          if (e) e[t] = Math.max(0, a[t]! - v);
        },
      };
    },
  };
};

/** retryEcho = CONV(failures or errors, retryKernel): failed work comes back in later bins. */
const retryEchoUnit = (n: TopologyNode, from: string): Unit => {
  const echo = n.retryEcho!;
  const first = echo.kernel.findIndex((w) => w !== 0);
  return {
    id: `topology node ${n.id} retry echo`,
    field: echo.field,
    writes: [echo.name],
    reads: [{ column: from, lag: first < 0 ? echo.kernel.length : first }],
    build: (b) => {
      const input = b.column(from);
      const out = b.column(echo.name);
      const kernel = echo.kernel;
      return {
        step: (t) => {
          let sum = 0;
          const len = Math.min(kernel.length, t + 1);
          for (let k = 0; k < len; k++) {
            const v = input[t - k]!;
            sum += kernel[k]! * (Number.isFinite(v) ? v : 0);
          }
          out[t] = sum;
        },
      };
    },
  };
};
