// The simulator lifecycle of seed 000 as a pure function of what exists: Setup → Development →
// BaseReview → DataLayer → DataReview → Production. Artifacts (recorded by sandboxes) and review
// decisions (committed to git in spec.reviews) move it on; approval tags the artifact, by id and
// digest (Kargo: a mutable tag resolves to an immutable digest, recorded).
import type { Static } from '@sinclair/typebox';
import type { Outcome } from '../../controller/runtime/conditions.ts';
import type { EventType } from '../../controller/runtime/events.ts';
import type { Artifact, Review, SIMULATOR_PHASES, SimulatorSpec, Tag } from '../../crds/simulator.ts';

export type Phase = (typeof SIMULATOR_PHASES)[number];
export type ArtifactT = Static<typeof Artifact>;
export type TagT = Static<typeof Tag>;
type ReviewT = Static<typeof Review>;

/** The tag a Production simulator is started from. */
export const PROD_TAG = 'prod-latest';
/** The approved base environment, which data-layer sandboxes start from once prod-latest moved on. */
export const BASE_TAG = 'base-latest';

export interface LifecycleInput {
  reviews: SimulatorSpec['reviews'];
  artifacts: readonly ArtifactT[];
  tags: Readonly<Record<string, TagT>>;
}

export interface LifecycleEvent {
  type: EventType;
  reason: string;
  message: string;
}

export interface Lifecycle {
  phase: Phase;
  tags: Record<string, TagT>;
  reviewComment: string | undefined;
  outcome: Outcome;
  /** Events of the review decisions (rejections, refused approvals); phase and tag events come from `lifecycleEvents`. */
  events: LifecycleEvent[];
}

type Step =
  | { kind: 'approved'; artifact: ArtifactT }
  | { kind: 'waiting'; phase: Phase; reason: string; message: string; failed?: boolean; comment?: string }
  | { kind: 'rejected'; comment: string | undefined; message: string };

const by = (r: ReviewT) => (r.reviewer ? ` by ${r.reviewer}` : '');

/** One review (base or data): approved, or where the simulator waits and why. */
const reviewStep = (
  layer: 'base' | 'data',
  review: ReviewT | undefined,
  artifacts: readonly ArtifactT[],
  events: LifecycleEvent[],
): Step => {
  const working: Phase = layer === 'base' ? 'Development' : 'DataLayer';
  const reviewing: Phase = layer === 'base' ? 'BaseReview' : 'DataReview';
  const mine = artifacts.filter((a) => a.layer === layer);
  if (!review) {
    const ready = layer === 'base' ? mine.filter((a) => a.verified) : mine;
    const latest = ready.at(-1);
    return {
      kind: 'waiting',
      phase: working,
      reason: layer === 'base' ? 'InDevelopment' : 'InDataLayer',
      message: latest
        ? `${latest.id} is ${layer === 'base' ? 'verified' : 'recorded'}: commit spec.reviews.${layer} {artifact: ${latest.id}, decision: pending} to submit it`
        : layer === 'base'
          ? 'no verified base artifact yet: snapshot a sandbox started from the config, then start a sandbox from that artifact and pass its flows'
          : `no data artifact yet: start a sandbox from ${BASE_TAG}, seed data, and snapshot it`,
    };
  }
  const artifact = artifacts.find((a) => a.id === review.artifact);
  if (!artifact) {
    return {
      kind: 'waiting',
      phase: working,
      reason: 'UnknownArtifact',
      failed: true,
      message: `spec.reviews.${layer}.artifact: ${review.artifact} is not an artifact of this simulator (known: ${artifacts.map((a) => a.id).join(', ') || 'none'})`,
    };
  }
  if (artifact.layer !== layer) {
    return {
      kind: 'waiting',
      phase: working,
      reason: 'WrongLayer',
      failed: true,
      message: `spec.reviews.${layer}.artifact: ${artifact.id} is a ${artifact.layer} artifact, not a ${layer} one`,
    };
  }
  if (review.decision === 'rejected') {
    const message = `${layer} review of ${artifact.id} rejected${by(review)}${review.comment ? `: ${review.comment}` : ''}`;
    events.push({ type: 'Warning', reason: layer === 'base' ? 'BaseRejected' : 'DataRejected', message });
    return { kind: 'rejected', comment: review.comment ?? '(no comment)', message };
  }
  if (layer === 'base' && !artifact.verified) {
    const message = `${artifact.id} is not verified: no flow has passed on a sandbox started from it (spec.source.artifact: ${artifact.id})`;
    if (review.decision === 'approved')
      events.push({ type: 'Warning', reason: 'ApprovalRefused', message: `cannot approve: ${message}` });
    return { kind: 'waiting', phase: working, reason: 'NotVerified', message };
  }
  if (review.decision === 'pending') {
    return {
      kind: 'waiting',
      phase: reviewing,
      reason: layer === 'base' ? 'AwaitingBaseReview' : 'AwaitingDataReview',
      message: `${artifact.id} (${artifact.digest}) awaits review: commit spec.reviews.${layer}.decision approved or rejected`,
    };
  }
  return { kind: 'approved', artifact };
};

