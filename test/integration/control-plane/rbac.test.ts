import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { createNamespace, statusOf, useControlPlane } from '../../support/cluster.ts';

describe('control plane: RBAC is real', () => {
  const cluster = useControlPlane();

  async function grantConfigMapRead(ns: string, subject: k8s.RbacV1Subject) {
    const rbac = cluster().kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'cm-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'cm-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [subject],
      },
    });
  }

  async function expectStatus(p: Promise<unknown>, status: number) {
    try {
      await p;
    } catch (e) {
      expect(statusOf(e), (e as Error).message).to.equal(status);
      return;
    }
    expect.fail(`expected HTTP ${status}, but the call succeeded`);
  }

  it('a client-certificate user is allowed what its Role grants and refused (403) what it does not', async () => {
    const ns = await createNamespace(cluster().core, 'rbac');
    await grantConfigMapRead(ns, { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' });
    const alice = cluster().cp.userConfig('alice', ['testers']).makeApiClient(k8s.CoreV1Api);
    const list = await alice.listNamespacedConfigMap({ namespace: ns });
    expect(list.items).to.be.an('array');
    await expectStatus(alice.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } }), 403);
    await expectStatus(alice.listNamespacedSecret({ namespace: ns }), 403);
    await expectStatus(alice.listNamespacedConfigMap({ namespace: 'default' }), 403);
  });

  it('a real ServiceAccount token (TokenRequest API) gets exactly its RoleBinding', async () => {
    const { core } = cluster();
    const ns = await createNamespace(core, 'rbac-sa');
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'robot' } } });
    await grantConfigMapRead(ns, { kind: 'ServiceAccount', name: 'robot', namespace: ns });
    const { kc } = await cluster().cp.serviceAccountConfig(ns, 'robot');
    const robot = kc.makeApiClient(k8s.CoreV1Api);
    const res = await robot.listNamespacedConfigMap({ namespace: ns });
    expect(res.items).to.be.an('array');
    await expectStatus(robot.deleteNamespacedConfigMap({ namespace: ns, name: 'anything' }), 403);
    await expectStatus(robot.listNamespacedPod({ namespace: ns }), 403);
  });
});
