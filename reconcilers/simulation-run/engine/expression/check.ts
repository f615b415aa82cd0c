// Static checks of a parsed expression: known functions with the right number of arguments, the
// literal arguments FlowTime requires (SHIFT's lag, CONV's kernel, PULSE's period and phase), and
// the series it reads with the smallest lag at which it reads each (lag 0: the same bin).
import { type Expr, ExpressionError } from './parse.ts';

interface FunctionSpec {
  min: number;
  max: number;
}
export const FUNCTIONS: Record<string, FunctionSpec> = {
  MIN: { min: 2, max: Number.POSITIVE_INFINITY },
  MAX: { min: 2, max: Number.POSITIVE_INFINITY },
  CLAMP: { min: 3, max: 3 },
  MOD: { min: 2, max: 2 },
  FLOOR: { min: 1, max: 1 },
  CEIL: { min: 1, max: 1 },
  ROUND: { min: 1, max: 1 },
  STEP: { min: 2, max: 2 },
  PULSE: { min: 1, max: 3 },
  SHIFT: { min: 2, max: 2 },
  CONV: { min: 2, max: 2 },
};

const literalInteger = (e: Expr | undefined, what: string, min: number, pos: number): number => {
  const v = e?.type === 'num' ? e.value : undefined;
  if (v === undefined || !Number.isInteger(v) || v < min) {
    throw new ExpressionError(`${what} must be an integer literal >= ${min}`, pos);
  }
  return v;
};

/** The SHIFT lag, the CONV kernel: validated literal arguments. */
export const shiftLag = (call: Extract<Expr, { type: 'call' }>): number =>
  literalInteger(call.args[1], 'SHIFT lag', 0, call.pos);

export const convKernel = (call: Extract<Expr, { type: 'call' }>): number[] => {
  const k = call.args[1];
  if (k?.type !== 'array' || k.values.length === 0) {
    throw new ExpressionError('CONV kernel must be a non-empty array literal', call.pos);
  }
  return k.values;
};

export const pulseArgs = (call: Extract<Expr, { type: 'call' }>): { period: number; phase: number } => ({
  period: literalInteger(call.args[0], 'PULSE period', 1, call.pos),
  phase: call.args.length >= 2 ? literalInteger(call.args[1], 'PULSE phase', 0, call.pos) : 0,
});

/** Throws an ExpressionError for the first problem found. */
export const checkExpression = (e: Expr): void => {
  switch (e.type) {
    case 'num':
    case 'ref':
      return;
    case 'array':
      throw new ExpressionError('an array literal is only allowed as the kernel of CONV', e.pos);
    case 'neg':
      checkExpression(e.arg);
      return;
    case 'bin':
      checkExpression(e.left);
      checkExpression(e.right);
      return;
    case 'call': {
      const spec = FUNCTIONS[e.name];
      if (!spec) {
        throw new ExpressionError(
          `unknown function ${e.name}: supported functions are ${Object.keys(FUNCTIONS).join(', ')}`,
          e.pos,
        );
      }
      if (e.args.length < spec.min || e.args.length > spec.max) {
        const want = spec.min === spec.max ? `${spec.min}` : `${spec.min} or more`;
        throw new ExpressionError(`${e.name} takes ${want} arguments, not ${e.args.length}`, e.pos);
      }
      if (e.name === 'SHIFT') shiftLag(e);
      if (e.name === 'CONV') convKernel(e);
      if (e.name === 'SHIFT' || e.name === 'CONV') {
        checkExpression(e.args[0]!);
        return;
      }
      if (e.name === 'PULSE') {
        pulseArgs(e);
        if (e.args[2]) checkExpression(e.args[2]);
        return;
      }
      for (const a of e.args) checkExpression(a);
    }
  }
};

/** Every series the expression reads, with the smallest lag at which it reads it. */
export const references = (e: Expr, lag = 0, out = new Map<string, number>()): Map<string, number> => {
  switch (e.type) {
    case 'ref': {
      const seen = out.get(e.name);
      if (seen === undefined || lag < seen) out.set(e.name, lag);
      return out;
    }
    case 'neg':
      return references(e.arg, lag, out);
    case 'bin':
      references(e.left, lag, out);
      return references(e.right, lag, out);
    case 'call': {
      if (e.name === 'SHIFT') return references(e.args[0]!, lag + shiftLag(e), out);
      if (e.name === 'CONV') {
        const kernel = convKernel(e);
        const first = kernel.findIndex((w) => w !== 0);
        return references(e.args[0]!, lag + (first < 0 ? kernel.length : first), out);
      }
      for (const a of e.args) references(a, lag, out);
      return out;
    }
    default:
      return out;
  }
};
