// The template's `nodes`: const, pmf, expr, router (split a series by weight) and serviceWithBuffer
// (a queue over inflow, outflow and loss series). A node with a telemetry `source` in mode telemetry
// reads its series from that file instead.
import { type CompileContext, filePath, isFileBinding, seriesValues } from './context.ts';
import { bindExpression } from './expression/bind.ts';
import { checkExpression, references } from './expression/check.ts';
import { ExpressionError, parseExpression } from './expression/parse.ts';
import { fieldPath, isFiniteNumber, isRecord } from './issues.ts';
import type { SeriesSpec, Unit } from './plan.ts';
import { pmfExpectedValue } from './pmf.ts';
import { queueStep } from './queue.ts';

export const NODE_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const NODE_KINDS = ['const', 'pmf', 'expr', 'router', 'serviceWithBuffer'];

export interface CompiledNodes {
  units: Unit[];
  series: SeriesSpec[];
  /** Every node id (for traffic arrivals naming a node). */
  ids: Set<string>;
}

export const modelSeries = (id: string): SeriesSpec => ({
  id: `${id}@${id.toUpperCase()}@DEFAULT`,
  column: id,
  kind: 'flow',
  unit: 'entities/bin',
  componentId: id.toUpperCase(),
});

export const compileNodes = (raw: unknown, ctx: CompileContext): CompiledNodes => {
  const out: CompiledNodes = { units: [], series: [], ids: new Set() };
  if (raw === undefined || raw === null) return out;
  if (!Array.isArray(raw)) {
    ctx.errors.push({ field: 'nodes', message: 'must be a list' });
    return out;
  }
  for (const [i, node] of raw.entries()) {
    const at = (...f: (string | number)[]) => fieldPath('nodes', i, ...f);
    if (!isRecord(node)) {
      ctx.errors.push({ field: at(), message: 'must be an object' });
      continue;
    }
    const id = node.id;
    if (typeof id !== 'string' || !NODE_ID.test(id)) {
      ctx.errors.push({
        field: at('id'),
        message: 'must be an identifier ([A-Za-z_][A-Za-z0-9_]*), as expressions name it',
      });
      continue;
    }
    if (out.ids.has(id)) {
      ctx.errors.push({ field: at('id'), message: `Duplicate value: "${id}"` });
      continue;
    }
    out.ids.add(id);
    const source = node.source;
    if (ctx.mode === 'telemetry' && typeof source === 'string' && source !== '') {
      const binding = isFileBinding(source) ? source : `file:${source}`;
      out.units.push(telemetryNode(id, binding, at('source')));
      out.series.push(modelSeries(id));
      continue;
    }
    const unit = compileNode(node, id, at, ctx);
    if (!unit) continue;
    out.units.push(...unit);
    for (const u of unit) for (const c of u.writes) out.series.push(modelSeries(c));
  }
  return out;
};

const telemetryNode = (id: string, binding: string, field: string): Unit => ({
  id,
  field,
  writes: [id],
  reads: [{ column: binding, lag: 0, field }],
  build: (b) => {
    const col = b.column(id);
    return { fill: () => col.set(b.column(binding)) };
  },
});

const compileNode = (
  node: Record<string, unknown>,
  id: string,
  at: (...f: (string | number)[]) => string,
  ctx: CompileContext,
): Unit[] | undefined => {
  switch (node.kind) {
    case 'const': {
      const fill = seriesValues(node.values, ctx.bins, at('values'), ctx.errors);
      if (!fill) return undefined;
      return [source(id, at(), fill)];
    }
    case 'pmf': {
      const mean = pmfExpectedValue(node.pmf, at('pmf'), id, ctx.errors, ctx.warnings);
      if (mean === undefined) return undefined;
      return [source(id, at(), (column) => column.fill(mean))];
    }
    case 'expr':
      return exprNode(node, id, at, ctx);
    case 'router':
      return routerNode(node, id, at, ctx);
    case 'serviceWithBuffer':
      return queueNode(node, id, at, ctx);
    default:
      ctx.errors.push({
        field: at('kind'),
        message: `Unsupported value: ${JSON.stringify(node.kind)}: supported values: ${NODE_KINDS.join(', ')}`,
      });
      return undefined;
  }
};

const source = (id: string, field: string, fill: (column: Float64Array) => void): Unit => ({
  id,
  field,
  writes: [id],
  reads: [],
  build: (b) => {
    const col = b.column(id);
    return { fill: () => fill(col) };
  },
});

