// The machine catalog (seed 001): the 15 categories with their frontend FQNs and simulated
// backends, and exactly one simulated frontend definition per category. Pure data and functions;
// a ConfigMap from git extends or overrides it (catalog-configmap.ts).

export interface CatalogBackend {
  /** Short name, unique in its category: `chatterbox`, `simulator`. */
  name: string;
  fqn: string;
  /** Other FQNs that name the same backend (renamed classes). */
  aliases?: string[];
}

export interface CatalogCategory {
  /** The category key, the frontend's class name: `LiquidHandler`. */
  name: string;
  /** For people: `Liquid Handler` (the definition is "Simulated Liquid Handler"). */
  displayName: string;
  frontendFqn: string;
  backends: CatalogBackend[];
  /** Operations the simulated device answers with a zero-filled plate (plate readers). */
  plateReadings?: string[];
}

export type Catalog = ReadonlyMap<string, CatalogCategory>;

/** The one simulated frontend of a category: what a simulated machine is bound to. */
export interface SimulatedDefinition {
  name: string;
  fqn: string;
  frontendFqn: string;
  /** FQNs of the backends a machine of this category can choose from. */
  availableSimulationBackends: string[];
}

export const SIMULATED_FQN_PREFIX = 'simops.simulated.';
export const DEFAULT_BACKEND = 'chatterbox';

const chatterbox = (module: string, className: string): CatalogBackend => ({
  name: 'chatterbox',
  fqn: `pylabrobot.${module}.chatterbox.${className}ChatterboxBackend`,
});

const category = (
  name: string,
  displayName: string,
  module: string,
  extra: Partial<CatalogCategory> = {},
): CatalogCategory => ({
  name,
  displayName,
  frontendFqn: `pylabrobot.${module}.${name}`,
  backends: [chatterbox(module, name)],
  ...extra,
});

/** The seed's audit table: category, frontend FQN, simulated backends. */
export const BUILTIN_CATEGORIES: readonly CatalogCategory[] = [
  category('LiquidHandler', 'Liquid Handler', 'liquid_handling', {
    backends: [
      {
        name: 'chatterbox',
        fqn: 'pylabrobot.liquid_handling.backends.chatterbox.LiquidHandlerChatterboxBackend',
        aliases: ['pylabrobot.liquid_handling.backends.ChatterboxBackend'],
      },
      {
        name: 'simulator',
        fqn: 'pylabrobot.liquid_handling.backends.simulation.simulator_backend.SimulatorBackend',
      },
    ],
  }),
  category('PlateReader', 'Plate Reader', 'plate_reading', {
    plateReadings: ['read_absorbance', 'read_fluorescence', 'read_luminescence'],
  }),
  category('HeaterShaker', 'Heater Shaker', 'heating_shaking'),
  category('Shaker', 'Shaker', 'shaking'),
  category('TemperatureController', 'Temperature Controller', 'temperature_controlling'),
  category('Centrifuge', 'Centrifuge', 'centrifuging'),
  category('Thermocycler', 'Thermocycler', 'thermocycling'),
  category('Pump', 'Pump', 'pumping'),
  category('PumpArray', 'Pump Array', 'pumping'),
  category('Fan', 'Fan', 'fans'),
  category('Sealer', 'Plate Sealer', 'plate_sealing'),
  category('Peeler', 'Plate Peeler', 'plate_peeling'),
  category('PowderDispenser', 'Powder Dispenser', 'powder_dispensing'),
  category('Incubator', 'Incubator', 'incubating'),
  category('SCARA', 'SCARA Robot', 'scara'),
];

export const builtinCatalog = (): Catalog => new Map(BUILTIN_CATEGORIES.map((c) => [c.name, c]));

/** `Simulated Liquid Handler`, `simops.simulated.LiquidHandler`, and its backends. */
export const simulatedDefinition = (c: CatalogCategory): SimulatedDefinition => ({
  name: `Simulated ${c.displayName}`,
  fqn: `${SIMULATED_FQN_PREFIX}${c.name}`,
  frontendFqn: c.frontendFqn,
  availableSimulationBackends: c.backends.map((b) => b.fqn),
});

/** One simulated frontend per category, in catalog order. */
export const simulatedDefinitions = (catalog: Catalog): SimulatedDefinition[] =>
  [...catalog.values()].map(simulatedDefinition);

const className = (fqn: string) => fqn.slice(fqn.lastIndexOf('.') + 1);

/**
 * The seed's mapping from a backend FQN to a short name: `*Chatterbox*` → `chatterbox`,
 * `*Simulator*` → `simulator`; otherwise the class name without the category prefix and the
 * `Backend` suffix, lower-cased (`acme.PumpReplayBackend` → `replay`).
 */
export const shortNameOf = (fqn: string, categoryName = ''): string => {
  const lower = fqn.toLowerCase();
  if (lower.includes('chatterbox')) return 'chatterbox';
  if (lower.includes('simulator')) return 'simulator';
  let cls = className(fqn);
  if (categoryName && cls.startsWith(categoryName) && cls.length > categoryName.length)
    cls = cls.slice(categoryName.length);
  if (cls.endsWith('Backend') && cls.length > 'Backend'.length) cls = cls.slice(0, -'Backend'.length);
  return cls.toLowerCase();
};

/** `LiquidHandler` → `Liquid Handler`, `SCARA` → `SCARA`, `PumpArray` → `Pump Array`. */
export const displayNameOf = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2');

/** A backend by short name, FQN or alias (FQNs compare exactly; short names ignore case). */
export const findBackend = (c: CatalogCategory, wanted: string): CatalogBackend | undefined =>
  c.backends.find((b) => b.fqn === wanted || b.aliases?.includes(wanted)) ??
  c.backends.find((b) => b.name.toLowerCase() === wanted.toLowerCase());

/** `chatterbox` when the category has it, else the first backend. */
export const defaultBackend = (c: CatalogCategory): CatalogBackend | undefined =>
  c.backends.find((b) => b.name === DEFAULT_BACKEND) ?? c.backends[0];

/** The valid choices for an error message: `chatterbox (pylabrobot…), simulator (…)`. */
export const describeChoices = (c: CatalogCategory): string =>
  c.backends.map((b) => `${b.name} (${b.fqn})`).join(', ');
