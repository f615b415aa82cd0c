// The parts of a docker-compose file a Simulator uses, as Kompose reads them: image, command and
// entrypoint, environment, ports, network mode and deploy.resources. Pure: text in, services or
// errors naming the field out.
import { parse } from 'yaml';

export interface ComposeService {
  name: string;
  image?: string;
  /** compose `entrypoint` (a container's `command`). */
  entrypoint?: string[];
  /** compose `command` (a container's `args`). */
  command?: string[];
  environment: Record<string, string>;
  /** Container-side ports. */
  ports: number[];
  networkMode?: string;
  /** Kubernetes quantities from deploy.resources. */
  limits?: { cpu?: string; memory?: string };
  requests?: { cpu?: string; memory?: string };
}

export type ComposeResult = { ok: true; services: ComposeService[] } | { ok: false; errors: string[] };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A shell-like split: whitespace separates, single and double quotes group. */
export const splitCommand = (s: string): string[] => {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (has || cur) out.push(cur);
  return out;
};

/** compose byte sizes (`512m`, `1g`, `1024k`, `100b`) as Kubernetes quantities. */
export const memoryQuantity = (v: unknown): string | undefined => {
  if (typeof v === 'number') return String(v);
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(String(v).trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  return unit === 'b' ? m[1] : `${m[1]}${{ k: 'Ki', m: 'Mi', g: 'Gi' }[unit]}`;
};

/** compose cpus (`0.5`, `2`) as a Kubernetes quantity (`500m`, `2`). */
export const cpuQuantity = (v: unknown): string | undefined => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return Number.isInteger(n) ? String(n) : `${Math.round(n * 1000)}m`;
};

const stringList = (v: unknown, field: string, errors: string[]): string[] | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return splitCommand(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return v.map(String);
  errors.push(`${field}: must be a string or a list of strings`);
  return undefined;
};

const environmentOf = (v: unknown, field: string, errors: string[]): Record<string, string> => {
  const env: Record<string, string> = {};
  if (v === undefined || v === null) return env;
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq <= 0) errors.push(`${field}[${i}]: expected NAME=value, got ${JSON.stringify(s)}`);
      else env[s.slice(0, eq)] = s.slice(eq + 1);
    });
  } else if (isObject(v)) {
    for (const [k, val] of Object.entries(v)) env[k] = val === null ? '' : String(val);
  } else errors.push(`${field}: must be a list of NAME=value or a map`);
  return env;
};

const portOf = (p: unknown, field: string, errors: string[]): number | undefined => {
  let target: unknown;
  if (isObject(p)) target = p.target;
  else {
    // "8080", "80:8080", "127.0.0.1:80:8080", "8080/tcp": the container port is the last number.
    const s = String(p).replace(/\/(tcp|udp)$/i, '');
    target = s.split(':').at(-1);
  }
  const n = Number(target);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    errors.push(`${field}: ${JSON.stringify(p)} is not a port`);
    return undefined;
  }
  return n;
};

const resourcesOf = (r: unknown, field: string, errors: string[]) => {
  if (!isObject(r)) return undefined;
  const out: { cpu?: string; memory?: string } = {};
  if (r.cpus !== undefined) {
    const cpu = cpuQuantity(r.cpus);
    if (cpu) out.cpu = cpu;
    else errors.push(`${field}.cpus: ${JSON.stringify(r.cpus)} is not a CPU count`);
  }
  if (r.memory !== undefined) {
    const memory = memoryQuantity(r.memory);
    if (memory) out.memory = memory;
    else errors.push(`${field}.memory: ${JSON.stringify(r.memory)} is not a size`);
  }
  return Object.keys(out).length ? out : undefined;
};

export const parseCompose = (text: string): ComposeResult => {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, errors: [`not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  if (!isObject(doc) || !isObject(doc.services))
    return { ok: false, errors: ['services: a compose file needs a map of services'] };
  const errors: string[] = [];
  const services: ComposeService[] = [];
  for (const [name, raw] of Object.entries(doc.services)) {
    const f = `services.${name}`;
    if (!isObject(raw)) {
      errors.push(`${f}: must be a map`);
      continue;
    }
    const s: ComposeService = {
      name,
      environment: environmentOf(raw.environment, `${f}.environment`, errors),
      ports: [],
    };
    if (raw.image !== undefined) s.image = String(raw.image);
    const entrypoint = stringList(raw.entrypoint, `${f}.entrypoint`, errors);
    if (entrypoint) s.entrypoint = entrypoint;
    const command = stringList(raw.command, `${f}.command`, errors);
    if (command) s.command = command;
    if (raw.ports !== undefined) {
      if (!Array.isArray(raw.ports)) errors.push(`${f}.ports: must be a list`);
      else
        raw.ports.forEach((p, i) => {
          const port = portOf(p, `${f}.ports[${i}]`, errors);
          if (port !== undefined && !s.ports.includes(port)) s.ports.push(port);
        });
    }
    if (raw.network_mode !== undefined) s.networkMode = String(raw.network_mode);
    const resources = isObject(raw.deploy) ? raw.deploy.resources : undefined;
    if (isObject(resources)) {
      const limits = resourcesOf(resources.limits, `${f}.deploy.resources.limits`, errors);
      const requests = resourcesOf(resources.reservations, `${f}.deploy.resources.reservations`, errors);
      if (limits) s.limits = limits;
      if (requests) s.requests = requests;
    }
    services.push(s);
  }
  return errors.length ? { ok: false, errors } : { ok: true, services };
};
