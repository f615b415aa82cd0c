// The simulated device behind a machine's command endpoint, as PyLabRobot's chatterbox backends
// behave: every operation is acknowledged (and printed), plate readers return zero-filled plates,
// and canned responses from spec.simulation.responses take precedence. Pure.

export interface CannedResponse {
  result?: unknown;
  sequence?: unknown[];
  error?: string;
}

export interface DeviceConfig {
  /** `namespace/name`. */
  machine: string;
  category: string;
  backend: { name: string; fqn: string };
  /** Operations answered with a zero-filled plate. */
  plateReadings: readonly string[];
  responses: Readonly<Record<string, CannedResponse>>;
}

export interface Command {
  operation: string;
  args: Record<string, unknown>;
}

export type Answer =
  | { ok: true; result: unknown; output: string }
  | { ok: false; error: string; output: string };

const OPERATION = /^[A-Za-z_][A-Za-z0-9_.]{0,127}$/;

/** The request body `{"operation": "...", "args": {...}}`, or why it is not one. */
export const parseCommand = (body: unknown): Command | string => {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body must be a JSON object {"operation": "...", "args": {...}}';
  const { operation, args, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) return `unknown field ${extra[0]}`;
  if (typeof operation !== 'string' || !OPERATION.test(operation))
    return 'operation: must be a name such as read_absorbance';
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))
    return 'args: must be an object';
  return { operation, args: (args ?? {}) as Record<string, unknown> };
};

/** Rows × columns of the standard plate formats, by well count. */
export const PLATE_FORMATS: Readonly<Record<number, readonly [number, number]>> = {
  6: [2, 3],
  12: [3, 4],
  24: [4, 6],
  48: [6, 8],
  96: [8, 12],
  384: [16, 24],
  1536: [32, 48],
};

/** The plate a reading covers: `args.rows` × `args.columns`, or `args.wells` (default 96). */
export const plateShape = (args: Record<string, unknown>): [number, number] | string => {
  const { rows, columns, wells } = args;
  if (rows !== undefined || columns !== undefined) {
    const ok = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 64;
    if (!ok(rows) || !ok(columns)) return 'args.rows and args.columns: integers from 1 to 64, both set';
    return [rows as number, columns as number];
  }
  const format = PLATE_FORMATS[wells === undefined ? 96 : (wells as number)];
  if (!format) return `args.wells: one of ${Object.keys(PLATE_FORMATS).join(', ')}`;
  return [format[0], format[1]];
};

const zeroPlate = ([rows, columns]: [number, number]): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: columns }, () => 0));

/** What a chatterbox prints for a call: `read_absorbance(wavelength=450)`. */
export const chatter = (c: Command): string =>
  `${c.operation}(${Object.entries(c.args)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')})`;

/**
 * The answer to one command. `callIndex` counts earlier calls of the same operation (for
 * sequences). Returns a string when the command itself is malformed (a 400, not a device error).
 */
export const answer = (device: DeviceConfig, cmd: Command, callIndex: number): Answer | string => {
  const output = `${device.backend.name}: ${chatter(cmd)}`;
  const canned = device.responses[cmd.operation];
  if (canned) {
    if (canned.error !== undefined) return { ok: false, error: canned.error, output };
    if (canned.sequence?.length) {
      const i = Math.min(callIndex, canned.sequence.length - 1);
      return { ok: true, result: canned.sequence[i], output };
    }
    return { ok: true, result: canned.result ?? null, output };
  }
  if (device.plateReadings.includes(cmd.operation)) {
    const shape = plateShape(cmd.args);
    if (typeof shape === 'string') return shape;
    return { ok: true, result: zeroPlate(shape), output };
  }
  return { ok: true, result: null, output };
};
