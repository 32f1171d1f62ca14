// Security checks (issue 15 §4), from outside: the chart's identity is denied everything its RBAC does not grant
// (every resource the apiserver serves × every verb, asked with SelfSubjectAccessReview under the chart's
// ServiceAccount token, compared with the rules as rendered by `helm template`); no planted secret value anywhere
// a run leaves text (logs, Events, status, audit files, metrics); no endpoint of the operator but its three
// read-only ones answers.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { applyManifestFile } from '../../../operator/kube/apply-manifests.ts';
import { KubeClient } from '../../../operator/kube/kube-client.ts';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import { findLeaks, plantedValues } from '../../../test/emulators/planted-secrets.ts';
import { HARNESS_MANAGER } from '../fixtures.ts';
import { OperatorProcess } from '../operator-process.ts';
import { OPERATOR_NAMESPACE } from '../soak-cluster.ts';
import type { Scenario, SoakContext } from './context.ts';
import { ensureLeader } from './common.ts';
import { PLANTED } from './faults-carbon.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const ROOT = path.resolve(import.meta.dirname, '../../..');
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function grants(rules: readonly Rule[], group: string, resource: string, verb: string): boolean {
  const has = (xs: string[], x: string) => xs.includes('*') || xs.includes(x);
  return rules.some((r) => has(r.apiGroups, group) && has(r.resources, resource) && has(r.verbs, verb));
}

/** Every (group, resource incl. subresources) the apiserver serves, from discovery. */
async function servedResources(
  c: KubeClient,
): Promise<Array<{ group: string; resource: string; namespaced: boolean }>> {
  const out: Array<{ group: string; resource: string; namespaced: boolean }> = [];
  const add = (group: string, list: Any) => {
    for (const r of list.resources as Any[]) out.push({ group, resource: r.name, namespaced: r.namespaced });
  };
  add('', await c.get<Any>('/api/v1'));
  const groups = await c.get<Any>('/apis');
  for (const g of groups.groups as Any[]) add(g.name, await c.get<Any>(`/apis/${g.preferredVersion.groupVersion}`));
  return out;
}

