// Where a Sandbox's flow runs and snapshot archives go when job queues (Redis) are set. A worker
// reaches what the kubernetes runtime runs (a Service any pod reaches, files it does not need),
// so those are queued. A process-runtime sandbox listens on the controller's loopback and keeps
// its working directory in the controller's artifact directory (the chart's artifacts volume is an
// emptyDir unless shared): its flows and snapshots run in the controller, queues or not.

/** Whether the flows and snapshots of a sandbox on `runtime` are queued for workers, when there are
 * job queues. */
export const runsOnWorkers = (runtime: string): boolean => runtime === 'kubernetes';
