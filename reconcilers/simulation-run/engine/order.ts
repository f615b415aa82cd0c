// Orders units so that every same-bin read follows the write (Kahn's algorithm, ties broken by the
// template's order so the plan is deterministic). A cycle of same-bin reads is an error naming a
// field on the cycle; reads at lag >= 1 (SHIFT, lagged edges) break cycles, as in FlowTime.
import type { FieldError } from './issues.ts';
import type { Unit } from './plan.ts';

export const orderUnits = (units: Unit[], errors: FieldError[]): Unit[] => {
  const producer = new Map<string, number>();
  units.forEach((u, i) => {
    for (const c of u.writes) producer.set(c, i);
  });
  const dependents: number[][] = units.map(() => []);
  const indegree = units.map(() => 0);
  units.forEach((u, i) => {
    const before = new Set<number>();
    for (const r of u.reads) {
      const p = producer.get(r.column);
      if (r.lag !== 0 || p === undefined) continue;
      if (p === i) {
        errors.push({
          field: u.field,
          message: `dependency cycle: ${u.id} reads ${r.column} in the same bin it writes it (use SHIFT(${r.column}, 1))`,
        });
      } else before.add(p);
    }
    for (const p of before) {
      dependents[p]!.push(i);
      indegree[i]!++;
    }
  });
  const ready = units.map((_, i) => i).filter((i) => indegree[i] === 0);
  const order: Unit[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(units[i]!);
    for (const d of dependents[i]!) if (--indegree[d]! === 0) ready.push(d);
  }
  if (order.length < units.length) {
    const cycle = findCycle(units, producer, indegree);
    const first = units[cycle[0]!]!;
    errors.push({
      field: first.field,
      message: `dependency cycle: ${[...cycle, cycle[0]!].map((i) => units[i]!.id).join(' → ')} (a cycle needs a delay such as SHIFT(x, 1) or an edge lag)`,
    });
  }
  return order;
};

/** One cycle among the units left with same-bin predecessors. */
const findCycle = (units: Unit[], producer: Map<string, number>, indegree: number[]): number[] => {
  const pred = (i: number) =>
    units[i]!.reads.filter((r) => r.lag === 0)
      .map((r) => producer.get(r.column))
      .find((p): p is number => p !== undefined && p !== i && indegree[p]! > 0);
  let i = indegree.findIndex((d) => d > 0);
  const seen = new Map<number, number>();
  const path: number[] = [];
  while (!seen.has(i)) {
    seen.set(i, path.length);
    path.push(i);
    const p = pred(i);
    if (p === undefined) return [i];
    i = p;
  }
  return path.slice(seen.get(i)).reverse();
};
