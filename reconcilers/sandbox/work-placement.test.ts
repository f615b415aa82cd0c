import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runsOnWorkers } from './work-placement.ts';

describe('where sandbox flows and snapshots run', () => {
  it('on workers for the kubernetes runtime only', () => {
    assert.equal(runsOnWorkers('kubernetes'), true);
    assert.equal(runsOnWorkers('process'), false, "the controller's loopback and files");
  });
});
