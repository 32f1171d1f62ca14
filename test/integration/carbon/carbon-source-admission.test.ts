// The CarbonSource CRD, rendered from the provider registry (ADR 0403), at a real kube-apiserver: every example
// CarbonSource is accepted, and what the operator's validator refuses for a rule the CRD can state (a block on the
// wrong provider, a missing self-hosted endpoint, a duplicate fallback, a bad name, a bound) is refused at admission
// too, naming the field — so the two cannot disagree about what a valid source is.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { renderCrds } from '../../../operator/api/crds.ts';
import { validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import { KubeApiError, KubeClient, collectionPath, objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import { useControlPlane, waitFor } from '../../support/cluster.ts';

const EXAMPLES = fileURLToPath(new URL('../../../examples/carbon-sources/', import.meta.url));
const CRD = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

const source = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'carbonscale.dev/v1alpha1',
  kind: 'CarbonSource',
  metadata: { name },
  spec,
});

const BAD: { what: string; spec: Record<string, unknown>; field: RegExp; operator: string }[] = [
  {
    what: "another provider's block",
    spec: { provider: 'trace', trace: { file: 'f.csv' }, static: { valueGPerKWh: 1 } },
    field: /spec\.static is only for provider static/,
    operator: "spec.static: only for provider 'static'",
  },
  {
    what: 'a provider without its block',
    spec: { provider: 'static' },
    field: /spec\.static is required for provider static/,
    operator: 'spec.static: required for provider static',
  },
  {
    what: 'a self-hosted provider without an endpoint',
    spec: { provider: 'carbonAwareSdk' },
    field: /spec\.endpoint is required for provider carbonAwareSdk/,
    operator: 'spec.endpoint: required for carbonAwareSdk',
  },
  {
    what: 'an unknown provider',
    spec: { provider: 'acme', credentialsSecretRef: { name: 'x' } },
    field: /spec\.provider: Unsupported value: "acme"/,
    operator: 'spec.provider: must be one of',
  },
  {
    what: 'a fallback listed twice',
    spec: { provider: 'ukCarbonIntensity', fallback: ['a', 'a'] },
    field: /spec\.fallback\[1\]: Duplicate value: "a"/,
    operator: "spec.fallback[1]: 'a' is listed twice",
  },
  {
    what: 'a Secret name that is not an object name',
    spec: { provider: 'electricityMaps', credentialsSecretRef: { name: 'Bad_Name' } },
    field: /spec\.credentialsSecretRef\.name/,
    operator: 'spec.credentialsSecretRef.name: must be a Kubernetes object name',
  },
  {
    what: 'a timeout below 50 ms',
    spec: { provider: 'ukCarbonIntensity', timeoutSeconds: 0.01 },
    field:
      /spec\.timeoutSeconds: Invalid value: 0\.01: spec\.timeoutSeconds in body should be greater than or equal to 0\.05/,
    operator: 'spec.timeoutSeconds: must be a number between 0.05 and 300',
  },
  {
    what: 'an environment variable name with a space',
    spec: { provider: 'electricityMaps', credentialsFromEnv: { apiKey: 'EM TOKEN' } },
    field: /spec\.credentialsFromEnv\.apiKey/,
    operator: 'spec.credentialsFromEnv.apiKey: must be an environment variable name',
  },
];

describe('CarbonSource CRD at the API server: the registry-rendered schema admits what the operator accepts', function () {
  this.timeout(60_000);
  const cluster = useControlPlane();
  let client: KubeClient;

  before(async () => {
    client = new KubeClient(cluster().kc);
    const file = Object.entries(renderCrds()).find(([f]) => f.startsWith('carbonsources'))![1];
    const crd = load(file) as KubeObject;
    await client.apply(objectPath(CRD, crd.metadata!.name!), crd);
    await waitFor('the CarbonSource CRD to be established', async () => {
      const got = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        objectPath(CRD, crd.metadata!.name!),
      );
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  });

  for (const f of readdirSync(EXAMPLES).filter((x) => x.endsWith('.yaml')))
    it(`accepts examples/carbon-sources/${f}`, async () => {
      const doc = (loadAll(readFileSync(EXAMPLES + f, 'utf8')) as KubeObject[]).find((d) => d.kind === 'CarbonSource')!;
      const made = await client.create<KubeObject>(collectionPath(Resources.carbonSource), doc);
      expect(made.metadata?.name).to.equal(doc.metadata!.name);
    });

  BAD.forEach((b, i) =>
    it(`refuses ${b.what}, as the operator does`, async () => {
      expect(validateCarbonSourceSpec(b.spec).errors.join('\n')).to.include(b.operator);
      try {
        await client.create(collectionPath(Resources.carbonSource), source(`bad-${i}`, b.spec));
      } catch (e) {
        expect(e).to.be.instanceOf(KubeApiError);
        const msg = (e as KubeApiError).message;
        expect((e as KubeApiError).status, msg).to.equal(422);
        expect(b.field.test(msg), msg).to.equal(true);
        return;
      }
      expect.fail(`the API server accepted ${b.what}`);
    }),
  );
});
