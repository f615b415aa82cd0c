// Turns a checked expression into a function of the bin index that reads the series' columns.
// Every function is pure in t: SHIFT(x, k) at t is x at t-k, so feedback through SHIFT reads only
// bins that are already final, whatever the evaluation order within a bin.
import { convKernel, pulseArgs, shiftLag } from './check.ts';
import type { Expr } from './parse.ts';

export type BinFn = (t: number) => number;
export type ColumnOf = (name: string) => Float64Array;

const safe = (v: number) => (Number.isFinite(v) ? v : 0);

export const bindExpression = (e: Expr, column: ColumnOf): BinFn => {
  switch (e.type) {
    case 'num': {
      const v = e.value;
      return () => v;
    }
    case 'ref': {
      const c = column(e.name);
      return (t) => c[t]!;
    }
    case 'array':
      throw new Error('array literal outside CONV (checkExpression lets none through)');
    case 'neg': {
      const a = bindExpression(e.arg, column);
      return (t) => -a(t);
    }
    case 'bin':
      return bindBinary(e.op, e.left, e.right, column);
    case 'call':
      return bindCall(e, column);
  }
};

const bindBinary = (op: '+' | '-' | '*' | '/', left: Expr, right: Expr, column: ColumnOf): BinFn => {
  // The common shapes `series <op> literal` and `series <op> series` without a closure per side.
  if (left.type === 'ref' && right.type === 'num') {
    const c = column(left.name);
    const k = right.value;
    switch (op) {
      case '+':
        return (t) => c[t]! + k;
      case '-':
        return (t) => c[t]! - k;
      case '*':
        return (t) => c[t]! * k;
      case '/':
        return k === 0 ? () => 0 : (t) => c[t]! / k;
    }
  }
  if (left.type === 'ref' && right.type === 'ref') {
    const a = column(left.name);
    const b = column(right.name);
    switch (op) {
      case '+':
        return (t) => a[t]! + b[t]!;
      case '-':
        return (t) => a[t]! - b[t]!;
      case '*':
        return (t) => a[t]! * b[t]!;
      case '/':
        return (t) => {
          const d = b[t]!;
          return d !== 0 ? a[t]! / d : 0;
        };
    }
  }
  const l = bindExpression(left, column);
  const r = bindExpression(right, column);
  switch (op) {
    case '+':
      return (t) => l(t) + r(t);
    case '-':
      return (t) => l(t) - r(t);
    case '*':
      return (t) => l(t) * r(t);
    case '/':
      // FlowTime: division by zero gives 0.
      return (t) => {
        const d = r(t);
        return d !== 0 ? l(t) / d : 0;
      };
  }
};

const bindCall = (e: Extract<Expr, { type: 'call' }>, column: ColumnOf): BinFn => {
  const arg = (i: number) => bindExpression(e.args[i]!, column);
  switch (e.name) {
    case 'MIN':
    case 'MAX': {
      const fns = e.args.map((a) => bindExpression(a, column));
      const pick = e.name === 'MIN' ? Math.min : Math.max;
      if (fns.length === 2) {
        const [a, b] = fns as [BinFn, BinFn];
        return (t) => pick(a(t), b(t));
      }
      return (t) => {
        let v = fns[0]!(t);
        for (let i = 1; i < fns.length; i++) v = pick(v, fns[i]!(t));
        return v;
      };
    }
    case 'CLAMP': {
      const [v, lo, hi] = [arg(0), arg(1), arg(2)];
      return (t) => Math.min(Math.max(v(t), lo(t)), hi(t));
    }
    case 'MOD': {
      const [a, b] = [arg(0), arg(1)];
      return (t) => {
        const d = b(t);
        if (Math.abs(d) <= Number.EPSILON) return 0;
        const r = a(t) % d;
        return r < 0 ? r + Math.abs(d) : r;
      };
    }
    case 'FLOOR': {
      const a = arg(0);
      return (t) => Math.floor(a(t));
    }
    case 'CEIL': {
      const a = arg(0);
      return (t) => Math.ceil(a(t));
    }
    case 'ROUND': {
      // Half away from zero, as FlowTime rounds.
      const a = arg(0);
      return (t) => {
        const v = a(t);
        return v >= 0 ? Math.floor(v + 0.5) : Math.ceil(v - 0.5);
      };
    }
    case 'STEP': {
      const [a, threshold] = [arg(0), arg(1)];
      return (t) => (a(t) >= threshold(t) ? 1 : 0);
    }
    case 'PULSE': {
      const { period, phase } = pulseArgs(e);
      const amplitude = e.args[2] ? arg(2) : () => 1;
      return (t) => (t >= phase && (t - phase) % period === 0 ? amplitude(t) : 0);
    }
    case 'SHIFT': {
      const lag = shiftLag(e);
      const input = e.args[0]!;
      if (input.type === 'ref') {
        const c = column(input.name);
        return (t) => (t >= lag ? c[t - lag]! : 0);
      }
      const a = arg(0);
      return (t) => (t >= lag ? a(t - lag) : 0);
    }
    case 'CONV': {
      const kernel = convKernel(e);
      const a = arg(0);
      return (t) => {
        let sum = 0;
        const n = Math.min(kernel.length, t + 1);
        for (let k = 0; k < n; k++) {
          const w = kernel[k]!;
          if (w !== 0) sum += w * safe(a(t - k));
        }
        return sum;
      };
    }
    default:
      throw new Error(`unknown function ${e.name} (checkExpression lets none through)`);
  }
};
