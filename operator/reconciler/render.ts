// Pure rendering: an InferenceService and the decided (variant, replicas) in, the owned objects out, as
// server-side-apply bodies holding exactly the fields the operator owns.
// The project's model server switches variant in place: the pod template carries no variant, the active
// variant lives in a ConfigMap key the server watches, so a swap restarts nothing. A custom runtime gets the
// variant in an env var, so a swap rolls the Deployment (maxUnavailable 0: capacity never drops).
import {
  ACTIVE_VARIANT_DIR,
  ACTIVE_VARIANT_FILE,
  Annotation,
  DEFAULT_MODEL_SERVER_IMAGE,
  Label,
  MODEL_SERVER_PORT,
  OPERATOR_NAME,
} from '../constants.ts';
import type { InferenceService, VariantSpec } from '../api/types.ts';
import { DEFAULT_PVC_MOUNT_ROOT, pvcClaimOf } from '../../model-server/model-uri.ts';
import { InfeasibleSpecError, renderProblem } from './feasibility.ts';

export interface RenderOptions {
  modelServerImage?: string;
}

export interface Rendered {
  deployment: Record<string, unknown>;
  service: Record<string, unknown>;
  configMap?: Record<string, unknown>;
}

export function childName(isvc: InferenceService): string {
  return isvc.metadata.name;
}

export function configMapName(isvc: InferenceService): string {
  return `${isvc.metadata.name}-carbonscale`;
}

export function selectorLabels(isvc: InferenceService): Record<string, string> {
  return { [Label.service]: isvc.metadata.name };
}

