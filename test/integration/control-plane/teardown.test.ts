import { expect } from 'chai';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { LocalControlPlane } from '../../../operator/local-cluster/control-plane.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle` (reads /proc, Linux). */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

describe('control plane: clean teardown', () => {
  it('leaves no process and no temp dir behind', async function () {
    this.timeout(180_000);
    const cp = await new LocalControlPlane().start();
    const pids = cp.pids;
    expect(pids.length, 'etcd and kube-apiserver').to.equal(2);
    expect(processesMentioning(cp.dir).length).to.be.at.least(2);
    await cp.stop();
    expect(pids.filter(alive), 'pids still alive after stop').to.deep.equal([]);
    expect(processesMentioning(cp.dir), 'processes still naming the temp dir').to.deep.equal([]);
    expect(existsSync(cp.dir)).to.equal(false);
  });
});