const tagOf = (a: ArtifactT): TagT => ({ artifact: a.id, digest: a.digest });

export const decideLifecycle = (input: LifecycleInput): Lifecycle => {
  const events: LifecycleEvent[] = [];
  const tags: Record<string, TagT> = { ...input.tags };
  const finish = (phase: Phase, step: Exclude<Step, { kind: 'approved' }>): Lifecycle => {
    if (step.kind === 'rejected') {
      return {
        phase: phase === 'BaseReview' ? 'Development' : phase,
        tags,
        reviewComment: step.comment,
        outcome: { kind: 'ready', reason: 'ReviewRejected', message: step.message },
        events,
      };
    }
    return {
      phase: step.phase,
      tags,
      reviewComment: undefined,
      outcome: step.failed
        ? { kind: 'failed', reason: step.reason, message: step.message }
        : { kind: 'ready', reason: step.reason, message: step.message },
      events,
    };
  };

  const base = reviewStep('base', input.reviews?.base, input.artifacts, events);
  if (base.kind !== 'approved') return finish('Development', base);
  tags[BASE_TAG] = tagOf(base.artifact);
  const data = reviewStep('data', input.reviews?.data, input.artifacts, events);
  if (data.kind !== 'approved') {
    // Until a data layer is approved, production is the approved base; an approved data layer
    // stays in production while the next one is prepared.
    const prod = input.tags[PROD_TAG];
    if (!prod || prod.artifact === input.tags[BASE_TAG]?.artifact) tags[PROD_TAG] = tagOf(base.artifact);
    return finish('DataLayer', data);
  }
  tags[PROD_TAG] = tagOf(data.artifact);
  return {
    phase: 'Production',
    tags,
    reviewComment: undefined,
    outcome: {
      kind: 'ready',
      reason: 'Production',
      message: `${PROD_TAG} is ${data.artifact.id} (${data.artifact.digest}): start sandboxes from {tag: ${PROD_TAG}}`,
    },
    events,
  };
};

/** Events for a person: a new phase, a tag that moved. */
export const lifecycleEvents = (
  old: { phase?: string; tags?: Record<string, TagT> },
  next: Lifecycle,
): LifecycleEvent[] => {
  const events: LifecycleEvent[] = [];
  if (old.phase !== undefined && old.phase !== next.phase)
    events.push({ type: 'Normal', reason: 'PhaseChanged', message: `${old.phase} → ${next.phase}` });
  for (const [name, tag] of Object.entries(next.tags)) {
    const before = old.tags?.[name];
    if (before?.artifact !== tag.artifact || before?.digest !== tag.digest)
      events.push({ type: 'Normal', reason: 'Tagged', message: `${name} → ${tag.artifact} (${tag.digest})` });
  }
  return events;
};
