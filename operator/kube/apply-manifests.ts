// Server-side apply of multi-document YAML (what `kubectl apply --server-side` does), through the one door:
// every document is parsed and mapped to its resource before the first is applied, so a bad document applies
// nothing and the error names the file, the line where its document starts and the field. Namespaced objects
// without a namespace go to `namespace`; cluster-scoped objects ignore one. `kind: List` is expanded.
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { FIELD_MANAGER } from '../constants.ts';
import { objectPath, type KubeClient, type KubeObject, type ResourceDescriptor } from './kube-client.ts';
import { RestMapper } from './rest-mapper.ts';

export interface ApplyManifestsOptions {
  /** Namespace for namespaced objects that name none (default 'default'). */
  namespace?: string;
  fieldManager?: string;
  /** Take fields other managers own (default true, as for our own objects). */
  force?: boolean;
  /** Where the text came from, for error messages. */
  source?: string;
  mapper?: RestMapper;
}

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

interface Doc {
  obj: KubeObject;
  line: number;
}

/** Splits YAML into documents with the 1-based line each starts on. */
export function splitDocuments(text: string, source = 'manifest'): Doc[] {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const chunks: Array<{ start: number; body: string[] }> = [{ start: 1, body: [] }];
  lines.forEach((l, i) => {
    if (/^---(\s|$)/.test(l)) chunks.push({ start: i + 2, body: [] });
    else chunks.at(-1)!.body.push(l);
  });
  const docs: Doc[] = [];
  for (const c of chunks) {
    let parsed: unknown[];
    try {
      parsed = loadAll(c.body.join('\n'));
    } catch (e) {
      const mark = (e as { mark?: { line?: number } }).mark;
      const at = mark?.line !== undefined ? c.start + mark.line : c.start;
      throw new Error(`${source}:${at}: not valid YAML: ${(e as { reason?: string }).reason ?? (e as Error).message}`);
    }
    for (const p of parsed) {
      if (p === null || p === undefined) continue;
      if (typeof p !== 'object' || Array.isArray(p))
        throw new Error(
          `${source}:${c.start}: a document must be a mapping (an object), got ${Array.isArray(p) ? 'a list' : typeof p}`,
        );
      const o = p as KubeObject;
      if (o.kind === 'List' && Array.isArray(o.items))
        for (const item of o.items as KubeObject[]) docs.push({ obj: item, line: c.start });
      else docs.push({ obj: o, line: c.start });
    }
  }
  return docs;
}

function checkDoc(d: Doc, source: string): void {
  const where = `${source}:${d.line}`;
  for (const f of ['apiVersion', 'kind'] as const)
    if (typeof d.obj[f] !== 'string' || !d.obj[f]) throw new Error(`${where}: ${f} is missing or not a string`);
  if (typeof d.obj.metadata?.name !== 'string' || !d.obj.metadata.name)
    throw new Error(`${where}: metadata.name is missing (${d.obj.kind}); generateName cannot be applied`);
}

/** Applies every object of `text`; returns what was applied, in order. */
export async function applyManifests(
  client: KubeClient,
  text: string,
  o: ApplyManifestsOptions = {},
): Promise<AppliedObject[]> {
  const source = o.source ?? 'manifest';
  const docs = splitDocuments(text, source);
  docs.forEach((d) => checkDoc(d, source));
  const mapper = o.mapper ?? new RestMapper(client);
  const planned: Array<{ obj: KubeObject; res: ResourceDescriptor; namespace?: string }> = [];
  for (const d of docs) {
    let res: ResourceDescriptor;
    try {
      res = await mapper.resourceFor(d.obj.apiVersion!, d.obj.kind!);
    } catch (e) {
      throw new Error(`${source}:${d.line}: ${(e as Error).message}`, { cause: e });
    }
    const obj = structuredClone(d.obj);
    const namespace = res.namespaced ? (obj.metadata!.namespace ?? o.namespace ?? 'default') : undefined;
    if (namespace) obj.metadata!.namespace = namespace;
    else delete obj.metadata!.namespace;
    planned.push({ obj, res, ...(namespace ? { namespace } : {}) });
  }
  const out: AppliedObject[] = [];
  for (const p of planned) {
    const name = p.obj.metadata!.name!;
    await client.apply(objectPath(p.res, name, p.namespace), p.obj, o.force ?? true, o.fieldManager ?? FIELD_MANAGER);
    out.push({
      apiVersion: p.obj.apiVersion!,
      kind: p.obj.kind!,
      name,
      ...(p.namespace ? { namespace: p.namespace } : {}),
    });
  }
  return out;
}

/** applyManifests over a file. */
export function applyManifestFile(client: KubeClient, file: string, o: Omit<ApplyManifestsOptions, 'source'> = {}) {
  return applyManifests(client, readFileSync(file, 'utf8'), { ...o, source: file });
}
