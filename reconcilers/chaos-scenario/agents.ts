// The agents: each arrival of the schedule walks its journey (think, fill the templates, send,
// check the status, remember the JSON answer), up to maxConcurrentAgents at once. `localAgents`
// runs them on the calling thread; agent-worker.ts runs the same code on a worker thread so that
// their sockets, callbacks and garbage never delay the clock's ticks.

import { LoadClient, type LoadClientLike } from './load-client.ts';
import type { JourneySpec } from './model.ts';
import { RawHttpClient } from './raw-http.ts';
import type { Arrival } from './schedule.ts';
import type { Outcome } from './stats.ts';
import { type AgentVars, fillPath, fillValue, readsLast } from './template.ts';

export interface StepPlan {
  method: string;
  path: string;
  body: unknown;
  expect?: readonly number[];
  thinkMs: number;
  wantBody: boolean;
  cancel: boolean;
}

export const planJourneys = (journeys: readonly JourneySpec[]): StepPlan[][] =>
  journeys.map((j) =>
    j.steps.map((step, i) => ({
      method: step.method ?? 'GET',
      path: step.path,
      body: step.body,
      ...(step.expectStatus ? { expect: step.expectStatus } : {}),
      thinkMs: step.thinkTimeMs ?? 0,
      wantBody: j.steps.slice(i + 1).some((later) => readsLast(later.path) || readsLast(later.body)),
      cancel: step.choice === 'cancel',
    })),
  );

export interface AgentCounts {
  active: number;
  spawned: number;
  /** Arrivals turned away at maxConcurrentAgents. */
  throttled: number;
  /** Agents that walked their journey to the end. */
  completed: number;
}

export interface AgentOptions {
  /** Where requests go (the target, or the fault proxy in front of it). */
  base: string;
  timeoutMs: number;
  maxAgents: number;
  plans: StepPlan[][];
  runId: string;
  seed: number;
}

export interface AgentPool {
  readonly counts: AgentCounts;
  spawn(arrivals: readonly Arrival[]): void;
  /** The kill switch: from now on nothing is sent; requests in flight are reset. */
  abort(): void;
  /** Resolves when the agents are gone (abort() first if it was not called). */
  close(): Promise<void>;
}

/** Timers the kill switch can cancel all at once. */
export class Sleeper {
  private readonly pending = new Map<NodeJS.Timeout, (woke: boolean) => void>();
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.pending.delete(t);
        resolve(true);
      }, ms);
      this.pending.set(t, resolve);
    });
  }
  cancelAll() {
    for (const [t, resolve] of this.pending) {
      clearTimeout(t);
      resolve(false);
    }
    this.pending.clear();
  }
}

/** Agents on this thread; `record` gets every answered or failed request. */
export const localAgents = (
  opts: AgentOptions,
  record: (latencyUs: number, outcome: Outcome) => void,
): AgentPool => {
  const client: LoadClientLike = opts.base.startsWith('https:')
    ? new LoadClient(opts.base, { maxSockets: opts.maxAgents, timeoutMs: opts.timeoutMs })
    : new RawHttpClient(opts.base, { timeoutMs: opts.timeoutMs });
  const sleeper = new Sleeper();
  const counts: AgentCounts = { active: 0, spawned: 0, throttled: 0, completed: 0 };
  let stopped = false;

  const walk = async (a: Arrival) => {
    counts.active++;
    counts.spawned++;
    const steps = opts.plans[a.journey]!;
    const vars: AgentVars = {
      index: a.index,
      kind: a.agent,
      draw: a.draw,
      runId: opts.runId,
      seed: opts.seed,
      last: undefined,
    };
    try {
      for (let i = 0; i < steps.length; i++) {
        if (!a.steps[i]) continue;
        const step = steps[i]!;
        if (step.thinkMs > 0 && !(await sleeper.sleep(step.thinkMs))) return;
        if (stopped) return;
        const body = step.body === undefined ? undefined : JSON.stringify(fillValue(step.body, vars));
        const reply = await client.send(step.method, fillPath(step.path, vars), body, {
          ...(step.expect ? { expect: step.expect } : {}),
          wantBody: step.wantBody,
        });
        if (!reply || stopped) return;
        record(reply.latencyUs, reply.outcome);
        if (reply.outcome !== 'ok') return;
        if (reply.body !== undefined) vars.last = reply.body;
        if (step.cancel) break;
      }
      counts.completed++;
    } finally {
      counts.active--;
    }
  };

  const abort = () => {
    if (stopped) return;
    stopped = true;
    client.abortAll();
    sleeper.cancelAll();
  };
  return {
    counts,
    spawn(arrivals) {
      for (const a of arrivals) {
        if (stopped) return;
        if (counts.active >= opts.maxAgents) counts.throttled++;
        else void walk(a);
      }
    },
    abort,
    async close() {
      abort();
    },
  };
};
