// From what was resolved and observed to the status fields, the kstatus outcome and the Events
// worth recording. Pure.
import { isDeepStrictEqual } from 'node:util';
import type { Outcome } from '../../controller/runtime/conditions.ts';
import type { EventType } from '../../controller/runtime/events.ts';
import type { Condition } from '../../crds/common.ts';
import type { MachineStatus } from '../../crds/machine.ts';
import type { Reachability } from './reachability.ts';
import type { Resolution } from './resolve.ts';

export interface Observed {
  /** Live: the result of this reconcile's connect. */
  reachability?: Reachability;
  /** Simulated: the command endpoint URL, once the controller's HTTP server is known. */
  endpoint?: string;
}

/** Every field the reconciler owns; undefined removes it. */
export interface MachineFields {
  phase: string;
  mode: 'simulated' | 'live';
  definition: MachineStatus['definition'];
  backend: MachineStatus['backend'];
  migratedFrom: MachineStatus['migratedFrom'];
  endpoint: string | undefined;
}

export interface Decision {
  fields: MachineFields;
  outcome: Outcome;
}

export const decide = (mode: 'simulated' | 'live', r: Resolution, seen: Observed): Decision => {
  if (!r.ok) {
    return {
      fields: {
        phase: 'Failed',
        mode,
        definition: r.definition,
        backend: undefined,
        migratedFrom: undefined,
        endpoint: undefined,
      },
      outcome: { kind: 'stalled', reason: r.reason, message: r.message },
    };
  }
  if (r.mode === 'live') {
    const fields: MachineFields = {
      phase: 'Running',
      mode: 'live',
      definition: r.definition,
      backend: r.backend,
      migratedFrom: undefined,
      endpoint: undefined,
    };
    const target = `${r.connection.host}:${r.connection.port}`;
    const reach = seen.reachability;
    if (!reach) {
      return {
        fields: { ...fields, phase: 'Provisioning' },
        outcome: { kind: 'progressing', reason: 'Checking', message: `connecting to ${target}` },
      };
    }
    if (!reach.reachable) {
      return {
        fields: { ...fields, phase: 'Unreachable' },
        outcome: { kind: 'failed', reason: 'Unreachable', message: `${target}: ${reach.error}` },
      };
    }
    return {
      fields,
      outcome: { kind: 'ready', reason: 'Reachable', message: `${target} accepts connections` },
    };
  }
  const fields: MachineFields = {
    phase: 'Running',
    mode: 'simulated',
    definition: r.definition,
    backend: r.backend,
    migratedFrom: r.migratedFrom
      ? {
          ...(r.migratedFrom.definition ? { definition: r.migratedFrom.definition } : {}),
          ...(r.migratedFrom.backendFqn ? { backendFqn: r.migratedFrom.backendFqn } : {}),
        }
      : undefined,
    endpoint: seen.endpoint,
  };
  if (!seen.endpoint) {
    return {
      fields: { ...fields, phase: 'Provisioning' },
      outcome: {
        kind: 'progressing',
        reason: 'WaitingForEndpoint',
        message: 'waiting for the controller HTTP server to serve the command endpoint',
      },
    };
  }
  const migrated = r.migratedFrom
    ? ' (migrated from the legacy form: run `simops migrate machines` to rewrite the manifest)'
    : '';
  return {
    fields,
    outcome: {
      kind: 'ready',
      reason: 'Simulated',
      message: `${r.definition.name} with backend ${r.backend.name}; commands at ${seen.endpoint}${migrated}`,
    },
  };
};

export interface MachineEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** Events for a person reading `kubectl describe`: a new outcome, and a migration. */
export const eventsFor = (old: MachineStatus, d: Decision): MachineEvent[] => {
  const events: MachineEvent[] = [];
  const m = d.fields.migratedFrom;
  if (m && !isDeepStrictEqual(old.migratedFrom, m) && d.fields.backend && d.fields.definition) {
    const from = [m.definition && `definition ${m.definition}`, m.backendFqn && `backend_fqn ${m.backendFqn}`]
      .filter(Boolean)
      .join(', ');
    events.push({
      type: 'Normal',
      reason: 'Migrated',
      message: `legacy ${from} migrated to ${d.fields.definition.fqn} with backend ${d.fields.backend.name}`,
    });
  }
  if (d.outcome.kind === 'progressing') return events;
  const ready = (old.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
  // A machine Ready from its first reconcile records nothing: status says so, and with thousands
  // of machines synced from git an Event each was most of what the API server held. A first
  // outcome that needs attention, and every later change, is recorded.
  const firstAndReady = ready === undefined && d.outcome.kind === 'ready';
  if (!firstAndReady && (ready?.reason !== d.outcome.reason || ready?.message !== d.outcome.message)) {
    events.push({
      type: d.outcome.kind === 'ready' ? 'Normal' : 'Warning',
      reason: d.outcome.reason,
      message: d.outcome.message,
    });
  }
  return events;
};
