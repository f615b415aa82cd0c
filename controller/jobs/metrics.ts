// Metrics of the job queues: whether the controller reaches Redis, what it submits, and what each
// worker runs. The work's own metrics (e.g. `simops_run_created_total`) are counted by the process
// that does the work: a worker when REDIS_URL is set.
import { defineCounter, defineGauge, defineHistogram } from '../runtime/metrics.ts';

/** Jobs run from milliseconds (a small simulation) to many minutes (chaos scenarios). */
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export const queueAvailable = defineGauge(
  'job_queue_available',
  '1 while the controller reaches the Redis of the job queue, else 0, by queue.',
  ['queue'],
);

export const jobsSubmitted = defineCounter(
  'jobs_submitted_total',
  'Jobs the controller added to a queue (resubmissions that collapse into a queued job included), by queue.',
  ['queue'],
);

export const workerJobs = defineCounter(
  'worker_jobs_total',
  'Jobs a worker ended, by queue and result (completed, failed, cancelled); a failed job may be retried.',
  ['queue', 'result'],
);

export const workerJobsActive = defineGauge('worker_jobs_active', 'Jobs a worker is running, by queue.', [
  'queue',
]);

export const workerJobDuration = defineHistogram(
  'worker_job_duration_seconds',
  'Time a worker spent on one job attempt, by queue and result.',
  ['queue', 'result'],
  JOB_BUCKETS,
);

export const workerRedisConnected = defineGauge(
  'worker_redis_connected',
  '1 while the worker is connected to Redis, else 0.',
);