const exprNode = (
  node: Record<string, unknown>,
  id: string,
  at: (...f: (string | number)[]) => string,
  ctx: CompileContext,
): Unit[] | undefined => {
  const key = node.expr !== undefined ? 'expr' : 'expression';
  const text = node[key];
  const field = at(key);
  if (typeof text !== 'string' && typeof text !== 'number') {
    ctx.errors.push({ field, message: 'Required value: an expression' });
    return undefined;
  }
  try {
    const ast = parseExpression(String(text));
    checkExpression(ast);
    const reads = [...references(ast)].map(([column, lag]) => ({ column, lag, field }));
    return [
      {
        id,
        field,
        writes: [id],
        reads,
        build: (b) => {
          const col = b.column(id);
          const fn = bindExpression(ast, (name) => b.column(name));
          return {
            step: (t) => {
              col[t] = fn(t);
            },
          };
        },
      },
    ];
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    ctx.errors.push({ field, message: `${err.message} in "${String(text)}"` });
    return undefined;
  }
};

const refAt = (v: unknown, field: string, ctx: CompileContext, required = true): string | undefined => {
  if (v === undefined || v === null || v === '') {
    if (required) ctx.errors.push({ field, message: 'Required value: a series name' });
    return undefined;
  }
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

/** `router: {inputs: {queue: SOURCE}, routes: [{target, weight}]}`: targets get SOURCE × weight share. */
const routerNode = (
  node: Record<string, unknown>,
  id: string,
  at: (...f: (string | number)[]) => string,
  ctx: CompileContext,
): Unit[] | undefined => {
  // `router: {inputs, routes}`, or (FlowTime-Sim templates) `inputs` and `routes` on the node.
  const router = isRecord(node.router)
    ? node.router
    : node.inputs !== undefined || node.routes !== undefined
      ? { inputs: node.inputs, routes: node.routes }
      : undefined;
  if (!router) {
    ctx.errors.push({ field: at('router'), message: 'Required value: {inputs: {queue}, routes}' });
    return undefined;
  }
  const from = refAt(
    isRecord(router.inputs) ? router.inputs.queue : undefined,
    at('router', 'inputs', 'queue'),
    ctx,
  );
  const routes = Array.isArray(router.routes) ? router.routes : [];
  if (routes.length === 0)
    ctx.errors.push({ field: at('router', 'routes'), message: 'must have at least one route' });
  const shares = new Map<string, number>();
  let total = 0;
  for (const [j, r] of routes.entries()) {
    const rf = (f: string) => at('router', 'routes', j, f);
    if (!isRecord(r)) {
      ctx.errors.push({ field: at('router', 'routes', j), message: 'must be an object' });
      continue;
    }
    if (Array.isArray(r.classes) && r.classes.length) {
      ctx.errors.push({
        field: rf('classes'),
        message: 'class-based routes are not supported (classes are not modelled)',
      });
      continue;
    }
    const target = r.target;
    if (typeof target !== 'string' || !NODE_ID.test(target)) {
      ctx.errors.push({ field: rf('target'), message: 'must be an identifier' });
      continue;
    }
    const w = r.weight ?? 1;
    if (!isFiniteNumber(w) || w < 0) {
      ctx.errors.push({ field: rf('weight'), message: 'must be a number >= 0' });
      continue;
    }
    shares.set(target, (shares.get(target) ?? 0) + w);
    total += w;
  }
  if (routes.length && total <= 0) {
    ctx.errors.push({ field: at('router', 'routes'), message: 'the weights must sum to a positive value' });
  }
  if (!from || total <= 0) return undefined;
  const targets = [...shares].map(([target, w]) => ({ target, share: w / total }));
  return [
    {
      id,
      field: at('router'),
      writes: targets.map((t) => t.target),
      reads: [{ column: from, lag: 0, field: at('router', 'inputs', 'queue') }],
      build: (b) => {
        const input = b.column(from);
        const outs = targets.map((t) => ({ col: b.column(t.target), share: t.share }));
        return {
          step: (t) => {
            const v = input[t]!;
            for (const o of outs) o.col[t] = v * o.share;
          },
        };
      },
    },
  ];
};

/** A queue written as a node: `inflow`, `outflow`, optional `loss`; the node's series is its depth. */
const queueNode = (
  node: Record<string, unknown>,
  id: string,
  at: (...f: (string | number)[]) => string,
  ctx: CompileContext,
): Unit[] | undefined => {
  const inflow = refAt(node.inflow, at('inflow'), ctx);
  const outflow = refAt(node.outflow, at('outflow'), ctx);
  const loss = refAt(node.loss, at('loss'), ctx, false);
  if (!inflow || !outflow) return undefined;
  const reads = [
    { column: inflow, lag: 0, field: at('inflow') },
    { column: outflow, lag: 0, field: at('outflow') },
    ...(loss ? [{ column: loss, lag: 0, field: at('loss') }] : []),
  ];
  return [
    {
      id,
      field: at(),
      writes: [id],
      reads,
      build: (b) => ({
        step: queueStep({
          queue: b.column(id),
          inflow: [b.column(inflow)],
          outflow: b.column(outflow),
          loss: loss ? b.column(loss) : undefined,
          initial: 0,
        }),
      }),
    },
  ];
};
