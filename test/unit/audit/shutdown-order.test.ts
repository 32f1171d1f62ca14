// The main job's ordered stop (operator/shutdown.ts), driven by signals from an emitter: the first signal runs the
// steps in order (work, then the audit sink, then the control plane) and exits with the signal's code; a second
// signal exits at once; a failing step does not skip the next; a stop that hangs exits at the deadline; and the
// local control plane's own signal handlers stand aside once the signals are claimed.
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { installShutdown, signalsClaimed, type Shutdown } from '../../../operator/shutdown.ts';

function harness(steps: { name: string; run: () => Promise<void> }[], deadlineMs?: number) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const logs: string[] = [];
  let exited!: () => void;
  const exitedOnce = new Promise<void>((r) => (exited = r));
  const s: Shutdown = installShutdown(steps, {
    log: (m) => logs.push(m),
    exit: (code) => {
      exits.push(code);
      exited();
    },
    signals: signals as unknown as NodeJS.Process,
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
  });
  return { signals, exits, logs, exitedOnce, s };
}

describe('operator shutdown: one ordered stop, whatever the signal', () => {
  let h: ReturnType<typeof harness> | undefined;
  afterEach(() => h?.s.dispose());

  it('runs the steps in order on SIGINT, then exits 130; SIGTERM exits 143', async () => {
    const order: string[] = [];
    const step = (name: string) => ({ name, run: async () => void order.push(name) });
    h = harness([step('work'), step('audit sink'), step('control plane')]);
    expect(signalsClaimed()).to.equal(true);
    h.signals.emit('SIGINT', 'SIGINT');
    await h.exitedOnce;
    expect(order).to.deep.equal(['work', 'audit sink', 'control plane']);
    expect(h.exits).to.deep.equal([130]);
    h.s.dispose();
    expect(signalsClaimed()).to.equal(false);
    h = harness([step('work')]);
    h.signals.emit('SIGTERM', 'SIGTERM');
    await h.exitedOnce;
    expect(h.exits).to.deep.equal([143]);
  });

  it('exits at once on a second signal while a step is still running', async () => {
    let release!: () => void;
    const closing = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    h = harness([
      { name: 'audit sink', run: () => closing.then(() => void order.push('audit sink closed')) },
      { name: 'control plane', run: async () => void order.push('control plane') },
    ]);
    h.signals.emit('SIGINT', 'SIGINT');
    await new Promise((r) => setImmediate(r));
    h.signals.emit('SIGINT', 'SIGINT');
    expect(h.exits).to.deep.equal([130]);
    expect(h.logs.some((l) => l.includes('again: exiting now'))).to.equal(true);
    expect(order).to.deep.equal([]);
    release();
  });

  it('goes on with the next step when one fails, and run() is the same stop whoever calls it', async () => {
    const order: string[] = [];
    h = harness([
      { name: 'work', run: () => Promise.reject(new Error('apiserver gone')) },
      { name: 'audit sink', run: async () => void order.push('audit sink') },
    ]);
    const a = h.s.run('--exit-after-seconds');
    const b = h.s.run('operator stopped');
    expect(a).to.equal(b);
    await a;
    expect(order).to.deep.equal(['audit sink']);
    expect(h.logs).to.include('stop step failed; continuing with the next');
    expect(h.exits).to.deep.equal([]); // not a signal: the caller decides how to exit
  });

  it('exits at the deadline when a step hangs', async () => {
    h = harness([{ name: 'a disk that blocks', run: () => new Promise<void>(() => undefined) }], 50);
    h.signals.emit('SIGHUP', 'SIGHUP');
    await h.exitedOnce;
    expect(h.exits).to.deep.equal([129]);
    expect(h.logs.some((l) => l.includes('stop took too long'))).to.equal(true);
  });
});
