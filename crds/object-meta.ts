// The subset of metav1.ObjectMeta that manifests and the API server accept.
import { Type } from '@sinclair/typebox';
import { FreeForm, NAME_PATTERN, Obj, StringMap } from './common.ts';

export const LABEL_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const OwnerReference = Obj({
  apiVersion: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  uid: Type.String(),
  controller: Type.Optional(Type.Boolean()),
  blockOwnerDeletion: Type.Optional(Type.Boolean()),
});

export const ObjectMeta = Obj({
  name: Type.Optional(Type.String({ pattern: NAME_PATTERN, maxLength: 253 })),
  generateName: Type.Optional(Type.String({ maxLength: 248 })),
  namespace: Type.Optional(Type.String({ pattern: LABEL_NAME_PATTERN, maxLength: 63 })),
  labels: Type.Optional(StringMap()),
  annotations: Type.Optional(StringMap()),
  finalizers: Type.Optional(Type.Array(Type.String())),
  ownerReferences: Type.Optional(Type.Array(OwnerReference)),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
  creationTimestamp: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  deletionTimestamp: Type.Optional(Type.String()),
  deletionGracePeriodSeconds: Type.Optional(Type.Integer()),
  managedFields: Type.Optional(Type.Array(FreeForm())),
});
