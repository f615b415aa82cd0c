// How the process runtime turns a service of the repository into a command line, with the
// security rules of the runtime: a command naming a path must be a file inside the sandbox's
// working directory (the checkout), the working directory must be inside it too, and the child
// gets a small environment of its own (nothing of the controller's, whose credentials it must not
// see). `$(NAME)` in env values and args expands earlier variables, as Kubernetes does.
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve, sep } from 'node:path';

export class CommandError extends Error {}

const within = (root: string, p: string) => p === root || p.startsWith(root + sep);

/** Where a bare command name is looked up (the controller's PATH). */
const searchPath = () =>
  (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).filter(Boolean);

/**
 * The executable for `command`, run in `workDir`: `node` is the Node.js that runs SimOps; a name with
 * a slash is a file inside workDir (no absolute paths, no way out through `..` or a symlink); a bare
 * name is found on the PATH.
 */
export const resolveCommand = async (command: string, workDir: string): Promise<string> => {
  if (command === 'node') return process.execPath;
  if (!command.includes('/')) {
    for (const dir of searchPath()) {
      const candidate = join(dir, command);
      try {
        await access(candidate, constants.X_OK);
        if ((await stat(candidate)).isFile()) return candidate;
      } catch {
        // not in this directory
      }
    }
    throw new CommandError(`command ${JSON.stringify(command)} was not found on the PATH`);
  }
  if (isAbsolute(command))
    throw new CommandError(
      `command ${JSON.stringify(command)}: a path must be relative to the sandbox working directory`,
    );
  const root = await realpath(workDir);
  const wanted = resolve(root, command);
  if (!within(root, wanted))
    throw new CommandError(`command ${JSON.stringify(command)} leaves the sandbox working directory`);
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    throw new CommandError(
      `command ${JSON.stringify(command)} does not exist in the sandbox working directory`,
    );
  }
  if (!within(root, real))
    throw new CommandError(
      `command ${JSON.stringify(command)} resolves outside the sandbox working directory`,
    );
  try {
    await access(real, constants.X_OK);
  } catch {
    throw new CommandError(`command ${JSON.stringify(command)} is not executable`);
  }
  return real;
};

/** The directory a service runs in: workDir, or `workingDir` inside it. */
export const resolveWorkingDir = async (workDir: string, workingDir: string | undefined): Promise<string> => {
  const root = await realpath(workDir);
  if (workingDir === undefined) return root;
  if (isAbsolute(workingDir))
    throw new CommandError(
      `workingDir ${JSON.stringify(workingDir)} must be relative to the sandbox directory`,
    );
  let real: string;
  try {
    real = await realpath(resolve(root, workingDir));
  } catch {
    throw new CommandError(
      `workingDir ${JSON.stringify(workingDir)} does not exist in the sandbox directory`,
    );
  }
  if (!within(root, real))
    throw new CommandError(`workingDir ${JSON.stringify(workingDir)} leaves the sandbox directory`);
  return real;
};

/** `$(NAME)` → the value of NAME in `vars`; `$$(NAME)` is a literal `$(NAME)`; unknown names stay. */
export const expand = (value: string, vars: Readonly<Record<string, string>>): string =>
  value.replace(/\$\$\(|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    name === undefined ? '$(' : (vars[name] ?? m),
  );

/** The variable a listener's port is given in: SIMOPS_PORT_<NAME>, upper case, `-` and `.` as `_`. */
export const portVariable = (listener: string): string =>
  `SIMOPS_PORT_${listener.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;

/** The few variables of the controller's environment a service inherits. */
const INHERITED = ['PATH', 'LANG', 'LC_ALL', 'TZ'];

/**
 * A service's environment: the inherited basics, the sandbox's own variables (ports, directory),
 * the Secret variables, then the service's env in order (each may expand the ones before it; an
 * env entry wins over a Secret key of the same name, as in Kubernetes).
 */
export const serviceEnv = (
  base: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string>> | undefined,
  secrets: Readonly<Record<string, string>>,
): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const k of INHERITED) if (process.env[k] !== undefined) out[k] = process.env[k]!;
  Object.assign(out, base, secrets);
  for (const [k, v] of Object.entries(env ?? {})) out[k] = expand(v, out);
  return out;
};
