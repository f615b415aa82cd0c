// Reads `topology` into checked shapes: nodes with their kind and semantics bindings, edges with
// weight and lag, constraints. Errors name the field; nothing is compiled here.
import { type CompileContext, filePath, isFileBinding } from './context.ts';
import { type FieldError, fieldPath, isFiniteNumber, isRecord } from './issues.ts';
import { NODE_ID } from './nodes.ts';

export type TopologyKind = 'service' | 'queue' | 'router' | 'sink';
export const MEASURES = [
  'arrivals',
  'served',
  'errors',
  'capacity',
  'attempts',
  'failures',
  'externalDemand',
  'processingTimeMsSum',
  'servedCount',
] as const;
export type Measure = (typeof MEASURES)[number];

const KINDS: Record<string, TopologyKind> = {
  service: 'service',
  serviceWithBuffer: 'queue',
  queue: 'queue',
  dlq: 'queue',
  router: 'router',
  sink: 'sink',
};
export const TOPOLOGY_ID = /^[A-Za-z0-9._-]+$/;

export interface TopologyNode {
  index: number;
  id: string;
  kind: TopologyKind;
  isDlq: boolean;
  field: string;
  bound: Partial<Record<Measure, string>>;
  /** The name of the queue-depth series when the template names one (semantics.queueDepth). */
  queueName?: string;
  retryEcho?: { name: string; kernel: number[]; field: string };
  initial: number;
  wipLimit?: number | string;
  wipOverflow?: { target: string; field: string };
  dispatch?: { period: number; phase: number; capacity?: string };
  constraint?: { id: string; field: string };
}

export interface TopologyEdge {
  index: number;
  id: string;
  from: string;
  to: string;
  weight: number;
  lag: number;
  multiplier: number;
  measure: 'served' | 'errors' | 'failures' | 'attempts' | 'arrivals';
  field: string;
}

export interface TopologyConstraint {
  index: number;
  id: string;
  capacity: string;
  field: string;
}

export interface ParsedTopology {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
  constraints: TopologyConstraint[];
}

const seriesRef = (v: unknown, field: string, ctx: CompileContext): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    ctx.errors.push({ field, message: 'must be a series name' });
    return undefined;
  }
  if (isFileBinding(v) && ctx.mode !== 'telemetry') {
    ctx.errors.push({ field, message: `the file binding ${filePath(v)} needs mode telemetry` });
    return undefined;
  }
  return v;
};

const list = (v: unknown, field: string, errors: FieldError[]): unknown[] => {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  errors.push({ field, message: 'must be a list' });
  return [];
};

export const parseTopology = (raw: Record<string, unknown>, ctx: CompileContext): ParsedTopology => {
  const nodes = list(raw.nodes, 'topology.nodes', ctx.errors).flatMap((n, i) => {
    const node = parseNode(n, i, ctx);
    return node ? [node] : [];
  });
  const ids = new Set<string>();
  for (const n of nodes) {
    if (ids.has(n.id)) ctx.errors.push({ field: `${n.field}.id`, message: `Duplicate value: "${n.id}"` });
    ids.add(n.id);
  }
  const edges = list(raw.edges, 'topology.edges', ctx.errors).flatMap((e, i) => {
    const edge = parseEdge(e, i, ids, ctx);
    return edge ? [edge] : [];
  });
  const edgeIds = new Set<string>();
  for (const e of edges) {
    if (edgeIds.has(e.id)) ctx.errors.push({ field: `${e.field}.id`, message: `Duplicate value: "${e.id}"` });
    edgeIds.add(e.id);
  }
  const constraints = list(raw.constraints, 'topology.constraints', ctx.errors).flatMap((c, i) => {
    const at = (...f: string[]) => fieldPath('topology', 'constraints', i, ...f);
    if (!isRecord(c) || typeof c.id !== 'string' || c.id === '') {
      ctx.errors.push({ field: at('id'), message: 'Required value' });
      return [];
    }
    const semantics = isRecord(c.semantics) ? c.semantics : {};
    const capacity = seriesRef(semantics.served, at('semantics', 'served'), ctx);
    if (!capacity) {
      ctx.errors.push({ field: at('semantics', 'served'), message: 'Required value: the capacity series' });
      return [];
    }
    return [{ index: i, id: c.id, capacity, field: at() }];
  });
  return { nodes, edges, constraints };
};

