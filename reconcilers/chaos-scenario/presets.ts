// The seed's scenario pack (SimCity runbook): baseline, growth-curve, disaster-mix, vendor-sla and
// soak, with their durations, policies, events and invariants; the invariants by the seed's names
// and thresholds; and the default journeys, which walk the demo booking app (examples/app).
import type { JourneySpec, ResolvedEvent, ResolvedInvariant, ResolvedPolicies } from './model.ts';

export interface Preset {
  realSeconds: number;
  simHours: number;
  tickMs: number;
  policies: Partial<ResolvedPolicies>;
  events: Omit<ResolvedEvent, 'kind'>[];
  invariants: string[];
}

type CatalogInvariant = Omit<ResolvedInvariant, 'abortOnFail' | 'breachWindowMs'>;

/** The seed's invariants ("Invariants (Pass/Fail Gates)"), as metric, operator and threshold. */
export const INVARIANTS: Record<string, CatalogInvariant> = Object.fromEntries(
  (
    [
      ['api_p95_response_time', 'p95_latency_ms', '<', 500, 'critical'],
      ['api_p99_response_time', 'p99_latency_ms', '<', 1000, 'critical'],
      ['api_error_rate', 'error_rate', '<', 0.01, 'critical'],
      ['booking_funnel_success', 'booking_funnel_success', '>=', 0.85, 'critical'],
      ['vendor_sla_response', 'vendor_sla_response', '>=', 0.9, 'critical'],
      ['cache_hit_rate', 'cache_hit_rate', '>=', 0.5, 'warning'],
      ['cache_invalidation_spike', 'cache_invalidation_rate', '<', 0.35, 'warning'],
      ['zero_double_bookings', 'double_bookings', '==', 0, 'critical'],
      ['no_orphaned_references', 'orphaned_references', '==', 0, 'critical'],
      ['orchestrator_tick_drift', 'tick_drift_ms', '<', 100, 'critical'],
      ['memory_usage', 'memory_usage', '<', 0.8, 'critical'],
    ] as const
  ).map(([name, metric, op, threshold, severity]) => [name, { name, metric, op, threshold, severity }]),
);

export const PRESETS: Record<string, Preset> = {
  baseline: {
    realSeconds: 12 * 60,
    simHours: 20,
    tickMs: 1000,
    policies: { customerSpawnRate: 0.3, vendorSpawnRate: 0.1, maxConcurrentAgents: 50 },
    events: [],
    invariants: [
      'api_p95_response_time',
      'api_p99_response_time',
      'api_error_rate',
      'booking_funnel_success',
      'vendor_sla_response',
      'cache_hit_rate',
      'zero_double_bookings',
      'no_orphaned_references',
      'orchestrator_tick_drift',
    ],
  },
  'growth-curve': {
    realSeconds: 29 * 60,
    simHours: 48,
    tickMs: 1000,
    policies: { customerSpawnRate: 0.6, maxConcurrentAgents: 100 },
    events: [
      { type: 'RATE_LIMIT_BURST', triggerAt: 360, duration: 60, parameters: { multiplier: 2.0 } },
      { type: 'RATE_LIMIT_BURST', triggerAt: 720, duration: 60, parameters: { multiplier: 2.5 } },
      { type: 'RATE_LIMIT_BURST', triggerAt: 1080, duration: 60, parameters: { multiplier: 3.0 } },
    ],
    invariants: [
      'api_p95_response_time',
      'api_p99_response_time',
      'api_error_rate',
      'cache_hit_rate',
      'cache_invalidation_spike',
      'orchestrator_tick_drift',
      'memory_usage',
    ],
  },
  'disaster-mix': {
    realSeconds: 3.6 * 60,
    simHours: 6,
    tickMs: 2000,
    policies: { customerSpawnRate: 0.8, maxConcurrentAgents: 150 },
    events: [
      {
        type: 'CACHE_INVALIDATION_STORM',
        triggerAt: 30,
        duration: 30,
        parameters: { invalidationRate: 0.8 },
      },
      { type: 'PAUSE_MV_REFRESH', triggerAt: 90, duration: 60, parameters: { pauseDuration: 60 } },
      { type: 'RLS_MISCONFIG', triggerAt: 180, duration: 30, parameters: { misconfigType: 'admin_access' } },
    ],
    invariants: [
      'api_error_rate',
      'cache_hit_rate',
      'cache_invalidation_spike',
      'orchestrator_tick_drift',
      'memory_usage',
    ],
  },
  'vendor-sla': {
    realSeconds: 30 * 60,
    simHours: 50,
    tickMs: 1000,
    policies: { customerSpawnRate: 0.4, vendorSpawnRate: 0.25, maxConcurrentAgents: 60 },
    events: [],
    invariants: ['vendor_sla_response', 'booking_funnel_success', 'api_p95_response_time'],
  },
  soak: {
    realSeconds: 1008 * 60,
    simHours: 168,
    tickMs: 5000,
    policies: { customerSpawnRate: 0.1, maxConcurrentAgents: 25 },
    events: [],
    invariants: ['orchestrator_tick_drift', 'memory_usage', 'api_error_rate', 'cache_hit_rate'],
  },
};