async function rbacCheck(ctx: SoakContext): Promise<void> {
  const S = 'security: RBAC';
  const { env, results: r } = ctx;
  const helm = path.join(process.env.KUBEBUILDER_ASSETS ?? '', 'helm');
  const rendered = execFileSync(
    helm,
    [
      'template',
      'carbonscale',
      path.join(ROOT, 'charts/carbonscale'),
      '-n',
      OPERATOR_NAMESPACE,
      '--show-only',
      'templates/serviceaccount.yaml',
      '--show-only',
      'templates/rbac.yaml',
    ],
    { encoding: 'utf8' },
  );
  const file = path.join(ctx.opts.work, 'chart-rbac.yaml');
  writeFileSync(file, rendered);
  await applyManifestFile(env.client, file, { namespace: OPERATOR_NAMESPACE, fieldManager: HARNESS_MANAGER });
  const docs = (loadAll(rendered) as Any[]).filter(Boolean);
  const clusterRules = docs.filter((d) => d.kind === 'ClusterRole').flatMap((d) => d.rules as Rule[]);
  const nsRules = docs.filter((d) => d.kind === 'Role').flatMap((d) => d.rules as Rule[]);
  const sa = docs.find((d) => d.kind === 'ServiceAccount')?.metadata?.name ?? 'carbonscale';
  // What Kubernetes grants every authenticated identity and every ServiceAccount (system:basic-user, …) comes on top.
  const defaults = await defaultGrants(ctx, [`system:serviceaccounts:${OPERATOR_NAMESPACE}`]);
  const { kc, path: saKubeconfig } = await env.cp.serviceAccountConfig(OPERATOR_NAMESPACE, sa);
  const c = new KubeClient(kc, { qps: 200, burst: 400 });
  try {
    const resources = await servedResources(env.client);
    const mismatches: string[] = [];
    let asked = 0;
    let allowed = 0;
    const namespaces = [OPERATOR_NAMESPACE, ctx.world.namespaces[0]!];
    const cases: Array<{ group: string; resource: string; sub?: string; verb: string; ns?: string }> = [];
    for (const res of resources) {
      const [resource, sub] = res.resource.split('/') as [string, string | undefined];
      for (const verb of VERBS)
        for (const ns of res.namespaced ? namespaces : [undefined])
          cases.push({ group: res.group, resource, ...(sub ? { sub } : {}), verb, ...(ns ? { ns } : {}) });
    }
    const ask = async (k: (typeof cases)[number]) => {
      const review = await c.create<Any>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            group: k.group,
            resource: k.resource,
            ...(k.sub ? { subresource: k.sub } : {}),
            verb: k.verb,
            ...(k.ns ? { namespace: k.ns } : {}),
          },
        },
      });
      asked++;
      const got = review.status?.allowed === true;
      const full = k.sub ? `${k.resource}/${k.sub}` : k.resource;
      const want =
        grants(clusterRules, k.group, full, k.verb) ||
        grants(defaults, k.group, full, k.verb) ||
        (k.ns === OPERATOR_NAMESPACE && grants(nsRules, k.group, full, k.verb));
      if (got) allowed++;
      if (got !== want)
        mismatches.push(
          `${k.verb} ${k.group || 'core'}/${full}${k.ns ? ` in ${k.ns}` : ''}: ${got ? 'allowed' : 'denied'}, chart says ${want ? 'allowed' : 'denied'}`,
        );
    };
    for (let i = 0; i < cases.length; i += 32) await Promise.all(cases.slice(i, i + 32).map(ask));
    r.check(
      S,
      `chart ServiceAccount token: verbs × served resources × namespaces asked (SelfSubjectAccessReview), allowed exactly what the chart grants`,
      mismatches.length === 0,
      `${asked} asked, ${allowed} allowed, ${mismatches.length} differ`,
      '0 differ',
      mismatches.slice(0, 8).join('; '),
    );
    const secretsWide = cases.filter((k) => k.resource === 'secrets' && k.verb !== 'get').length;
    r.info(
      S,
      'secrets: only get by name in the release namespace',
      `${secretsWide} other secret verbs/namespaces asked, all must be denied`,
    );
  } finally {
    c.close();
  }
  await runsUnderChartIdentity(ctx, saKubeconfig);
}

/** The operator started under the chart's token (a standby: the lease is held) must sync every cache it keeps. */
async function runsUnderChartIdentity(ctx: SoakContext, kubeconfig: string): Promise<void> {
  const op = new OperatorProcess({
    kubeconfig,
    identity: 'chart-identity',
    namespace: OPERATOR_NAMESPACE,
    leaderElect: true,
    logFile: path.join(ctx.opts.work, 'chart-identity.log'),
    ...(ctx.opts.operatorCli ? { cli: ctx.opts.operatorCli } : {}),
  });
  await op.start();
  let ready = true;
  let detail = '';
  try {
    await op.waitReady(60_000);
  } catch (e) {
    ready = false;
    const rz = await op.readyz();
    const denied = op
      .logLines()
      .filter((l) => /403|forbidden/i.test(JSON.stringify(l)))
      .slice(0, 2);
    detail = `/readyz: ${rz ? `${rz.status} ${rz.body.trim()}` : 'no answer'}; ${denied.map((l) => JSON.stringify(l).slice(0, 300)).join('; ') || (e as Error).message.slice(0, 300)}`;
  }
  await op.stop();
  ctx.results.check(
    'security: RBAC',
    'the operator under the chart ServiceAccount token: every cache syncs (/readyz 200)',
    ready,
    ready ? 'ready' : 'not ready',
    'ready',
    detail,
  );
}

