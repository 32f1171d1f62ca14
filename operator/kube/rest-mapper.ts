// Kind → resource through the apiserver's discovery documents (GET /api/v1, /apis/<group>/<version>), cached per
// group/version. A kind not found is looked up once more (a CRD may have been established since), then fails
// naming the apiVersion and kind.
import { KubeApiError, type KubeClient, type ResourceDescriptor } from './kube-client.ts';

interface APIResourceList {
  resources: Array<{ name: string; kind: string; namespaced: boolean }>;
}

export class RestMapper {
  private client: KubeClient;
  private cache = new Map<string, Map<string, ResourceDescriptor>>();

  constructor(client: KubeClient) {
    this.client = client;
  }

  private async load(apiVersion: string): Promise<Map<string, ResourceDescriptor>> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    let list: APIResourceList;
    try {
      list = await this.client.get<APIResourceList>(path);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return new Map();
      throw e;
    }
    const m = new Map<string, ResourceDescriptor>();
    // Go's nil slice is `null` on the wire, whatever the client's type says.
    for (const r of (list.resources as APIResourceList['resources'] | null) ?? []) {
      if (r.name.includes('/')) continue; // subresources
      m.set(r.kind, { group: group!, version: version!, plural: r.name, kind: r.kind, namespaced: r.namespaced });
    }
    this.cache.set(apiVersion, m);
    return m;
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceDescriptor> {
    const found = (this.cache.get(apiVersion) ?? (await this.load(apiVersion))).get(kind);
    if (found) return found;
    const fresh = (await this.load(apiVersion)).get(kind);
    if (fresh) return fresh;
    throw new Error(`the apiserver serves no kind ${kind} in ${apiVersion} (is its CRD installed?)`);
  }
}