export function ownerReference(isvc: InferenceService): Record<string, unknown> {
  return {
    apiVersion: isvc.apiVersion,
    kind: isvc.kind,
    name: isvc.metadata.name,
    uid: isvc.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function meta(isvc: InferenceService, name: string, component: string) {
  return {
    name,
    namespace: isvc.metadata.namespace,
    labels: {
      [Label.name]: 'carbonscale-model',
      [Label.instance]: isvc.metadata.name,
      [Label.managedBy]: OPERATOR_NAME,
      [Label.component]: component,
      [Label.tier]: isvc.spec.tier,
      ...selectorLabels(isvc),
    },
    ownerReferences: [ownerReference(isvc)],
  };
}

export function variantByName(isvc: InferenceService, name: string): VariantSpec {
  const v = isvc.spec.variants.find((x) => x.name === name);
  if (!v) throw new Error(`variant ${name} is not in spec.variants`);
  return v;
}

/** pvc:// claims the variants name, each a read-only volume at <DEFAULT_PVC_MOUNT_ROOT>/<claim> (model-uri.ts). */
function claimVolumes(isvc: InferenceService) {
  const claims = [...new Set(isvc.spec.variants.map((v) => pvcClaimOf(v.model.uri)).filter((c) => c !== undefined))];
  return {
    volumes: claims.map((claimName, i) => ({
      name: `model-pvc-${i}`,
      persistentVolumeClaim: { claimName, readOnly: true },
    })),
    mounts: claims.map((c, i) => ({
      name: `model-pvc-${i}`,
      mountPath: `${DEFAULT_PVC_MOUNT_ROOT}/${c}`,
      readOnly: true,
    })),
  };
}

function gpuResources(v: VariantSpec): Record<string, string> {
  return v.gpusPerReplica > 0 ? { [v.gpuResource]: String(v.gpusPerReplica) } : {};
}

interface PodParts {
  podSpec: Record<string, unknown>;
  podMeta: Record<string, unknown>;
  configMap?: Record<string, unknown>;
}

/** A custom runtime: the user's pod template, the variant and its URI in the named env var (a swap rolls). */
function customPod(isvc: InferenceService, v: VariantSpec, baseLabels: Record<string, string>): PodParts {
  const rt = isvc.spec.runtime;
  const gpus = gpuResources(v);
  const tpl = structuredClone(rt.podTemplate ?? {}) as {
    metadata?: Record<string, unknown>;
    spec?: Record<string, unknown>;
  };
  const spec = (tpl.spec ?? {}) as { containers?: Array<Record<string, unknown>> };
  const containers = spec.containers ?? [];
  const idx = Math.max(0, rt.containerName ? containers.findIndex((c) => c.name === rt.containerName) : 0);
  const c = containers[idx];
  if (!c) throw new Error('runtime.podTemplate.spec.containers must name at least one container');
  const envName = rt.variantEnv;
  const env = ((c.env as Array<Record<string, unknown>> | undefined) ?? []).filter(
    (e) => e.name !== envName && e.name !== `${envName}_URI`,
  );
  env.push({ name: envName, value: v.name }, { name: `${envName}_URI`, value: v.model.uri });
  c.env = env;
  const res = (c.resources ?? {}) as { requests?: Record<string, string>; limits?: Record<string, string> };
  c.resources = { ...res, requests: { ...res.requests, ...gpus }, limits: { ...res.limits, ...gpus } };
  const tm = (tpl.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  return {
    podSpec: spec,
    podMeta: {
      ...tm,
      labels: { ...tm.labels, ...baseLabels },
      annotations: { ...tm.annotations, [Annotation.variant]: v.name },
    },
  };
}

/** The project's model server: the variant in a ConfigMap key it watches, so a swap restarts nothing. */
function carbonscalePod(
  isvc: InferenceService,
  v: VariantSpec,
  baseLabels: Record<string, string>,
  opts: RenderOptions,
): PodParts {
  const rt = isvc.spec.runtime;
  const gpus = gpuResources(v);
  const cmName = configMapName(isvc);
  const pvc = claimVolumes(isvc);
  const serverConfig = {
    modelName: isvc.metadata.name,
    port: MODEL_SERVER_PORT,
    variants: isvc.spec.variants.map((x) => ({ name: x.name, uri: x.model.uri })),
    // Fixed: the live choice is the watched file, so a swap never changes this key (no restart).
    activeVariant: isvc.spec.variants[0]!.name,
    activeVariantFile: `${ACTIVE_VARIANT_DIR}/${ACTIVE_VARIANT_FILE}`,
    ...(pvc.volumes.length > 0 ? { pvcMountRoot: DEFAULT_PVC_MOUNT_ROOT } : {}),
  };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(isvc, cmName, 'model-server-config'),
    data: { 'server.json': JSON.stringify(serverConfig, null, 2), [ACTIVE_VARIANT_FILE]: v.name },
  };
  const res = rt.resources ?? {};
  const podSpec = {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: 'model-server',
        image: rt.image ?? opts.modelServerImage ?? DEFAULT_MODEL_SERVER_IMAGE,
        args: ['serve', '--config', `${ACTIVE_VARIANT_DIR}/server.json`, ...(rt.args ?? [])],
        ports: [{ name: 'http', containerPort: MODEL_SERVER_PORT, protocol: 'TCP' }],
        readinessProbe: { httpGet: { path: '/v2/health/ready', port: 'http' }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: '/v2/health/live', port: 'http' }, periodSeconds: 10 },
        resources: { requests: { ...res.requests, ...gpus }, limits: { ...res.limits, ...gpus } },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
        volumeMounts: [
          { name: 'carbonscale-config', mountPath: ACTIVE_VARIANT_DIR, readOnly: true },
          { name: 'model-cache', mountPath: '/tmp' },
          ...pvc.mounts,
        ],
      },
    ],
    volumes: [
      { name: 'carbonscale-config', configMap: { name: cmName } },
      { name: 'model-cache', emptyDir: {} },
      ...pvc.volumes,
    ],
  };
  const podMeta = {
    labels: baseLabels,
    annotations: {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(MODEL_SERVER_PORT),
      'prometheus.io/path': '/metrics',
    },
  };
  return { podSpec, podMeta, configMap };
}

export function render(
  isvc: InferenceService,
  variantName: string,
  replicas: number,
  opts: RenderOptions = {},
): Rendered {
  // Never a partial set of children (a Deployment without its Service): refuse before rendering any.
  const problem = renderProblem(isvc);
  if (problem) throw new InfeasibleSpecError(problem);
  const v = variantByName(isvc, variantName);
  const rt = isvc.spec.runtime;
  const name = childName(isvc);
  const labels = selectorLabels(isvc);
  const podLabels = { ...labels, [Label.tier]: isvc.spec.tier };
  const { podSpec, podMeta, configMap } =
    rt.type === 'custom' ? customPod(isvc, v, podLabels) : carbonscalePod(isvc, v, podLabels, opts);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(isvc, name, 'model'),
    spec: {
      replicas,
      selector: { matchLabels: labels },
      // A swap never drops capacity: new pods must be Ready before old ones go.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: podMeta, spec: podSpec },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(isvc, name, 'model'),
    spec: {
      selector: labels,
      ports: [
        { name: 'http', port: 80, targetPort: rt.type === 'custom' ? 'http' : MODEL_SERVER_PORT, protocol: 'TCP' },
      ],
    },
  };
  return configMap ? { deployment, service, configMap } : { deployment, service };
}
