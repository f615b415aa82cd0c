// FlowTime's expression language: numbers, series references, + - * /, unary minus, parentheses,
// function calls, and array literals (CONV's kernel). Recursive descent; errors carry the position.

export type Expr =
  | { type: 'num'; value: number }
  | { type: 'array'; values: number[]; pos: number }
  | { type: 'ref'; name: string; pos: number }
  | { type: 'bin'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr }
  | { type: 'neg'; arg: Expr }
  | { type: 'call'; name: string; args: Expr[]; pos: number };

export class ExpressionError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.position = position;
  }
}

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Deeper nesting than this is refused rather than risking the stack. */
const MAX_DEPTH = 200;

export const parseExpression = (input: string): Expr => {
  let pos = 0;
  let depth = 0;
  const skip = () => {
    while (pos < input.length && /\s/.test(input[pos]!)) pos++;
  };
  const peek = () => {
    skip();
    return input[pos];
  };
  const expect = (c: string) => {
    if (peek() !== c) throw new ExpressionError(`expected '${c}'`, pos);
    pos++;
  };
  const number = (): number => {
    skip();
    const m = NUMBER.exec(input.slice(pos));
    if (!m) throw new ExpressionError('expected a number', pos);
    pos += m[0].length;
    return Number(m[0]);
  };

  const expression = (): Expr => {
    let left = term();
    for (;;) {
      const c = peek();
      if (c !== '+' && c !== '-') return left;
      pos++;
      left = { type: 'bin', op: c, left, right: term() };
    }
  };
  const term = (): Expr => {
    let left = factor();
    for (;;) {
      const c = peek();
      if (c !== '*' && c !== '/') return left;
      pos++;
      left = { type: 'bin', op: c, left, right: factor() };
    }
  };
  const factor = (): Expr => {
    if (++depth > MAX_DEPTH) throw new ExpressionError(`nested more than ${MAX_DEPTH} deep`, pos);
    try {
      return primary();
    } finally {
      depth--;
    }
  };
  const primary = (): Expr => {
    const c = peek();
    const at = pos;
    if (c === undefined) throw new ExpressionError('unexpected end of expression', pos);
    if (c === '(') {
      pos++;
      const e = expression();
      expect(')');
      return e;
    }
    if (c === '-') {
      pos++;
      return { type: 'neg', arg: factor() };
    }
    if (c === '+') {
      pos++;
      return factor();
    }
    if (c === '[') return array();
    if (/[0-9.]/.test(c)) return { type: 'num', value: number() };
    const m = IDENT.exec(input.slice(pos));
    if (!m) throw new ExpressionError(`unexpected character '${c}'`, pos);
    pos += m[0].length;
    if (peek() !== '(') return { type: 'ref', name: m[0], pos: at };
    pos++;
    const args: Expr[] = [];
    if (peek() !== ')') {
      for (;;) {
        args.push(expression());
        if (peek() === ',') {
          pos++;
          continue;
        }
        break;
      }
    }
    expect(')');
    return { type: 'call', name: m[0].toUpperCase(), args, pos: at };
  };
  const array = (): Expr => {
    const at = pos;
    expect('[');
    const values: number[] = [];
    if (peek() === ']') {
      pos++;
      return { type: 'array', values, pos: at };
    }
    for (;;) {
      const negative = peek() === '-';
      if (negative) pos++;
      const n = number();
      values.push(negative ? -n : n);
      const c = peek();
      pos++;
      if (c === ']') return { type: 'array', values, pos: at };
      if (c !== ',') throw new ExpressionError("expected ',' or ']' in array literal", pos - 1);
    }
  };

  const e = expression();
  skip();
  if (pos < input.length) throw new ExpressionError(`unexpected character '${input[pos]}'`, pos);
  return e;
};
