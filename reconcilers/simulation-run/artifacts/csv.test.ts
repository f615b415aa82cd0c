import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seriesCsv } from './csv.ts';

describe('seriesCsv', () => {
  it('writes t,value rows that read back to the same numbers', () => {
    const values = [
      0,
      -0,
      7,
      -12,
      1e15,
      600.75,
      -0.0009765625,
      0.1,
      1 / 3,
      2 ** 40 + 0.5,
      1e-7,
      -2.5e21,
      123456789.125,
    ];
    const csv = seriesCsv(Float64Array.from(values)).bytes.toString();
    assert.equal(
      csv,
      't,value\n0,0\n1,0\n2,7\n3,-12\n4,1000000000000000\n5,600.75\n6,-0.0009765625\n7,0.1\n8,0.3333333333333333\n9,1099511627776.5\n10,1e-7\n11,-2.5e+21\n12,123456789.125\n',
    );
    const back = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[1]));
    assert.deepEqual(
      back,
      values.map((v) => (Object.is(v, -0) ? 0 : v)),
    );
  });

  it('writes non-finite values as 0 and counts them, and grows past its first guess', () => {
    const r = seriesCsv(Float64Array.from([Number.NaN, Number.POSITIVE_INFINITY, 1]));
    assert.equal(r.bytes.toString(), 't,value\n0,0\n1,0\n2,1\n');
    assert.equal(r.nonFinite, 2);
    const long = seriesCsv(new Float64Array(1000).fill(Math.PI)).bytes.toString().split('\n');
    assert.equal(long.length, 1002);
    assert.equal(long[1000], '999,3.141592653589793');
  });
});
