import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MACHINE_CATEGORIES } from '../../crds/machine.ts';
import {
  builtinCatalog,
  defaultBackend,
  displayNameOf,
  findBackend,
  shortNameOf,
  simulatedDefinitions,
} from './catalog.ts';
import { applyCatalogText, catalogFromConfigMap } from './catalog-configmap.ts';

describe('machine catalog', () => {
  it('has the 15 categories of seed 001, with exactly one simulated frontend each', () => {
    const catalog = builtinCatalog();
    assert.deepEqual([...catalog.keys()], [...MACHINE_CATEGORIES]);
    const defs = simulatedDefinitions(catalog);
    assert.equal(defs.length, 15);
    assert.equal(new Set(defs.map((d) => d.fqn)).size, 15);
    const lh = defs[0]!;
    assert.equal(lh.name, 'Simulated Liquid Handler');
    assert.equal(lh.fqn, 'simops.simulated.LiquidHandler');
    assert.equal(lh.frontendFqn, 'pylabrobot.liquid_handling.LiquidHandler');
    assert.equal(lh.availableSimulationBackends.length, 2);
    for (const d of defs) {
      assert.match(d.name, /^Simulated [A-Z]/);
      assert.ok(d.availableSimulationBackends.length > 0, d.fqn);
    }
    assert.equal(
      defs.find((d) => d.fqn === 'simops.simulated.Sealer')?.frontendFqn,
      'pylabrobot.plate_sealing.Sealer',
    );
  });

  it('defaults to chatterbox, finds backends by short name, FQN or alias', () => {
    const lh = builtinCatalog().get('LiquidHandler')!;
    assert.equal(defaultBackend(lh)?.name, 'chatterbox');
    const byFqn = findBackend(
      lh,
      'pylabrobot.liquid_handling.backends.chatterbox.LiquidHandlerChatterboxBackend',
    );
    assert.equal(byFqn, findBackend(lh, 'chatterbox'));
    assert.equal(findBackend(lh, 'pylabrobot.liquid_handling.backends.ChatterboxBackend'), byFqn);
    assert.equal(findBackend(lh, 'Simulator')?.name, 'simulator');
    assert.equal(findBackend(lh, 'nope'), undefined);
  });

  it('maps FQNs to short names as the seed does', () => {
    assert.equal(shortNameOf('pylabrobot.x.LiquidHandlerChatterboxBackend'), 'chatterbox');
    assert.equal(shortNameOf('pylabrobot.x.SimulatorBackend'), 'simulator');
    assert.equal(shortNameOf('acme.PumpReplayBackend', 'Pump'), 'replay');
    assert.equal(displayNameOf('PumpArray'), 'Pump Array');
    assert.equal(displayNameOf('SCARA'), 'SCARA');
  });
});

describe('catalog ConfigMap', () => {
  const base = builtinCatalog();

  it('adds a category whose only backend is not chatterbox, and extends a built-in one', () => {
    const r = applyCatalogText(
      base,
      `categories:
  Microscope:
    frontendFqn: acme.microscopy.Microscope
    backends:
      - acme.microscopy.MicroscopeSimulatorBackend
      - { name: replay, fqn: acme.microscopy.ReplayBackend }
  LiquidHandler:
    addBackends: [acme.lh.LiquidHandlerReplayBackend]
`,
      'test',
    );
    assert.ok(r.ok, !r.ok ? r.error : '');
    const m = r.catalog.get('Microscope')!;
    assert.equal(m.displayName, 'Microscope');
    assert.deepEqual(
      m.backends.map((b) => b.name),
      ['simulator', 'replay'],
    );
    assert.equal(defaultBackend(m)?.name, 'simulator', 'no chatterbox: the first');
    assert.deepEqual(
      r.catalog.get('LiquidHandler')!.backends.map((b) => b.name),
      ['chatterbox', 'simulator', 'replay'],
    );
    assert.equal(base.get('LiquidHandler')!.backends.length, 2, 'the built-in catalog is not changed');
  });

  it('overrides and removes categories', () => {
    const r = applyCatalogText(
      base,
      'categories:\n  Fan: null\n  Pump:\n    backends: [acme.PumpDemoBackend]\n',
      't',
    );
    assert.ok(r.ok);
    assert.equal(r.catalog.has('Fan'), false);
    assert.deepEqual(
      r.catalog.get('Pump')!.backends.map((b) => b.name),
      ['demo'],
    );
  });

  it('reports what is wrong, with the source and the field', () => {
    const cases: [string, RegExp][] = [
      ['categories:\n  Microscope:\n    backends: [a.B]\n', /categories\.Microscope\.frontendFqn: required/],
      ['categories:\n  microscope: {}\n', /categories\.microscope: a category name/],
      [
        'categories:\n  Fan:\n    backends: [a.FanChatterboxBackend, b.FanChatterboxBackend]\n',
        /name chatterbox is used twice/,
      ],
      ['categories:\n  Fan:\n    colour: red\n', /categories\.Fan\.colour: unknown field/],
      ['categories: [1]\n', /categories: must be a mapping/],
      ['categories:\n  Fan: {backends: []}\n', /at least one simulated backend/],
      ['a: [\n', /not valid YAML/],
    ];
    for (const [text, pattern] of cases) {
      const r = applyCatalogText(base, text, 'ConfigMap lab/simops-machine-catalog catalog.yaml');
      assert.equal(r.ok, false, text);
      if (!r.ok) {
        assert.match(r.error, /^ConfigMap lab\/simops-machine-catalog catalog\.yaml: /);
        assert.match(r.error, pattern);
      }
    }
  });

  it('reads the ConfigMap: none is the built-in catalog, a missing key is an error', () => {
    assert.equal(catalogFromConfigMap(base, undefined).ok, true);
    const r = catalogFromConfigMap(base, {
      metadata: { namespace: 'lab', name: 'simops-machine-catalog' },
      data: {},
    });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /catalog\.yaml: the key is missing/);
  });
});