const parseNode = (n: unknown, i: number, ctx: CompileContext): TopologyNode | undefined => {
  const at = (...f: (string | number)[]) => fieldPath('topology', 'nodes', i, ...f);
  if (!isRecord(n)) {
    ctx.errors.push({ field: at(), message: 'must be an object' });
    return undefined;
  }
  if (typeof n.id !== 'string' || !TOPOLOGY_ID.test(n.id)) {
    ctx.errors.push({ field: at('id'), message: 'must be a name of letters, digits, ".", "_" or "-"' });
    return undefined;
  }
  const rawKind = n.kind ?? 'serviceWithBuffer';
  const kind = typeof rawKind === 'string' ? KINDS[rawKind] : undefined;
  if (!kind) {
    ctx.errors.push({
      field: at('kind'),
      message: `Unsupported value: ${JSON.stringify(rawKind)}: supported values: ${Object.keys(KINDS).join(', ')}`,
    });
    return undefined;
  }
  const semantics = n.semantics === undefined || n.semantics === null ? {} : n.semantics;
  if (!isRecord(semantics)) {
    ctx.errors.push({ field: at('semantics'), message: 'must be an object' });
    return undefined;
  }
  const node: TopologyNode = {
    index: i,
    id: n.id,
    kind,
    isDlq: rawKind === 'dlq',
    field: at(),
    bound: {},
    initial: 0,
  };
  for (const m of MEASURES) {
    const key = m === 'externalDemand' && semantics[m] === undefined ? 'external_demand' : m;
    const ref = seriesRef(semantics[key], at('semantics', key), ctx);
    if (ref) node.bound[m] = ref;
  }
  const queueDepth = semantics.queueDepth ?? semantics.queue;
  if (queueDepth !== undefined && queueDepth !== null && queueDepth !== '' && queueDepth !== 'self') {
    if (kind !== 'queue') {
      ctx.errors.push({
        field: at('semantics', 'queueDepth'),
        message: `a ${String(rawKind)} node has no queue`,
      });
    } else if (typeof queueDepth !== 'string' || !NODE_ID.test(queueDepth)) {
      ctx.errors.push({ field: at('semantics', 'queueDepth'), message: 'must be "self" or an identifier' });
    } else node.queueName = queueDepth;
  }
  if (semantics.retryEcho !== undefined && semantics.retryEcho !== null) {
    const name = semantics.retryEcho;
    const kernel = semantics.retryKernel;
    if (typeof name !== 'string' || !NODE_ID.test(name)) {
      ctx.errors.push({ field: at('semantics', 'retryEcho'), message: 'must be an identifier' });
    } else if (!Array.isArray(kernel) || kernel.length === 0 || !kernel.every(isFiniteNumber)) {
      ctx.errors.push({
        field: at('semantics', 'retryKernel'),
        message: 'Required value: a list of numbers',
      });
    } else node.retryEcho = { name, kernel, field: at('semantics', 'retryEcho') };
  }
  const initial = isRecord(n.initialCondition) ? n.initialCondition.queueDepth : undefined;
  if (initial !== undefined) {
    if (!isFiniteNumber(initial) || initial < 0) {
      ctx.errors.push({ field: at('initialCondition', 'queueDepth'), message: 'must be a number >= 0' });
    } else node.initial = initial;
  }
  if (n.wipLimit !== undefined && n.wipLimit !== null) {
    if (kind !== 'queue')
      ctx.errors.push({ field: at('wipLimit'), message: `a ${String(rawKind)} node has no queue` });
    else if (isFiniteNumber(n.wipLimit) && n.wipLimit >= 0) node.wipLimit = n.wipLimit;
    else if (typeof n.wipLimit === 'string') node.wipLimit = seriesRef(n.wipLimit, at('wipLimit'), ctx);
    else ctx.errors.push({ field: at('wipLimit'), message: 'must be a number >= 0 or a series name' });
  }
  if (typeof n.wipOverflow === 'string' && n.wipOverflow !== '') {
    if (node.wipLimit === undefined) {
      ctx.errors.push({ field: at('wipOverflow'), message: 'needs a wipLimit' });
    } else node.wipOverflow = { target: n.wipOverflow, field: at('wipOverflow') };
  }
  if (isRecord(n.dispatchSchedule)) {
    const d = n.dispatchSchedule;
    const period = d.periodBins;
    const phase = d.phaseOffset ?? 0;
    if (!Number.isInteger(period) || (period as number) < 1) {
      ctx.errors.push({ field: at('dispatchSchedule', 'periodBins'), message: 'must be an integer >= 1' });
    } else if (!Number.isInteger(phase) || (phase as number) < 0) {
      ctx.errors.push({ field: at('dispatchSchedule', 'phaseOffset'), message: 'must be an integer >= 0' });
    } else if (kind === 'queue') {
      const capacity = seriesRef(d.capacitySeries, at('dispatchSchedule', 'capacitySeries'), ctx);
      node.dispatch = { period: period as number, phase: phase as number, ...(capacity ? { capacity } : {}) };
    }
  }
  if (n.constraints !== undefined && n.constraints !== null) {
    const cs = n.constraints;
    if (!Array.isArray(cs) || !cs.every((c) => typeof c === 'string')) {
      ctx.errors.push({ field: at('constraints'), message: 'must be a list of constraint ids' });
    } else if (cs.length > 1) {
      ctx.errors.push({ field: at('constraints'), message: 'at most one constraint per node is supported' });
    } else if (cs.length === 1) {
      if (kind !== 'queue') {
        ctx.errors.push({
          field: at('constraints'),
          message: 'constraints apply to queue nodes (serviceWithBuffer)',
        });
      } else node.constraint = { id: cs[0] as string, field: at('constraints', 0) };
    }
  }
  return node;
};

