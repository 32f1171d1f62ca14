// The kube layer against a real kube-apiserver: one keep-alive pool (sockets and TLS handshakes counted),
// watches on their own sockets, paginated lists, one Event series for repeats with changing notes, SSA of
// multi-document YAML, leader-only runnables gated by a real Lease, and no relist storm after an apiserver
// restart (LISTs counted). The restart test runs last: it stops the apiserver this file shares.
import { expect } from 'chai';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import { applyManifests } from '../../../operator/kube/apply-manifests.ts';
import { EventRecorder } from '../../../operator/kube/events.ts';
import {
  collectionPath,
  KubeApiError,
  KubeClient,
  objectPath,
  Resources,
  type KubeObject,
} from '../../../operator/kube/kube-client.ts';
import { Manager, runnable } from '../../../operator/kube/manager.ts';
import { Reflector } from '../../../operator/kube/reflector.ts';
import type { RequestRecord } from '../../../operator/kube/request-accounting.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const configMap = (name: string, namespace: string, data: Record<string, string> = { k: 'v' }) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data,
});

describe('kube layer against a real kube-apiserver', () => {
  const cluster = useControlPlane();

  describe('one keep-alive connection pool', () => {
    it('300 GETs, 50 of them at once, reuse at most maxSockets TLS connections', async () => {
      const client = new KubeClient(cluster().kc, { maxSockets: 4, qps: 1000, burst: 1000 });
      try {
        for (let i = 0; i < 250; i++) await client.get('/api/v1/namespaces/default');
        await Promise.all(Array.from({ length: 50 }, () => client.get('/api/v1/namespaces/default')));
        const s = client.connectionStats().requests;
        expect(client.requests.count('get', 'namespaces')).to.equal(300);
        expect(s.socketsCreated, 'sockets for 300 requests').to.be.within(1, 4);
        expect(s.tlsHandshakes, 'a handshake per socket, not per request').to.equal(s.socketsCreated);
      } finally {
        client.close();
      }
    });

    it('watches hold sockets of their own: 8 open watches do not starve requests on a 2-socket pool', async () => {
      const client = new KubeClient(cluster().kc, { maxSockets: 2 });
      const abort = new AbortController();
      try {
        const watches = Array.from({ length: 8 }, () =>
          client.watch('/api/v1/configmaps', { timeoutSeconds: 60 }, () => undefined, abort.signal),
        );
        await waitFor('8 watch sockets', async () => client.connectionStats().watches.socketsCreated >= 8);
        for (let i = 0; i < 20; i++) await client.get('/api/v1/namespaces/default');
        const s = client.connectionStats();
        expect(s.requests.socketsCreated).to.be.within(1, 2);
        expect(s.watches.socketsCreated).to.equal(8);
        abort.abort();
        await Promise.all(watches);
      } finally {
        client.close();
      }
    });
  });

  describe('reflector: paginated list, managedFields stripped', () => {
    it('lists 25 ConfigMaps in pages of 10 (3 LIST requests) and then sees a watch event', async () => {
      const { core } = cluster();
      const ns = await createNamespace(core, 'pages');
      const adminClient = new KubeClient(cluster().kc);
      for (let i = 0; i < 25; i++)
        await adminClient.create(collectionPath(Resources.configMap, ns), configMap(`cm-${i}`, ns));
      const records: RequestRecord[] = [];
      const client = new KubeClient(cluster().kc, { onRequest: (r) => records.push(r) });
      const r = new Reflector<KubeObject>(client, Resources.configMap, { namespace: ns, pageSize: 10 });
      r.start();
      try {
        await r.waitForSync();
        expect(r.list()).to.have.length(25);
        expect(records.filter((x) => x.verb === 'list').map((x) => x.status)).to.deep.equal([200, 200, 200]);
        expect(r.get(`${ns}/cm-3`)!.metadata).to.not.have.property('managedFields');
        expect(r.get(`${ns}/cm-3`)!.kind).to.equal('ConfigMap');
        await adminClient.create(collectionPath(Resources.configMap, ns), configMap('late', ns));
        await waitFor('the watch to deliver the new ConfigMap', async () => r.get(`${ns}/late`));
        expect(records.filter((x) => x.verb === 'list')).to.have.length(3);
      } finally {
        await r.stop();
        client.close();
        adminClient.close();
      }
    });
  });

  describe('Events: one series for repeats with changing notes', () => {
    it('5 PodsPending Events with changing counts are one Event whose series.count is 5 and whose note is the latest', async () => {
      const { core } = cluster();
      const ns = await createNamespace(core, 'events');
      const client = new KubeClient(cluster().kc);
      const cm: any = await client.create(collectionPath(Resources.configMap, ns), configMap('target', ns));
      const rec = new EventRecorder(client, { instance: 'test' });
      const target = { apiVersion: 'v1', kind: 'ConfigMap', name: 'target', namespace: ns, uid: cm.metadata.uid };
      for (let pending = 1; pending <= 5; pending++)
        await rec.record(target, {
          type: 'Warning',
          reason: 'PodsPending',
          action: 'Scale',
          note: `${pending} of 5 pods pending: not enough nvidia.com/gpu`,
        });
      // A different reason is a different series.
      await rec.record(target, { type: 'Normal', reason: 'Scaled', action: 'Scale', note: 'scaled to 5' });
      const events = await client.list<any>(collectionPath(Resources.event, ns));
      const pendingEvents = events.items.filter((e) => e.reason === 'PodsPending');
      expect(pendingEvents, 'one Event object for the series').to.have.length(1);
      expect(pendingEvents[0].series.count).to.equal(5);
      expect(pendingEvents[0].note).to.equal('5 of 5 pods pending: not enough nvidia.com/gpu');
      expect(events.items.filter((e) => e.reason === 'Scaled')).to.have.length(1);
      client.close();
    });

    it('without RBAC for core Events (an older chart) the series still counts; the note stays the first', async () => {
      const { core, cp } = cluster();
      const ns = await createNamespace(core, 'events-rbac');
      const adminClient = new KubeClient(cluster().kc);
      await adminClient.create('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        metadata: { name: 'events-v1-only' },
        rules: [{ apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] }],
      });
      await adminClient.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
        metadata: { name: 'events-v1-only' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'events-v1-only' },
        subjects: [{ kind: 'User', name: 'old-chart', apiGroup: 'rbac.authorization.k8s.io' }],
      });
      const client = new KubeClient(cp.userConfig('old-chart'));
      const rec = new EventRecorder(client, { instance: 'test' });
      const target = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: ns };
      for (const n of [1, 2, 3])
        await rec.record(target, { type: 'Warning', reason: 'PodsPending', action: 'Scale', note: `${n} pending` });
      const events = await adminClient.list<any>(collectionPath(Resources.event, ns));
      expect(events.items).to.have.length(1);
      expect(events.items[0].series.count).to.equal(3);
      expect(events.items[0].note).to.equal('1 pending');
      client.close();
      adminClient.close();
    });
  });

  describe('applyManifests: server-side apply of multi-document YAML', () => {
    it('applies every document with the field manager, defaults the namespace, and applies nothing when one document is bad', async () => {
      const { core } = cluster();
      const ns = await createNamespace(core, 'apply');
      const client = new KubeClient(cluster().kc);
      const yaml = [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: one }',
        'data: { a: "1" }',
        '---',
        '# a comment-only document is skipped',
        '---',
        'apiVersion: v1',
        'kind: List',
        'items:',
        '- { apiVersion: v1, kind: ConfigMap, metadata: { name: two, namespace: default }, data: { b: "2" } }',
        '---',
        `apiVersion: v1`,
        'kind: Namespace',
        `metadata: { name: ${ns}-extra, namespace: ignored-for-cluster-scoped }`,
      ].join('\n');
      const applied = await applyManifests(client, yaml, { namespace: ns, fieldManager: 'carbonscale-test' });
      expect(applied).to.deep.equal([
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'one', namespace: ns },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'two', namespace: 'default' },
        { apiVersion: 'v1', kind: 'Namespace', name: `${ns}-extra` },
      ]);
      const one: any = await client.get(objectPath(Resources.configMap, 'one', ns));
      expect(one.data).to.deep.equal({ a: '1' });
      expect(one.metadata.managedFields.map((m: any) => m.manager)).to.include('carbonscale-test');

      const bad = [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: three }',
        '---',
        'apiVersion: v1',
        'kind: Widget',
        'metadata: { name: w }',
      ].join('\n');
      let err: Error | undefined;
      await applyManifests(client, bad, { namespace: ns, source: 'bad.yaml' }).catch((e: Error) => (err = e));
      expect(err?.message).to.equal('bad.yaml:5: the apiserver serves no kind Widget in v1 (is its CRD installed?)');
      expect(await client.getOrNull(objectPath(Resources.configMap, 'three', ns)), 'nothing applied').to.equal(null);
      const noName = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { generateName: x- }\n';
      await applyManifests(client, noName, { source: 'gen.yaml' }).catch((e: Error) => (err = e));
      expect(err?.message).to.match(/^gen\.yaml:1: metadata\.name is missing \(ConfigMap\)/);
      client.close();
    });
  });

  describe('manager: leader-only runnables follow a real Lease', () => {
    it('the standby starts its leader-only runnable only after the leader stops; a stolen lease stops it and ends the process', async function () {
      this.timeout(60_000);
      const { kc } = cluster();
      const state: Record<string, boolean> = {};
      const le = {
        namespace: 'default',
        name: 'kube-layer-test',
        leaseDurationMs: 2000,
        renewDeadlineMs: 1500,
        retryPeriodMs: 200,
      };
      const make = (id: string) => {
        const client = new KubeClient(kc);
        const m = new Manager({ client, leaderElection: { ...le, identity: id } });
        m.add(
          runnable(
            `controller ${id}`,
            true,
            () => void (state[id] = true),
            () => void (state[id] = false),
          ),
        );
        return { m, client };
      };
      const a = make('a');
      await a.m.start();
      await waitFor('a to lead', async () => state.a);
      const b = make('b');
      await b.m.start();
      await new Promise((r) => setTimeout(r, 1000));
      expect(state.b, 'b waits while a renews').to.equal(undefined);
      await a.m.stop(); // releases the lease
      expect(await a.m.done).to.equal(0);
      await waitFor('b to lead after the release', async () => state.b);
      // Someone else takes the lease: b must stop acting and report exit code 1.
      // b renews every 200 ms, so a steal can lose the race (409: b's renewal came between our read and write).
      // Steal until it lands; a 409 left alone would leave b leading and the test waiting for nothing.
      const path = objectPath(Resources.lease, le.name, le.namespace);
      for (let stolen = false; !stolen;) {
        const lease: any = await b.client.get(path);
        lease.spec.holderIdentity = 'intruder';
        lease.spec.renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
        stolen = await b.client.update(path, lease).then(
          () => true,
          (e) => {
            if (!(e instanceof KubeApiError && e.status === 409)) throw e;
            return false;
          },
        );
      }
      expect(await b.m.done).to.equal(1);
      expect(state.b).to.equal(false);
      a.client.close();
      b.client.close();
    });
  });

  describe('no relist storm after an apiserver restart', () => {
    it('each reflector lists at most once after the apiserver comes back, and none while it is away', async function () {
      this.timeout(180_000);
      const { core, cp } = cluster();
      const ns = await createNamespace(core, 'restart');
      const records: RequestRecord[] = [];
      const client = new KubeClient(cluster().kc, { onRequest: (r) => records.push(r) });
      const reflectors = [
        new Reflector<KubeObject>(client, Resources.configMap, { backoffBaseMs: 200, backoffMaxMs: 2000 }),
        new Reflector<KubeObject>(client, Resources.node, { backoffBaseMs: 200, backoffMaxMs: 2000 }),
        new Reflector<KubeObject>(client, Resources.lease, { backoffBaseMs: 200, backoffMaxMs: 2000 }),
        new Reflector<KubeObject>(client, Resources.service, { backoffBaseMs: 200, backoffMaxMs: 2000 }),
      ];
      const lists = (resource: string) => records.filter((r) => r.verb === 'list' && r.resource === resource);
      try {
        for (const r of reflectors) r.start();
        await Promise.all(reflectors.map((r) => r.waitForSync()));
        const before = records.length;
        await cp.stopApiserver();
        await new Promise((r) => setTimeout(r, 5000));
        const during = records.slice(before);
        expect(
          during.filter((r) => r.verb === 'list'),
          'no LIST attempts while the apiserver is away',
        ).to.deep.equal([]);
        expect(during.filter((r) => r.verb === 'watch').length, 'watches retried with backoff').to.be.at.least(4);
        const restartedAt = records.length;
        await cp.restartApiserver();
        const admin = new KubeClient(cluster().kc);
        await admin.create(collectionPath(Resources.configMap, ns), configMap('after-restart', ns));
        await waitFor(
          'the ConfigMap cache to see a change made after the restart',
          async () => reflectors[0]!.get(`${ns}/after-restart`),
          { timeoutMs: 60_000 },
        );
        await new Promise((r) => setTimeout(r, 3000)); // room for a storm to show
        const after = records.slice(restartedAt);
        if (process.env.KUBE_LAYER_DEBUG)
          console.log(after.map((r) => `${r.verb} ${r.resource} ${r.status}`).join('\n'));
        for (const res of ['configmaps', 'nodes', 'leases', 'services']) {
          const n = after.filter((r) => r.verb === 'list' && r.resource === res && r.status !== 0).length;
          expect(n, `LISTs of ${res} after the restart`).to.be.at.most(1);
        }
        expect(lists('configmaps').filter((r) => r.status === 200).length).to.be.at.most(2);
        admin.close();
      } finally {
        await Promise.all(reflectors.map((r) => r.stop()));
        client.close();
      }
    });
  });
});
