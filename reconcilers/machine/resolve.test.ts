import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MachineSpec, MachineStatus } from '../../crds/machine.ts';
import { builtinCatalog } from './catalog.ts';
import { decide, eventsFor } from './decide.ts';
import { legacyShortName, resolveMachine } from './resolve.ts';

const catalog = builtinCatalog();
const spec = (s: Partial<MachineSpec> & { category: string }): MachineSpec =>
  ({ simulated: true, checkIntervalSeconds: 30, ...s }) as MachineSpec;

describe('resolveMachine', () => {
  it('binds a simulated machine to its category frontend with the default backend', () => {
    const r = resolveMachine(spec({ category: 'PlateReader' }), catalog);
    assert.ok(r.ok && r.mode === 'simulated');
    assert.deepEqual(r.definition, {
      name: 'Simulated Plate Reader',
      fqn: 'simops.simulated.PlateReader',
      frontendFqn: 'pylabrobot.plate_reading.PlateReader',
    });
    assert.deepEqual(r.backend, {
      name: 'chatterbox',
      fqn: 'pylabrobot.plate_reading.chatterbox.PlateReaderChatterboxBackend',
    });
  });

  it('resolves an FQN and a short name identically', () => {
    const fqn = 'pylabrobot.liquid_handling.backends.simulation.simulator_backend.SimulatorBackend';
    const a = resolveMachine(spec({ category: 'LiquidHandler', backend: fqn }), catalog);
    const b = resolveMachine(spec({ category: 'LiquidHandler', backend: 'simulator' }), catalog);
    assert.deepEqual(a, b);
    assert.ok(a.ok && a.mode === 'simulated' && a.backend.name === 'simulator' && a.backend.fqn === fqn);
  });

  it('stalls an unknown backend or category, listing the valid choices', () => {
    const r = resolveMachine(spec({ category: 'LiquidHandler', backend: 'hamilton' }), catalog);
    assert.ok(!r.ok);
    assert.equal(r.reason, 'UnknownBackend');
    assert.match(
      r.message,
      /"hamilton" is not a simulation backend of LiquidHandler; valid choices: chatterbox \(pylabrobot\..*\), simulator \(/,
    );
    assert.equal(r.definition?.fqn, 'simops.simulated.LiquidHandler');
    const c = resolveMachine(spec({ category: 'Microscope' }), catalog);
    assert.ok(!c.ok);
    assert.equal(c.reason, 'UnknownCategory');
    assert.match(c.message, /valid categories: LiquidHandler, PlateReader, .*SCARA/);
  });

  it('migrates the legacy form: *Chatterbox* → chatterbox, *Simulator* → simulator', () => {
    const legacy = spec({
      category: 'HeaterShaker',
      definition: 'pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend',
      connectionInfo: { backend_fqn: 'pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend' },
    });
    const r = resolveMachine(legacy, catalog);
    assert.ok(r.ok && r.mode === 'simulated');
    assert.equal(r.backend.name, 'chatterbox');
    assert.equal(r.definition.fqn, 'simops.simulated.HeaterShaker');
    assert.deepEqual(r.migratedFrom, {
      definition: 'pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend',
      backendFqn: 'pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend',
    });
    assert.equal(legacyShortName({ backendFqn: 'x.LiquidHandlerSimulator' }), 'simulator');
    const sim = resolveMachine(
      spec({ category: 'LiquidHandler', connectionInfo: { backend_fqn: 'old.SimulatorBackend' } }),
      catalog,
    );
    assert.ok(sim.ok && sim.mode === 'simulated' && sim.backend.name === 'simulator');
    const unknown = resolveMachine(spec({ category: 'Fan', definition: 'old.FanSimulator' }), catalog);
    assert.ok(!unknown.ok && unknown.reason === 'UnknownBackend');
    assert.match(unknown.message, /legacy backend old\.FanSimulator maps to no simulation backend of Fan/);
  });

  it('needs host and port in live mode, and refuses a simulation backend there', () => {
    const live = (connectionInfo: Record<string, unknown>, backend?: string) =>
      resolveMachine(
        spec({ category: 'Fan', simulated: false, connectionInfo, ...(backend ? { backend } : {}) }),
        catalog,
      );
    const ok = live({ host: '10.0.0.5', port: '5025' }, 'acme.fans.FanDriverBackend');
    assert.ok(ok.ok && ok.mode === 'live');
    assert.deepEqual(ok.connection, { host: '10.0.0.5', port: 5025 });
    assert.deepEqual(ok.backend, { name: 'driver', fqn: 'acme.fans.FanDriverBackend' });
    assert.equal(ok.definition.name, 'Fan');
    const noPort = live({ host: 'x' });
    assert.ok(!noPort.ok && noPort.reason === 'InvalidConnectionInfo');
    assert.match(noPort.message, /connectionInfo\.port/);
    const sim = live({ host: 'x', port: 1 }, 'chatterbox');
    assert.ok(!sim.ok && sim.reason === 'SimulatedBackend');
  });
});

describe('decide', () => {
  const ready = resolveMachine(spec({ category: 'Fan' }), catalog);

  it('waits for the endpoint, then is Ready with it', () => {
    assert.equal(decide('simulated', ready, {}).outcome.kind, 'progressing');
    const d = decide('simulated', ready, { endpoint: 'http://127.0.0.1:1/machines/default/f/commands' });
    assert.equal(d.outcome.kind, 'ready');
    assert.equal(d.fields.phase, 'Running');
    assert.equal(d.fields.mode, 'simulated');
    assert.equal(d.fields.endpoint, 'http://127.0.0.1:1/machines/default/f/commands');
  });

  it('says Reachable or Unreachable for a live machine, with no figure that changes every check', () => {
    const live = resolveMachine(
      spec({ category: 'Fan', simulated: false, connectionInfo: { host: 'h', port: 1 } }),
      catalog,
    );
    const up = decide('live', live, { reachability: { reachable: true, ms: 3 } });
    assert.deepEqual(up.outcome, { kind: 'ready', reason: 'Reachable', message: 'h:1 accepts connections' });
    const down = decide('live', live, { reachability: { reachable: false, error: 'connect ECONNREFUSED' } });
    assert.equal(down.outcome.kind, 'failed');
    assert.equal(down.fields.phase, 'Unreachable');
    assert.equal(down.fields.backend, undefined);
  });

  it('records an Event when the outcome changes, and one for a migration', () => {
    const d = decide('simulated', ready, { endpoint: 'u' });
    assert.deepEqual(eventsFor({}, d), [], 'Ready from the first reconcile: status says so');
    const failing = decide(
      'simulated',
      { ok: false, reason: 'UnknownBackend', message: 'no such backend' },
      {},
    );
    assert.deepEqual(
      eventsFor({}, failing).map((e) => [e.type, e.reason]),
      [['Warning', 'UnknownBackend']],
      'a first outcome that needs attention is recorded',
    );
    const wasFailing: MachineStatus = {
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'UnknownBackend',
          message: 'no such backend',
          lastTransitionTime: 'x',
        },
      ],
    };
    assert.deepEqual(
      eventsFor(wasFailing, d).map((e) => [e.type, e.reason]),
      [['Normal', 'Simulated']],
      'Ready after an earlier outcome is recorded',
    );
    const same: MachineStatus = {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: d.outcome.reason,
          message: d.outcome.message,
          lastTransitionTime: 'x',
        },
      ],
    };
    assert.deepEqual(eventsFor(same, d), []);
    const legacy = resolveMachine(spec({ category: 'Fan', definition: 'old.FanChatterboxBackend' }), catalog);
    const m = eventsFor(same, decide('simulated', legacy, { endpoint: 'u' }));
    assert.ok(m.some((e) => e.reason === 'Migrated' && /old\.FanChatterboxBackend/.test(e.message)));
  });
});