/** Without a preset: one real minute for one sim hour, no events, the API SLOs. */
export const NO_PRESET: Preset = {
  realSeconds: 60,
  simHours: 1,
  tickMs: 1000,
  policies: { customerSpawnRate: 1, maxConcurrentAgents: 50 },
  events: [],
  invariants: ['api_p95_response_time', 'api_p99_response_time', 'api_error_rate'],
};

export const DEFAULT_POLICIES: ResolvedPolicies = {
  customerSpawnRate: 0,
  vendorSpawnRate: 0,
  maxConcurrentAgents: 50,
  rescheduleChance: 0.1,
  cancelChance: 0.05,
};

/**
 * A customer searches, books, maybe reschedules or cancels, and confirms; a vendor answers the
 * pending requests. The paths are the demo app's (examples/app/server.mjs).
 */
export const DEFAULT_JOURNEYS: JourneySpec[] = [
  {
    name: 'book',
    agent: 'customer',
    weight: 1,
    steps: [
      { name: 'home', method: 'GET', path: '/', expectStatus: [200], thinkTimeMs: 0 },
      {
        name: 'search',
        method: 'GET',
        path: '/api/search?slot={{pick morning|afternoon|evening}}',
        expectStatus: [200],
        thinkTimeMs: 50,
      },
      {
        name: 'book',
        method: 'POST',
        path: '/api/bookings',
        body: { slot: '{{pick morning|afternoon|evening}}', customer: '{{agent.email}}' },
        expectStatus: [201],
        thinkTimeMs: 100,
      },
      {
        name: 'reschedule',
        method: 'PATCH',
        path: '/api/bookings/{{last.id}}',
        body: { slot: 'evening' },
        expectStatus: [200],
        thinkTimeMs: 50,
        choice: 'reschedule',
      },
      {
        name: 'cancel',
        method: 'DELETE',
        path: '/api/bookings/{{last.id}}',
        expectStatus: [200],
        thinkTimeMs: 50,
        choice: 'cancel',
      },
      {
        name: 'confirm',
        method: 'POST',
        path: '/api/bookings/{{last.id}}/confirm',
        expectStatus: [200],
        thinkTimeMs: 50,
      },
    ],
  },
  {
    name: 'respond',
    agent: 'vendor',
    weight: 1,
    steps: [
      { name: 'inbox', method: 'GET', path: '/api/vendor/requests', expectStatus: [200], thinkTimeMs: 0 },
      {
        name: 'respond',
        method: 'POST',
        path: '/api/vendor/respond',
        body: { ids: '{{last.ids}}', vendor: '{{agent.email}}' },
        expectStatus: [200],
        thinkTimeMs: 100,
      },
    ],
  },
];

export const FAULT_TYPES = new Set(['LATENCY', 'ERRORS', 'RESET_PEER', 'BANDWIDTH', 'TIMEOUT']);
export const TRAFFIC_TYPES = new Set(['RATE_LIMIT_BURST']);

/** Metrics the runner measures itself; any other name is read from the target's metrics endpoint. */
export const BUILTIN_METRICS = new Set([
  'p50_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'max_latency_ms',
  'mean_latency_ms',
  'error_rate',
  'errors',
  'requests',
  'resets',
  'timeouts',
  'throughput_rps',
  'tick_drift_ms',
  'memory_usage',
  'memory_rss_mb',
  'active_agents',
]);
