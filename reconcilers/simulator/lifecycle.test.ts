import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ArtifactT, BASE_TAG, decideLifecycle, lifecycleEvents, PROD_TAG } from './lifecycle.ts';

const art = (id: string, layer: 'base' | 'data', verified = false): ArtifactT => ({
  id,
  dataset: 'base',
  digest: `sha256:${id}`,
  layer,
  created: '2026-01-01T00:00:00Z',
  verified,
});

describe('simulator lifecycle', () => {
  it('is in Development without a verified base artifact, and says what to do next', () => {
    const l = decideLifecycle({ reviews: undefined, artifacts: [], tags: {} });
    assert.equal(l.phase, 'Development');
    assert.equal(l.outcome.kind, 'ready');
    assert.match(l.outcome.message, /no verified base artifact/);
    const v = decideLifecycle({ reviews: undefined, artifacts: [art('art_a', 'base', true)], tags: {} });
    assert.equal(v.phase, 'Development');
    assert.match(v.outcome.message, /art_a is verified: commit spec\.reviews\.base/);
  });

  it('waits in BaseReview for a pending review of a verified base artifact', () => {
    const l = decideLifecycle({
      reviews: { base: { artifact: 'art_a', decision: 'pending' } },
      artifacts: [art('art_a', 'base', true)],
      tags: {},
    });
    assert.equal(l.phase, 'BaseReview');
    assert.equal(l.outcome.reason, 'AwaitingBaseReview');
  });

  it('refuses to approve an unverified artifact, with a Warning', () => {
    const l = decideLifecycle({
      reviews: { base: { artifact: 'art_a', decision: 'approved' } },
      artifacts: [art('art_a', 'base', false)],
      tags: {},
    });
    assert.equal(l.phase, 'Development');
    assert.deepEqual(l.tags, {});
    assert.equal(l.events[0]?.reason, 'ApprovalRefused');
  });

  it('sends a rejected review back to Development with the comment', () => {
    const l = decideLifecycle({
      reviews: {
        base: { artifact: 'art_a', decision: 'rejected', reviewer: 'kim', comment: 'login is slow' },
      },
      artifacts: [art('art_a', 'base', true)],
      tags: {},
    });
    assert.equal(l.phase, 'Development');
    assert.equal(l.reviewComment, 'login is slow');
    assert.deepEqual(
      l.events.map((e) => [e.type, e.reason]),
      [['Warning', 'BaseRejected']],
    );
    assert.match(l.events[0]!.message, /rejected by kim: login is slow/);
  });

  it('tags an approved base prod-latest by id and digest and moves to DataLayer', () => {
    const l = decideLifecycle({
      reviews: { base: { artifact: 'art_a', decision: 'approved' } },
      artifacts: [art('art_a', 'base', true)],
      tags: {},
    });
    assert.equal(l.phase, 'DataLayer');
    assert.deepEqual(l.tags[PROD_TAG], { artifact: 'art_a', digest: 'sha256:art_a' });
    assert.deepEqual(l.tags[BASE_TAG], { artifact: 'art_a', digest: 'sha256:art_a' });
  });

  it('goes through DataReview to Production, and prod-latest follows the approved data', () => {
    const artifacts = [art('art_a', 'base', true), art('art_d', 'data')];
    const base = { artifact: 'art_a', decision: 'approved' as const };
    const tags = { [PROD_TAG]: { artifact: 'art_a', digest: 'sha256:art_a' } };
    const review = decideLifecycle({
      reviews: { base, data: { artifact: 'art_d', decision: 'pending' } },
      artifacts,
      tags,
    });
    assert.equal(review.phase, 'DataReview');
    assert.equal(review.tags[PROD_TAG]?.artifact, 'art_a');
    const rejected = decideLifecycle({
      reviews: { base, data: { artifact: 'art_d', decision: 'rejected', comment: 'too few bookings' } },
      artifacts,
      tags,
    });
    assert.equal(rejected.phase, 'DataLayer');
    assert.equal(rejected.reviewComment, 'too few bookings');
    const prod = decideLifecycle({
      reviews: { base, data: { artifact: 'art_d', decision: 'approved' } },
      artifacts,
      tags,
    });
    assert.equal(prod.phase, 'Production');
    assert.deepEqual(prod.tags[PROD_TAG], { artifact: 'art_d', digest: 'sha256:art_d' });
    assert.deepEqual(
      lifecycleEvents({ phase: 'DataReview', tags }, prod).map((e) => e.reason),
      ['PhaseChanged', 'Tagged', 'Tagged'],
    );
  });

  it('keeps an approved data layer in production while the next data review is pending', () => {
    const l = decideLifecycle({
      reviews: {
        base: { artifact: 'art_a', decision: 'approved' },
        data: { artifact: 'art_e', decision: 'pending' },
      },
      artifacts: [art('art_a', 'base', true), art('art_d', 'data'), art('art_e', 'data')],
      tags: {
        [PROD_TAG]: { artifact: 'art_d', digest: 'sha256:art_d' },
        [BASE_TAG]: { artifact: 'art_a', digest: 'sha256:art_a' },
      },
    });
    assert.equal(l.phase, 'DataReview');
    assert.equal(l.tags[PROD_TAG]?.artifact, 'art_d');
  });

  it('reports a review of an unknown or wrong-layer artifact as a failure', () => {
    const unknown = decideLifecycle({
      reviews: { base: { artifact: 'art_x', decision: 'pending' } },
      artifacts: [art('art_a', 'base', true)],
      tags: {},
    });
    assert.equal(unknown.outcome.kind, 'failed');
    assert.match(unknown.outcome.message, /art_x is not an artifact of this simulator \(known: art_a\)/);
    const wrong = decideLifecycle({
      reviews: { base: { artifact: 'art_d', decision: 'pending' } },
      artifacts: [art('art_d', 'data', true)],
      tags: {},
    });
    assert.equal(wrong.outcome.reason, 'WrongLayer');
  });
});
