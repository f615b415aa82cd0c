// Business metrics the target exposes, read from a JSON document (numbers, nested objects joined
// with `.`) or the Prometheus text format (`name value`, and `name{labels} value` under both the
// full series and, for the first series, the bare name).
export const parseMetrics = (text: string, contentType = ''): Record<string, number> => {
  const trimmed = text.trimStart();
  if (/json/.test(contentType) || trimmed.startsWith('{')) {
    try {
      return flatten(JSON.parse(text));
    } catch {
      return {};
    }
  }
  return parsePrometheus(text);
};

const flatten = (v: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> => {
  if (typeof v === 'number' && Number.isFinite(v)) out[prefix] = v;
  else if (typeof v === 'boolean') out[prefix] = v ? 1 : 0;
  else if (v && typeof v === 'object' && !Array.isArray(v))
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  return out;
};

export const parsePrometheus = (text: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(
      m[3] === '+Inf' ? Number.POSITIVE_INFINITY : m[3] === '-Inf' ? Number.NEGATIVE_INFINITY : m[3],
    );
    if (Number.isNaN(value)) continue;
    if (m[2]) out[m[1]! + m[2]] = value;
    if (!(m[1]! in out)) out[m[1]!] = value;
  }
  return out;
};

/** Polls a metrics endpoint; `latest` holds the last good read. */
export class MetricsPoller {
  latest: Record<string, number> = {};
  /** performance.now() of the last good read. */
  readAt = 0;
  failures = 0;
  lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly url: string;
  private readonly intervalMs: number;
  private readonly signal: AbortSignal;

  constructor(url: string, intervalMs: number, signal: AbortSignal) {
    this.url = url;
    this.intervalMs = intervalMs;
    this.signal = signal;
  }

  async poll(): Promise<void> {
    try {
      const res = await fetch(this.url, {
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(Math.max(1000, this.intervalMs))]),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.latest = parseMetrics(text, res.headers.get('content-type') ?? '');
      this.readAt = performance.now();
      this.lastError = undefined;
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
    }
  }

  start() {
    const loop = async () => {
      if (this.stopped) return;
      await this.poll();
      if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
    };
    void loop();
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
