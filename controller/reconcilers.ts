// Every reconciler SimOps runs, in one list for `simops up` and `simops controller`.
import { gitSourceReconciler } from '../reconcilers/git-source/reconciler.ts';
import { notImplementedReconciler } from '../reconcilers/not-implemented/reconciler.ts';
import { simopsKind } from './runtime/kinds.ts';
import type { Reconciler } from './runtime/reconciler.ts';

export interface ReconcilerOptions {
  /** Where git clones are cached. */
  cacheDir: string;
  onFetch?: (seconds: number, result: 'success' | 'error') => void;
}

/** Kinds whose reconcilers have not landed yet: they report NotImplemented. */
const PENDING = ['Simulator', 'Sandbox', 'Machine', 'SimulationRun', 'ChaosScenario'];

export const allReconcilers = (opts: ReconcilerOptions): Reconciler[] => [
  gitSourceReconciler({ cacheDir: opts.cacheDir, onFetch: opts.onFetch }),
  ...PENDING.map((k) => notImplementedReconciler(simopsKind(k))),
];
