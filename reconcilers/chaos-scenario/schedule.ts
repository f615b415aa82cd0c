// The schedule of a run, a pure function of the resolved scenario and its seed: when each agent
// arrives (a Poisson process per agent kind at the policy rate, multiplied during RATE_LIMIT_BURST
// windows, drawn by thinning), which journey it walks, which choice steps it takes, and the events.
// Generated lazily (a run may have millions of arrivals) and hashed into a digest that status shows:
// the same seed gives the same digest, and the run follows exactly this schedule.
import { createHash } from 'node:crypto';
import type { ResolvedScenario } from './model.ts';
import { spawnMultiplier } from './resolve.ts';
import { Rng } from './rng.ts';

export type AgentKind = 'customer' | 'vendor';

export interface Arrival {
  /** Order of arrival over both kinds, from 0. */
  index: number;
  atSimMinute: number;
  agent: AgentKind;
  /** Index into scenario.journeys. */
  journey: number;
  /** Per step of the journey: whether the agent takes it (choice steps by the policy chances). */
  steps: boolean[];
  /** A uint32 for the agent's own picks (`{{pick a|b|c}}`). */
  draw: number;
}

const STREAMS: Record<AgentKind, number> = { customer: 1, vendor: 2 };

/** The largest multiplier any sim minute sees (the thinning envelope). */
const maxMultiplier = (s: ResolvedScenario): number => {
  let m = 1;
  for (const e of s.events) {
    if (e.type !== 'RATE_LIMIT_BURST') continue;
    m = Math.max(m, spawnMultiplier(s.events, e.triggerAt));
  }
  return m;
};

/** Arrivals of one kind, in time order. */
function* kindArrivals(s: ResolvedScenario, kind: AgentKind): Generator<Omit<Arrival, 'index'>> {
  const rate = kind === 'customer' ? s.policies.customerSpawnRate : s.policies.vendorSpawnRate;
  const journeys = s.journeys.map((j, i) => ({ j, i })).filter(({ j }) => j.agent === kind && j.weight > 0);
  if (rate <= 0 || !journeys.length) return;
  const totalWeight = journeys.reduce((sum, { j }) => sum + j.weight, 0);
  const envelope = rate * maxMultiplier(s);
  const end = s.simHours * 60;
  const rng = new Rng(s.seed, STREAMS[kind]);
  let t = 0;
  for (;;) {
    t += -Math.log(1 - rng.nextDouble()) / envelope;
    if (t >= end) return;
    const accept = rng.nextDouble() * envelope < rate * spawnMultiplier(s.events, t);
    if (!accept) continue;
    let pick = rng.nextDouble() * totalWeight;
    let chosen = journeys[journeys.length - 1]!;
    for (const candidate of journeys) {
      pick -= candidate.j.weight;
      if (pick < 0) {
        chosen = candidate;
        break;
      }
    }
    const steps = chosen.j.steps.map((step) => {
      if (!step.choice) return true;
      const chance = step.choice === 'cancel' ? s.policies.cancelChance : s.policies.rescheduleChance;
      return rng.nextDouble() < chance;
    });
    yield { atSimMinute: t, agent: kind, journey: chosen.i, steps, draw: rng.nextUint32() };
  }
}

/** Every arrival of the run, both kinds merged in time order. */
export function* arrivals(s: ResolvedScenario): Generator<Arrival> {
  const customers = kindArrivals(s, 'customer');
  const vendors = kindArrivals(s, 'vendor');
  let c = customers.next();
  let v = vendors.next();
  let index = 0;
  while (!c.done || !v.done) {
    if (!c.done && (v.done || c.value.atSimMinute <= v.value.atSimMinute)) {
      yield { index: index++, ...c.value };
      c = customers.next();
    } else if (!v.done) {
      yield { index: index++, ...v.value };
      v = vendors.next();
    }
  }
}

export interface ScheduleDigest {
  digest: string;
  arrivals: number;
  byKind: Record<AgentKind, number>;
}

/** sha256 of the schedule: arrivals (time to the microminute, kind, journey, steps taken) and events. */
export const scheduleDigest = (s: ResolvedScenario): ScheduleDigest => {
  const hash = createHash('sha256');
  hash.update(`seed ${s.seed}\n`);
  for (const e of s.events)
    hash.update(`event ${e.type} ${e.triggerAt} ${e.duration} ${canonicalJson(e.parameters)}\n`);
  const byKind = { customer: 0, vendor: 0 };
  let n = 0;
  for (const a of arrivals(s)) {
    n++;
    byKind[a.agent]++;
    hash.update(
      `${a.index} ${a.atSimMinute.toFixed(6)} ${a.agent} ${a.journey} ${a.steps.map((x) => (x ? 1 : 0)).join('')} ${a.draw}\n`,
    );
  }
  return { digest: `sha256:${hash.digest('hex')}`, arrivals: n, byKind };
};

export const canonicalJson = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
};
