// What a Machine is, decided from its spec and the catalog alone (no I/O): its definition, its
// backend, the legacy form it was migrated from, or the terminal error that stalls it.
import type { MachineSpec } from '../../crds/machine.ts';
import {
  type Catalog,
  type CatalogBackend,
  type CatalogCategory,
  defaultBackend,
  describeChoices,
  findBackend,
  shortNameOf,
  simulatedDefinition,
} from './catalog.ts';

export interface Definition {
  name: string;
  fqn: string;
  frontendFqn: string;
}

export interface BackendRef {
  name: string;
  fqn: string;
}

/** The legacy form (seed 001, phase 5): bound to a specific simulated definition. */
export interface LegacyForm {
  definition?: string;
  backendFqn?: string;
}

export interface Connection {
  host: string;
  port: number;
}

export type Resolution =
  | {
      ok: true;
      mode: 'simulated';
      category: CatalogCategory;
      definition: Definition;
      backend: BackendRef;
      migratedFrom?: LegacyForm;
    }
  | {
      ok: true;
      mode: 'live';
      category: CatalogCategory;
      definition: Definition;
      backend?: BackendRef;
      connection: Connection;
    }
  | { ok: false; reason: string; message: string; definition?: Definition };

const FQN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

export const legacyFormOf = (spec: MachineSpec): LegacyForm | undefined => {
  const fqn = spec.connectionInfo?.backend_fqn;
  const backendFqn = typeof fqn === 'string' && fqn ? fqn : undefined;
  if (!spec.definition && !backendFqn) return undefined;
  return {
    ...(spec.definition ? { definition: spec.definition } : {}),
    ...(backendFqn ? { backendFqn } : {}),
  };
};

/** The seed's migration rule: `*Chatterbox*` → `chatterbox`, `*Simulator*` → `simulator`. */
export const legacyShortName = (legacy: LegacyForm): string | undefined => {
  for (const fqn of [legacy.backendFqn, legacy.definition]) {
    if (!fqn) continue;
    if (/chatterbox/i.test(fqn)) return 'chatterbox';
    if (/simulator/i.test(fqn)) return 'simulator';
  }
  return undefined;
};

/** The backend a legacy machine meant: its exact FQN in the catalog, else the seed's mapping. */
const legacyBackend = (c: CatalogCategory, legacy: LegacyForm): CatalogBackend | undefined => {
  for (const fqn of [legacy.backendFqn, legacy.definition]) {
    const exact = fqn ? c.backends.find((b) => b.fqn === fqn || b.aliases?.includes(fqn)) : undefined;
    if (exact) return exact;
  }
  const short = legacyShortName(legacy);
  return short ? findBackend(c, short) : undefined;
};

const liveDefinition = (c: CatalogCategory): Definition => ({
  name: c.displayName,
  fqn: c.frontendFqn,
  frontendFqn: c.frontendFqn,
});

const simDefinition = (c: CatalogCategory): Definition => {
  const { name, fqn, frontendFqn } = simulatedDefinition(c);
  return { name, fqn, frontendFqn };
};

/** host and port of a live machine: `port` an integer 1–65535 (a numeric string is accepted). */
export const connectionOf = (info: Record<string, unknown> | undefined): Connection | string => {
  const host = info?.host;
  const raw = info?.port;
  const port = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof host !== 'string' || !host.trim()) return 'connectionInfo.host: Required value';
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    return `connectionInfo.port: must be a port number (1-65535), got ${JSON.stringify(raw ?? null)}`;
  return { host: host.trim(), port };
};

export const resolveMachine = (spec: MachineSpec, catalog: Catalog): Resolution => {
  const c = catalog.get(spec.category);
  if (!c) {
    return {
      ok: false,
      reason: 'UnknownCategory',
      message: `category ${JSON.stringify(spec.category)} is not in the machine catalog; valid categories: ${[...catalog.keys()].join(', ')}`,
    };
  }

  if (spec.simulated === false) {
    const definition = liveDefinition(c);
    const connection = connectionOf(spec.connectionInfo);
    if (typeof connection === 'string')
      return {
        ok: false,
        reason: 'InvalidConnectionInfo',
        message: `a live machine needs host and port: ${connection}`,
        definition,
      };
    let backend: BackendRef | undefined;
    if (spec.backend) {
      const simulated = findBackend(c, spec.backend);
      if (simulated)
        return {
          ok: false,
          reason: 'SimulatedBackend',
          message: `backend ${JSON.stringify(spec.backend)} is the simulation backend ${simulated.fqn}; a live machine (simulated: false) names the driver of the real device, or none`,
          definition,
        };
      backend = {
        name: FQN.test(spec.backend) ? shortNameOf(spec.backend, c.name) : spec.backend,
        fqn: spec.backend,
      };
    }
    return { ok: true, mode: 'live', category: c, definition, connection, ...(backend ? { backend } : {}) };
  }

  const definition = simDefinition(c);
  const legacy = legacyFormOf(spec);
  let chosen: CatalogBackend | undefined;
  if (spec.backend) {
    chosen = findBackend(c, spec.backend);
    if (!chosen)
      return {
        ok: false,
        reason: 'UnknownBackend',
        message: `backend ${JSON.stringify(spec.backend)} is not a simulation backend of ${c.name}; valid choices: ${describeChoices(c)}`,
        definition,
      };
  } else if (legacy) {
    chosen = legacyBackend(c, legacy);
    if (!chosen)
      return {
        ok: false,
        reason: 'UnknownBackend',
        message: `the legacy backend ${legacy.backendFqn ?? legacy.definition} maps to no simulation backend of ${c.name}; set spec.backend to one of: ${describeChoices(c)}`,
        definition,
      };
  } else {
    chosen = defaultBackend(c);
  }
  if (!chosen)
    return {
      ok: false,
      reason: 'UnknownBackend',
      message: `category ${c.name} has no simulation backends`,
      definition,
    };
  return {
    ok: true,
    mode: 'simulated',
    category: c,
    definition,
    backend: { name: chosen.name, fqn: chosen.fqn },
    ...(legacy ? { migratedFrom: legacy } : {}),
  };
};
