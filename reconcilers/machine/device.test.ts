import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answer, type DeviceConfig, parseCommand, plateShape } from './device.ts';

const reader: DeviceConfig = {
  machine: 'default/reader',
  category: 'PlateReader',
  backend: { name: 'chatterbox', fqn: 'x.PlateReaderChatterboxBackend' },
  plateReadings: ['read_absorbance', 'read_luminescence'],
  responses: {
    read_luminescence: { result: [[1, 2]] },
    get_temperature: { sequence: [20, 25, 37] },
    open: { error: 'door jammed' },
  },
};

describe('simulated device', () => {
  it('acknowledges any operation as a chatterbox does', () => {
    const a = answer(reader, { operation: 'setup', args: {} }, 0);
    assert.deepEqual(a, { ok: true, result: null, output: 'chatterbox: setup()' });
  });

  it('reads a zero-filled plate: 8x12 for 96 wells, other formats on request', () => {
    const a = answer(reader, { operation: 'read_absorbance', args: { wavelength: 450 } }, 0);
    assert.ok(typeof a === 'object' && a.ok);
    const plate = a.result as number[][];
    assert.equal(plate.length, 8);
    assert.ok(plate.every((row) => row.length === 12 && row.every((v) => v === 0)));
    assert.equal(a.output, 'chatterbox: read_absorbance(wavelength=450)');
    assert.deepEqual(plateShape({ wells: 384 }), [16, 24]);
    assert.deepEqual(plateShape({ rows: 2, columns: 3 }), [2, 3]);
    assert.equal(typeof answer(reader, { operation: 'read_absorbance', args: { wells: 95 } }, 0), 'string');
  });

  it('honours canned results, sequences (the last repeats) and errors', () => {
    assert.deepEqual(answer(reader, { operation: 'read_luminescence', args: {} }, 0), {
      ok: true,
      result: [[1, 2]],
      output: 'chatterbox: read_luminescence()',
    });
    const temps = [0, 1, 2, 3].map((i) => {
      const a = answer(reader, { operation: 'get_temperature', args: {} }, i);
      return typeof a === 'object' && a.ok ? a.result : undefined;
    });
    assert.deepEqual(temps, [20, 25, 37, 37]);
    const err = answer(reader, { operation: 'open', args: {} }, 0);
    assert.ok(typeof err === 'object' && !err.ok && err.error === 'door jammed');
  });

  it('parses commands strictly', () => {
    assert.deepEqual(parseCommand({ operation: 'aspirate', args: { vols: [10] } }), {
      operation: 'aspirate',
      args: { vols: [10] },
    });
    assert.equal(typeof parseCommand([]), 'string');
    assert.equal(typeof parseCommand({ operation: '' }), 'string');
    assert.equal(typeof parseCommand({ operation: 'a', args: [] }), 'string');
    assert.equal(typeof parseCommand({ operation: 'a', extra: 1 }), 'string');
  });
});