const EDGE_MEASURES: Record<string, TopologyEdge['measure']> = {
  served: 'served',
  throughput: 'served',
  errors: 'errors',
  failures: 'failures',
  exhaustedFailures: 'failures',
  attempts: 'attempts',
  load: 'attempts',
  arrivals: 'arrivals',
};

const parseEdge = (
  e: unknown,
  i: number,
  ids: Set<string>,
  ctx: CompileContext,
): TopologyEdge | undefined => {
  const at = (...f: string[]) => fieldPath('topology', 'edges', i, ...f);
  if (!isRecord(e)) {
    ctx.errors.push({ field: at(), message: 'must be an object' });
    return undefined;
  }
  const end = (key: 'from' | 'to', alias: 'source' | 'target'): string | undefined => {
    const v = e[key] ?? e[alias];
    const field = at(e[key] !== undefined ? key : alias);
    if (typeof v !== 'string' || v === '') {
      ctx.errors.push({ field, message: 'Required value: a topology node id' });
      return undefined;
    }
    const id = v.split(':')[0]!; // `Node:out` names a port of Node
    if (!ids.has(id)) {
      ctx.errors.push({ field, message: `unknown topology node "${id}"` });
      return undefined;
    }
    return id;
  };
  const from = end('from', 'source');
  const to = end('to', 'target');
  const number = (key: string, fallback: number, min: number, integer = false): number | undefined => {
    const v = e[key] ?? fallback;
    if (!isFiniteNumber(v) || v < min || (integer && !Number.isInteger(v))) {
      ctx.errors.push({
        field: at(key),
        message: `must be ${integer ? 'an integer' : 'a number'} >= ${min}`,
      });
      return undefined;
    }
    return v;
  };
  const weight = number('weight', 1, 0);
  const lag = number('lag', 0, 0, true);
  const multiplier = number('multiplier', 1, 0);
  const measure = EDGE_MEASURES[typeof e.measure === 'string' ? e.measure : 'served'];
  if (!measure) {
    ctx.errors.push({
      field: at('measure'),
      message: `Unsupported value: ${JSON.stringify(e.measure)}: supported values: ${Object.keys(EDGE_MEASURES).join(', ')}`,
    });
  }
  if (!from || !to || weight === undefined || lag === undefined || multiplier === undefined || !measure)
    return undefined;
  const id = typeof e.id === 'string' && e.id !== '' ? e.id : `${from}_to_${to}`;
  if (!TOPOLOGY_ID.test(id)) {
    ctx.errors.push({ field: at('id'), message: 'must be a name of letters, digits, ".", "_" or "-"' });
    return undefined;
  }
  return { index: i, id, from, to, weight, lag, multiplier, measure, field: at() };
};
