// GitSource: where manifests come from (Flux GitRepository + Kustomization in one; seed 003).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  countSet,
  Duration,
  type KindDefinition,
  LocalObjectReference,
  Obj,
  readyColumn,
  statusBase,
  withRules,
} from './common.ts';

export const GitRef = withRules(
  Obj(
    {
      branch: Type.Optional(Type.String({ minLength: 1 })),
      tag: Type.Optional(Type.String({ minLength: 1 })),
      semver: Type.Optional(Type.String({ minLength: 1, description: 'A semver range over tags.' })),
      commit: Type.Optional(Type.String({ pattern: '^[0-9a-f]{7,40}$' })),
    },
    { description: 'At most one of branch, tag, semver, commit; the default is branch main.' },
  ),
  [
    {
      rule: '(has(self.branch) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.semver) ? 1 : 0) + (has(self.commit) ? 1 : 0) <= 1',
      message: 'at most one of branch, tag, semver, commit may be set',
      check: (r) => countSet(r.branch, r.tag, r.semver, r.commit) <= 1,
    },
  ],
);

export const GitSourceSpec = Obj({
  url: Type.String({
    pattern: '^(https?://|ssh://|file://|git@|/|\\./|\\.\\./)',
    description: 'Repository URL: https, ssh, file:// or a local path.',
  }),
  ref: Type.Optional(GitRef),
  path: Type.String({ default: './', description: 'Directory of manifests inside the repository.' }),
  interval: Duration({ default: '1m' }),
  timeout: Duration({ default: '60s' }),
  secretRef: Type.Optional(LocalObjectReference('Credentials: username/password, bearerToken, or identity.')),
  environment: Type.String({
    default: 'simulation',
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    description: 'The overlay applied over the base (seed 003): simulation or live.',
  }),
  prune: Type.Boolean({ default: true }),
  suspend: Type.Boolean({ default: false }),
  ignore: Type.Optional(Type.String({ description: 'gitignore-style patterns of files to skip.' })),
  writeBack: Type.Optional(
    Obj({ branch: Type.String({ minLength: 1 }), path: Type.String({ default: 'status/' }) }),
  ),
});

export const GitSourceStatus = Obj({
  ...statusBase,
  artifact: Type.Optional(
    Obj({ revision: Type.String(), lastUpdateTime: Type.String({ format: 'date-time' }) }),
  ),
  lastAppliedRevision: Type.Optional(Type.String()),
  lastAttemptedRevision: Type.Optional(Type.String()),
  inventory: Type.Optional(Type.Array(Obj({ id: Type.String(), v: Type.String() }))),
  results: Type.Optional(
    Type.Array(Obj({ id: Type.String(), action: Type.String(), message: Type.Optional(Type.String()) })),
  ),
});

export type GitSourceSpec = Static<typeof GitSourceSpec>;
export type GitSourceStatus = Static<typeof GitSourceStatus>;

export const gitSource: KindDefinition = {
  kind: 'GitSource',
  plural: 'gitsources',
  singular: 'gitsource',
  shortNames: ['gs'],
  description: 'A git repository of manifests, applied and kept in sync.',
  spec: GitSourceSpec,
  status: GitSourceStatus,
  printerColumns: [
    { name: 'URL', type: 'string', jsonPath: '.spec.url' },
    readyColumn,
    { name: 'Revision', type: 'string', jsonPath: '.status.artifact.revision' },
    {
      name: 'Status',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].message',
      priority: 1,
    },
    ageColumn,
  ],
};