/** Rules of the ClusterRoles bound cluster-wide to the groups every ServiceAccount token carries. */
async function defaultGrants(ctx: SoakContext, extraGroups: string[]): Promise<Rule[]> {
  const groups = new Set(['system:authenticated', 'system:serviceaccounts', ...extraGroups]);
  const bindings = await ctx.env.client.listAll<Any>('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings');
  const roles = bindings.items
    .filter((b) => ((b.subjects ?? []) as Any[]).some((s) => s.kind === 'Group' && groups.has(s.name)))
    .map((b) => b.roleRef.name as string);
  const rules: Rule[] = [];
  for (const name of new Set(roles)) {
    const role = await ctx.env.client.get<Any>(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`);
    for (const rule of (role.rules ?? []) as Any[])
      if (rule.resources)
        rules.push({ apiGroups: rule.apiGroups ?? [''], resources: rule.resources, verbs: rule.verbs });
  }
  return rules;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    if (s.isDirectory()) out.push(...filesUnder(p));
    else if (s.isFile() && s.size < 64 * 2 ** 20) out.push(p);
  }
  return out;
}

async function leakCheck(ctx: SoakContext): Promise<void> {
  const S = 'security: secrets';
  const { env, results: r } = ctx;
  const op = await ensureLeader(ctx);
  const texts: Record<string, string> = {};
  for (const f of filesUnder(ctx.opts.work)) {
    if (f.endsWith('.log')) texts[`log ${path.basename(f)}`] = readFileSync(f, 'utf8');
    else if (f.includes('/audit') && f.endsWith('.parquet')) {
      texts[`audit file ${path.basename(f)} (bytes)`] = readFileSync(f).toString('latin1');
      texts[`audit file ${path.basename(f)} (rows)`] = JSON.stringify(
        (await readAuditFile(f).catch(() => ({ rows: [] }))).rows,
      );
    } else if (f.includes('/audit')) texts[`audit ${path.basename(f)}`] = readFileSync(f).toString('latin1');
  }
  texts['events.k8s.io Events'] = JSON.stringify((await env.client.listAll('/apis/events.k8s.io/v1/events')).items);
  texts['core Events'] = JSON.stringify((await env.client.listAll('/api/v1/events')).items);
  texts['InferenceServices'] = JSON.stringify(
    (await env.client.listAll('/apis/carbonscale.dev/v1alpha1/inferenceservices')).items,
  );
  texts['CarbonSources'] = JSON.stringify(
    (await env.client.listAll('/apis/carbonscale.dev/v1alpha1/carbonsources')).items,
  );
  texts['metrics'] = await op.metricsText();
  const leaks = findLeaks(texts, plantedValues(PLANTED));
  const planted = texts['CarbonSources'].includes('soak-em');
  r.check(
    S,
    `planted credentials in logs, Events, status, audit files and metrics (${Object.keys(texts).length} texts${planted ? ', after the echoing provider' : ''})`,
    leaks.length === 0,
    String(leaks.length),
    '0',
    leaks
      .slice(0, 5)
      .map((l) => `${l.where}: ${l.encoding.slice(0, 12)}…`)
      .join('; '),
  );
}

async function endpointCheck(ctx: SoakContext): Promise<void> {
  const S = 'security: endpoints';
  const op = await ensureLeader(ctx);
  const paths = [
    '/',
    '/admin',
    '/debug/pprof',
    '/debug/vars',
    '/shutdown',
    '/quitquitquit',
    '/config',
    '/env',
    '/api',
    '/metrics/../admin',
  ];
  const open: string[] = [];
  for (const p of paths)
    for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
      const res = await fetch(`http://127.0.0.1:${op.metricsPort}${p}`, {
        method,
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      if (res && res.status < 400) open.push(`${method} ${p} → ${res.status}`);
    }
  ctx.results.check(
    S,
    `operator HTTP port: paths other than /healthz, /readyz, /metrics that answer (${paths.length} paths × 4 methods)`,
    open.length === 0,
    String(open.length),
    '0',
    open.join('; '),
  );
  const writeToMetrics = await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`, {
    method: 'POST',
    body: 'x',
    signal: AbortSignal.timeout(5000),
  }).then(
    (x) => x.status,
    () => 0,
  );
  ctx.results.info(S, 'POST /metrics (read-only endpoint; no state changes through it)', String(writeToMetrics));
}

export const security: Scenario = {
  name: 'security',
  async run(ctx) {
    await rbacCheck(ctx);
    await leakCheck(ctx);
    await endpointCheck(ctx);
  },
};
