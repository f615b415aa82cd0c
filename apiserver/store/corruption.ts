// The error recovery throws when a store file is damaged in a way a crash cannot explain.

export class StoreCorruptionError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}; the store cannot be recovered automatically`);
    this.name = 'StoreCorruptionError';
    this.file = file;
    this.line = line;
  }
}
