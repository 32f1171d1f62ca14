// The Dockerfile, without a Docker engine: hadolint, and the properties of the two final stages (distroless base,
// numeric non-root user, no build steps, OCI labels, the entrypoint). test/e2e/install replays the stages' steps.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, hadolintBin, run } from './tools.ts';
import { execForm, parseCopy, parseDockerfile, type Stage } from './dockerfile.ts';

describe('install: Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const { stages } = parseDockerfile(text);
  const stage = (name: string): Stage => {
    const s = stages.find((x) => x.name === name);
    if (!s) throw new Error(`Dockerfile has no stage ${name}`);
    return s;
  };
  const all = (s: Stage, kw: string) => s.instructions.filter((i) => i.keyword === kw);

  it('hadolint reports nothing', function () {
    const h = hadolintBin();
    if (!h) throw new Error('hadolint not found: run with $CARBONSCALE_PYTHON set (source scripts/python-env.sh)');
    const r = run(h, ['Dockerfile']);
    expect(r.stdout + r.stderr).to.equal('');
    expect(r.code).to.equal(0);
  });

  for (const [name, cmd] of [
    ['operator', ['operator']],
    ['model-server', ['serve', '--config', '/app/model-server/digits.config.json']],
  ] as const) {
    it(`final stage ${name}: distroless, numeric non-root user, no RUN, OCI labels, node /app/operator/cli.ts ${cmd[0]}`, () => {
      const s = stage(name);
      expect(s.from).to.match(/^gcr\.io\/distroless\/nodejs24-/);
      expect(all(s, 'RUN'), 'no build steps (and no shell) in a final stage').to.have.length(0);
      const user = all(s, 'USER').at(-1)?.args;
      expect(user).to.match(/^[1-9][0-9]*:[1-9][0-9]*$/);
      const labels = all(s, 'LABEL')
        .map((l) => l.args)
        .join(' ');
      for (const k of ['title', 'description', 'version', 'licenses', 'source'])
        expect(labels).to.include(`org.opencontainers.image.${k}=`);
      expect(execForm(all(s, 'ENTRYPOINT').at(-1)!.args)).to.deep.equal(['/nodejs/bin/node', '/app/operator/cli.ts']);
      expect(execForm(all(s, 'CMD').at(-1)!.args)).to.deep.equal([...cmd]);
      // Dependencies come from a stage that installed production dependencies only.
      const deps = all(s, 'COPY')
        .map((c) => parseCopy(c.args))
        .find((c) => c.from);
      expect(deps?.sources).to.deep.equal(['/app/node_modules']);
      const depRuns = [deps!.from!, 'deps'].flatMap((n) => all(stage(n), 'RUN').map((r) => r.args));
      expect(depRuns.join('\n')).to.include('npm ci --omit=dev');
    });
  }

  it('the operator image leaves onnxruntime-node and the model server out', () => {
    const s = stage('operator');
    const copies = all(s, 'COPY').map((c) => parseCopy(c.args));
    // Only the model URI schemes list (operator/api builds the CRD's rule from it), which imports nothing else.
    const URI_LIST = 'model-server/model-uri.ts';
    expect(
      copies
        .flatMap((c) => c.sources)
        .filter((p) => p !== URI_LIST)
        .join(' '),
    ).to.not.include('model-server');
    const imports = [...readFileSync(join(ROOT, URI_LIST), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)];
    expect(imports.map((m) => m[1])).to.deep.equal(['node:path']);
    expect(
      all(stage(copies.find((c) => c.from)!.from!), 'RUN')
        .map((r) => r.args)
        .join('\n'),
    ).to.match(/npm uninstall [^\n]*onnxruntime-node/);
  });

  it('.dockerignore keeps node_modules, tests and the git history out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '.git', 'test/']) expect(ignore).to.include(p);
  });
});
