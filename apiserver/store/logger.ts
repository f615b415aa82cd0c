// What the store logs through: a subset of pino's Logger, so the server's logger can be passed as is.

export interface StoreLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Without a logger, problems still reach stderr; routine information is dropped. */
export const stderrLogger: StoreLogger = {
  info: () => {},
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};
