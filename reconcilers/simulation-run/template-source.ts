// Where a SimulationRun's template comes from: inline in the spec, a key of a ConfigMap in its
// namespace, or a file in the repository of the GitSource that applied it (found through the
// `simops.dev/source-name` / `source-namespace` labels GitSource sets), read at the revision that
// GitSource applied. Telemetry files are read from that repository too, relative to the template.
import { posix } from 'node:path';
import { relativePath } from '../../controller/gitops/source-files.ts';
import { coreKind } from '../../controller/runtime/kinds.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import type { SimulationRunSpec } from '../../crds/simulation-run.ts';
import { checkoutSource, TemplateSourceError } from './git-checkout.ts';
import { noFiles, SourceFileError, type SourceFiles } from './source-files.ts';

export { TemplateSourceError };

export interface TemplateRequest {
  namespace: string;
  spec: SimulationRunSpec;
  /** The GitSource that applied the object, from its labels. */
  source?: { namespace: string; name: string };
}

export interface ResolvedTemplate {
  template: string | Record<string, unknown>;
  /** For messages: `templates/x.yaml`, `ConfigMap t[key]`, `spec.template.inline`. */
  origin: string;
  files: SourceFiles;
}

export const resolveTemplate = async (
  req: TemplateRequest,
  deps: { client: KubeClient; cacheDir: string },
  signal?: AbortSignal,
): Promise<ResolvedTemplate> => {
  const t = req.spec.template;
  const repo = async (base: string) =>
    req.source
      ? (await checkoutSource(deps.client, req.source, deps.cacheDir, signal)).files(base)
      : noFiles(
          'telemetry files are read from the GitSource repository, and no GitSource applied this object',
        );

  if (t.inline)
    return { template: t.inline, origin: 'spec.template.inline', files: lazyFiles(() => repo('')) };
  if (t.configMapRef) {
    const key = t.configMapRef.key ?? 'template.yaml';
    const cm = await deps.client.get(coreKind('ConfigMap'), req.namespace, t.configMapRef.name);
    const text = (cm?.data as Record<string, string> | undefined)?.[key];
    if (text === undefined) {
      throw new TemplateSourceError(
        'TemplateNotFound',
        cm
          ? `ConfigMap ${t.configMapRef.name} has no key ${key}`
          : `ConfigMap ${req.namespace}/${t.configMapRef.name} not found`,
        false,
      );
    }
    return {
      template: text,
      origin: `ConfigMap ${t.configMapRef.name}[${key}]`,
      files: lazyFiles(() => repo('')),
    };
  }
  const path = t.path ?? '';
  const checked = relativePath(path);
  if ('error' in checked || checked.rel === '') {
    const why = 'error' in checked ? checked.error.message : 'the path names no file';
    throw new TemplateSourceError(
      'InvalidTemplatePath',
      `spec.template.path ${JSON.stringify(path)}: ${why}`,
      true,
    );
  }
  if (!req.source) {
    throw new TemplateSourceError(
      'TemplateSourceUnavailable',
      'spec.template.path names a file of the GitSource repository, but no GitSource applied this object (it has no simops.dev/source-name label)',
      true,
    );
  }
  const dir = posix.dirname(checked.rel);
  const files = await repo(dir === '.' ? '' : dir);
  try {
    const text = (await files.read(posix.basename(checked.rel))).toString('utf8');
    return { template: text, origin: checked.rel, files };
  } catch (err) {
    if (err instanceof SourceFileError) {
      throw new TemplateSourceError('TemplateNotFound', `spec.template.path: ${err.message}`, false);
    }
    throw err;
  }
};

/** Checks the repository out only when a file is read (most templates read none). */
const lazyFiles = (open: () => Promise<SourceFiles>): SourceFiles => {
  let opened: Promise<SourceFiles> | undefined;
  return {
    async read(path) {
      opened ??= open();
      let files: SourceFiles;
      try {
        files = await opened;
      } catch (err) {
        if (err instanceof TemplateSourceError) throw new SourceFileError(`${path}: ${err.message}`);
        throw err;
      }
      return files.read(path);
    },
  };
};
