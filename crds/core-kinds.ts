// Core Kubernetes kinds that a SimOps repository or controller uses besides its own.
import { type TObject, Type } from '@sinclair/typebox';
import { FreeForm, Obj, StringMap } from './common.ts';

export interface CoreKind {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Top-level fields besides apiVersion, kind and metadata. */
  fields: TObject['properties'];
  /** Served with a status subresource (as Kubernetes serves it). */
  hasStatus?: boolean;
}

const ObjectReference = Obj({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  fieldPath: Type.Optional(Type.String()),
});

const Timestamp = () => Type.Optional(Type.Union([Type.String(), Type.Null()]));

export const coreKinds: CoreKind[] = [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    fields: { spec: Type.Optional(FreeForm()), status: Type.Optional(FreeForm()) },
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    fields: {
      data: Type.Optional(StringMap()),
      binaryData: Type.Optional(StringMap()),
      immutable: Type.Optional(Type.Boolean()),
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    namespaced: true,
    fields: {
      type: Type.Optional(Type.String()),
      data: Type.Optional(StringMap()),
      stringData: Type.Optional(StringMap()),
      immutable: Type.Optional(Type.Boolean()),
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    fields: {
      involvedObject: ObjectReference,
      reason: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
      type: Type.Optional(Type.String()),
      count: Type.Optional(Type.Integer()),
      firstTimestamp: Timestamp(),
      lastTimestamp: Timestamp(),
      eventTime: Timestamp(),
      source: Type.Optional(
        Obj({ component: Type.Optional(Type.String()), host: Type.Optional(Type.String()) }),
      ),
      reportingComponent: Type.Optional(Type.String()),
      reportingInstance: Type.Optional(Type.String()),
      action: Type.Optional(Type.String()),
      related: Type.Optional(ObjectReference),
      series: Type.Optional(FreeForm()),
    },
  },
  {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    plural: 'leases',
    namespaced: true,
    fields: {
      spec: Type.Optional(
        Obj({
          holderIdentity: Type.Optional(Type.String()),
          leaseDurationSeconds: Type.Optional(Type.Integer()),
          acquireTime: Timestamp(),
          renewTime: Timestamp(),
          leaseTransitions: Type.Optional(Type.Integer()),
          strategy: Type.Optional(Type.String()),
          preferredHolder: Type.Optional(Type.String()),
        }),
      ),
    },
  },
  // Pods and Services, which a Sandbox of the kubernetes runtime owns. Free-form: the embedded server
  // stores them (it runs no kubelet); a real cluster validates them.
  {
    apiVersion: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    hasStatus: true,
    fields: { spec: Type.Optional(FreeForm()), status: Type.Optional(FreeForm()) },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    hasStatus: true,
    fields: { spec: Type.Optional(FreeForm()), status: Type.Optional(FreeForm()) },
  },
];

export const coreKindSchema = (k: CoreKind) => Obj(k.fields);
