// `traffic.arrivals[]{nodeId, classId, pattern{kind: constant|poisson, ratePerBin}}`: generated
// arrivals. An arrival for a topology node feeds that node's inflow; one for a name that is no node
// creates that series; one for a model node (FlowTime uses those for class shares) is ignored with
// a warning, as classes are not modelled. Arrival i draws from its own PCG32 stream (54 + i, the
// reference generator's default stream for the first), so adding an arrival changes no other.
import type { CompileContext } from './context.ts';
import { fieldPath, isFiniteNumber, isRecord } from './issues.ts';
import { modelSeries, NODE_ID } from './nodes.ts';
import type { SeriesSpec, Unit } from './plan.ts';
import { poisson } from './poisson.ts';

export const FIRST_STREAM = 54;

interface Pattern {
  kind: 'constant' | 'poisson';
  rate: number;
  stream: number;
}

export interface CompiledTraffic {
  units: Unit[];
  series: SeriesSpec[];
  /** Topology node id → the column of its generated arrivals. */
  external: Map<string, string>;
}

export const compileTraffic = (
  raw: unknown,
  ctx: CompileContext,
  names: { modelNodes: Set<string>; topologyNodes: Set<string> },
): CompiledTraffic => {
  const out: CompiledTraffic = { units: [], series: [], external: new Map() };
  if (raw === undefined || raw === null) return out;
  const arrivals = isRecord(raw) ? raw.arrivals : undefined;
  if (!isRecord(raw) || (arrivals !== undefined && !Array.isArray(arrivals))) {
    ctx.errors.push({ field: 'traffic.arrivals', message: 'must be a list' });
    return out;
  }
  const byColumn = new Map<string, { patterns: Pattern[]; field: string; nodeId: string }>();
  const items = (arrivals as unknown[] | undefined) ?? [];
  for (const [i, a] of items.entries()) {
    const at = (...f: string[]) => fieldPath('traffic', 'arrivals', i, ...f);
    if (!isRecord(a)) {
      ctx.errors.push({ field: at(), message: 'must be an object' });
      continue;
    }
    const nodeId = a.nodeId;
    if (typeof nodeId !== 'string' || nodeId === '') {
      ctx.errors.push({ field: at('nodeId'), message: 'Required value' });
      continue;
    }
    const pattern = isRecord(a.pattern) ? a.pattern : undefined;
    if (!pattern) {
      ctx.errors.push({ field: at('pattern'), message: 'Required value: {kind, ratePerBin}' });
      continue;
    }
    if (pattern.kind !== 'constant' && pattern.kind !== 'poisson') {
      ctx.errors.push({
        field: at('pattern', 'kind'),
        message: `Unsupported value: ${JSON.stringify(pattern.kind)}: supported values: constant, poisson`,
      });
      continue;
    }
    const rate = pattern.ratePerBin ?? pattern.rate;
    if (!isFiniteNumber(rate) || rate < 0) {
      ctx.errors.push({ field: at('pattern', 'ratePerBin'), message: 'must be a number >= 0' });
      continue;
    }
    if (names.modelNodes.has(nodeId)) {
      ctx.warnings.push({
        code: 'trafficIgnored',
        message: `traffic arrival ${i} for node ${nodeId}${a.classId ? ` (class ${String(a.classId)})` : ''} is ignored: classes are not modelled and the node defines its own series`,
        nodeId,
      });
      continue;
    }
    const topology = names.topologyNodes.has(nodeId);
    if (!topology && !NODE_ID.test(nodeId)) {
      ctx.errors.push({
        field: at('nodeId'),
        message: 'names no topology node, so it names a new series and must be an identifier',
      });
      continue;
    }
    const column = topology ? `external@${nodeId}` : nodeId;
    const entry = byColumn.get(column) ?? { patterns: [], field: at(), nodeId };
    entry.patterns.push({ kind: pattern.kind, rate, stream: FIRST_STREAM + i });
    byColumn.set(column, entry);
  }
  for (const [column, { patterns, field, nodeId }] of byColumn) {
    out.units.push(arrivalUnit(column, field, patterns));
    if (names.topologyNodes.has(nodeId)) out.external.set(nodeId, column);
    else out.series.push(modelSeries(column));
  }
  return out;
};

const arrivalUnit = (column: string, field: string, patterns: Pattern[]): Unit => ({
  id: column,
  field,
  writes: [column],
  reads: [],
  build: (b) => {
    const col = b.column(column);
    return {
      fill: () => {
        for (const p of patterns) {
          if (p.kind === 'constant') {
            for (let t = 0; t < b.bins; t++) col[t] = col[t]! + p.rate;
            continue;
          }
          const rng = b.rng(p.stream);
          for (let t = 0; t < b.bins; t++) col[t] = col[t]! + poisson(rng, p.rate);
        }
      },
    };
  },
});
