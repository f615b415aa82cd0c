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
}

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
];

export const coreKindSchema = (k: CoreKind) => Obj(k.fields);
