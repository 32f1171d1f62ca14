// Small builders for OpenAPI v3 schemas and the CRD document around them, shared by every carbonscale CRD so
// each resource file states only what is particular to it.
import { GROUP, VERSION } from './types.ts';

export type Schema = Record<string, unknown>;

export const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
export const num = (description: string, extra: Schema = {}): Schema => ({ type: 'number', description, ...extra });
export const int = (description: string, extra: Schema = {}): Schema => ({
  type: 'integer',
  format: 'int32',
  description,
  ...extra,
});
export const bool = (description: string, extra: Schema = {}): Schema => ({ type: 'boolean', description, ...extra });
export const obj = (
  description: string,
  properties: Record<string, Schema>,
  required: string[] = [],
  extra: Schema = {},
) => ({
  type: 'object',
  description,
  properties,
  ...(required.length ? { required } : {}),
  ...extra,
});

/** A list of metav1.Condition, keyed by type. */
export function conditionsSchema(types: string): Schema {
  return {
    type: 'array',
    description: `Conditions: ${types}.`,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    items: obj(
      'A metav1.Condition.',
      {
        type: str(`Condition type: ${types}.`),
        status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
        reason: str('CamelCase reason.'),
        message: str('Human-readable detail.'),
        lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
        observedGeneration: { type: 'integer', format: 'int64', description: 'Generation the condition was set for.' },
      },
      ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
    ),
  };
}

export interface CrdArgs {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  description: string;
  printerColumns: Schema[];
  spec: Schema;
  status: Schema;
}

export function crdDocument(a: CrdArgs): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${a.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'carbonscale' } },
    spec: {
      group: GROUP,
      scope: a.scope,
      names: {
        kind: a.kind,
        listKind: `${a.kind}List`,
        plural: a.plural,
        singular: a.singular,
        shortNames: a.shortNames,
        categories: ['carbonscale'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: a.printerColumns,
          schema: {
            openAPIV3Schema: obj(
              a.description,
              {
                apiVersion: str(`API version: ${GROUP}/${VERSION}.`),
                kind: str(`${a.kind}.`),
                // The API server allows nothing but the type here.
                metadata: { type: 'object' },
                spec: a.spec,
                status: a.status,
              },
              ['spec'],
            ),
          },
        },
      ],
    },
  };
}
