import { expect } from 'chai';
import { ManualClock } from '../../../operator/kube/clock.ts';
import { listAll, watcher, WatchStalledError, type WatcherEvent } from '../../../operator/kube/watcher.ts';
import { bookmark, ev, HttpLikeError, obj, ScriptedSource, type Obj } from './scripted-source.ts';

/** Pulls `n` events from the watcher, moving the manual clock forward while it waits (backoff, watchdog). */
async function take(gen: AsyncGenerator<WatcherEvent<Obj>>, n: number, clock: ManualClock, stepMs = 50) {
  const out: WatcherEvent<Obj>[] = [];
  for (let i = 0; i < n; i++) {
    let settled = false;
    const p = gen.next().finally(() => (settled = true));
    for (let guard = 0; !settled; guard++) {
      if (guard > 100_000) throw new Error(`no event ${i + 1} of ${n} after ${guard * stepMs} ms of clock time`);
      await clock.advance(stepMs);
    }
    const r = await p;
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const show = (e: WatcherEvent<Obj>) =>
  e.type === 'Restarted'
    ? `Restarted[${e.objects.map((o) => o.metadata.name).join(',')}]@${e.resourceVersion}`
    : e.type === 'Bookmark'
      ? `Bookmark@${e.resourceVersion}`
      : e.type === 'Error'
        ? `Error(${e.relist ? 'relist' : 'resume'})`
        : `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`;

function setup(source: ScriptedSource, extra: Record<string, unknown> = {}) {
  const clock = new ManualClock(1_000_000);
  const abort = new AbortController();
  const gen = watcher(
    source,
    { clock, random: () => 0.5, watchTimeoutSeconds: 10, stallGraceMs: 1000, backoffBaseMs: 100, ...extra },
    abort.signal,
  );
  return { clock, abort, gen };
}

describe('watcher: list, watch, resume, relist — fed a synthetic stream', () => {
  it('lists, then watches from the list resourceVersion; a bookmark moves the next watch forward', async () => {
    const src = new ScriptedSource(
      [{ items: [obj('a', '5')], rv: '5' }],
      [
        { events: [ev('ADDED', obj('b', '6')), bookmark('9')], end: 'close' },
        { events: [ev('MODIFIED', obj('a', '12'))] },
      ],
    );
    const { clock, abort, gen } = setup(src);
    const got = await take(gen, 4, clock);
    abort.abort();
    expect(got.map(show)).to.deep.equal(['Restarted[a]@5', 'Added b@6', 'Bookmark@9', 'Modified a@12']);
    expect(src.watches.map((w) => w.resourceVersion)).to.deep.equal(['5', '9']);
    expect(src.lists, 'a watch the server closed resumes without a list').to.have.length(1);
  });

  it('410 Gone on a watch relists at once; an error mid-stream resumes from the last event with backoff', async () => {
    const src = new ScriptedSource(
      [
        { items: [obj('a', '5')], rv: '5' },
        { items: [obj('a', '30')], rv: '30' },
      ],
      [
        { events: [ev('MODIFIED', obj('a', '7'))], end: new Error('read ECONNRESET') },
        { events: [], end: new HttpLikeError(410, 'too old resource version: 7 (25)') },
        { events: [ev('ADDED', obj('z', '31'))] },
      ],
    );
    const { clock, abort, gen } = setup(src);
    const got = await take(gen, 6, clock);
    abort.abort();
    expect(got.map(show)).to.deep.equal([
      'Restarted[a]@5',
      'Modified a@7',
      'Error(resume)',
      'Error(relist)',
      'Restarted[a]@30',
      'Added z@31',
    ]);
    const resume = got[2] as Extract<WatcherEvent<Obj>, { type: 'Error' }>;
    expect(resume.error.message).to.equal('read ECONNRESET');
    expect(resume.retryInMs).to.be.within(50, 100);
    expect((got[3] as { retryInMs: number }).retryInMs, '410 relists without waiting').to.equal(0);
    expect(src.watches.map((w) => w.resourceVersion)).to.deep.equal(['5', '7', '30']);
    expect(src.lists).to.have.length(2);
  });

  it('a silent watch (no event past its timeout) is cut by the watchdog and restarted from its resourceVersion', async () => {
    const src = new ScriptedSource(
      [{ items: [], rv: '40' }],
      [{ events: [bookmark('41')], end: 'hang' }, { events: [ev('ADDED', obj('late', '42'))] }],
    );
    const { clock, abort, gen } = setup(src);
    const t0 = clock.now();
    const got = await take(gen, 4, clock);
    abort.abort();
    expect(got.map(show)).to.deep.equal(['Restarted[]@40', 'Bookmark@41', 'Error(resume)', 'Added late@42']);
    const stall = got[2] as Extract<WatcherEvent<Obj>, { type: 'Error' }>;
    expect(stall.error).to.be.instanceOf(WatchStalledError);
    expect(stall.error.message).to.include('no watch event for 11000 ms');
    // timeout 10 s (jitter factor 1 at random 0.5) + 1 s grace after the bookmark, not before.
    expect(clock.now() - t0).to.be.at.least(11_000);
    expect(src.watches.map((w) => w.resourceVersion)).to.deep.equal(['40', '41']);
    expect(src.watches[0]!.timeoutSeconds).to.equal(10);
  });

  it('a failing list backs off exponentially and then succeeds; nothing is yielded as Restarted before that', async () => {
    const src = new ScriptedSource(
      [
        { error: new Error('connect ECONNREFUSED') },
        { error: new Error('connect ECONNREFUSED') },
        { items: [obj('a', '1')], rv: '1' },
      ],
      [],
    );
    const { clock, abort, gen } = setup(src);
    const got = await take(gen, 3, clock);
    abort.abort();
    expect(got.map(show)).to.deep.equal(['Error(relist)', 'Error(relist)', 'Restarted[a]@1']);
    const delays = got.slice(0, 2).map((e) => (e as { retryInMs: number }).retryInMs);
    expect(delays).to.deep.equal([75, 150]); // base 100 and 200, half-jittered at random 0.5
  });

  it('by default never relists a healthy watch: a day of server-side timeouts and bookmarks resumes each time', async () => {
    // 300 watches that each end with a bookmark (as an apiserver's timeout does), spread over a day of clock.
    const watches = Array.from({ length: 300 }, (_, i) => ({
      events: [bookmark(String(i + 2))],
      end: 'close' as const,
    }));
    const src = new ScriptedSource([{ items: [obj('a', '1')], rv: '1' }], watches);
    const clock = new ManualClock(1_000_000);
    const abort = new AbortController();
    const gen = watcher(src, { clock, random: () => 0.5 }, abort.signal);
    await take(gen, 1, clock);
    for (let i = 0; i < 300; i++) {
      await clock.advance(300_000); // 5 minutes between bookmarks: 25 hours in all
      await take(gen, 1, clock);
    }
    abort.abort();
    expect(src.lists, 'one list at the start, none after').to.have.length(1);
    expect(src.watches.at(-1)?.resourceVersion).to.equal('300');
  });

  it('relists every relistEveryMs even when the watch is healthy', async () => {
    const src = new ScriptedSource(
      [
        { items: [obj('a', '1')], rv: '1' },
        { items: [obj('a', '1'), obj('b', '3')], rv: '3' },
      ],
      [
        { events: [bookmark('2')], end: 'close' },
        { events: [], end: 'close' },
      ],
    );
    const { clock, abort, gen } = setup(src, { relistEveryMs: 5_000 });
    const first = await take(gen, 2, clock);
    await clock.advance(6_000);
    const rest = await take(gen, 1, clock);
    abort.abort();
    expect([...first, ...rest].map(show)).to.deep.equal(['Restarted[a]@1', 'Bookmark@2', 'Restarted[a,b]@3']);
  });

  it('ends when aborted, also in the middle of a hanging watch', async () => {
    const src = new ScriptedSource([{ items: [], rv: '1' }], [{ events: [], end: 'hang' }]);
    const { clock, abort, gen } = setup(src);
    await take(gen, 1, clock);
    const next = gen.next();
    await clock.advance(10);
    abort.abort();
    expect((await next).done).to.equal(true);
  });
});

describe('watcher: paginated lists', () => {
  it('follows continue tokens with the page size as limit and keeps the first page resourceVersion', async () => {
    const src = new ScriptedSource(
      [
        { items: [obj('a', '1'), obj('b', '2')], rv: '100', continue: 'c1' },
        { items: [obj('c', '3'), obj('d', '4')], rv: '100', continue: 'c2' },
        { items: [obj('e', '5')], rv: '100' },
      ],
      [],
    );
    const r = await listAll(src, 2, new AbortController().signal);
    expect(r.objects.map((o) => o.metadata.name)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    expect(r.resourceVersion).to.equal('100');
    expect(src.lists).to.deep.equal([{ limit: 2 }, { limit: 2, continue: 'c1' }, { limit: 2, continue: 'c2' }]);
  });

  it('an expired continue token (410) is handled by one fresh, unpaginated list; the stale pages are dropped', async () => {
    const src = new ScriptedSource(
      [
        { items: [obj('a', '1'), obj('b', '2')], rv: '100', continue: 'c1' },
        { error: new HttpLikeError(410, 'The provided continue parameter is too old') },
        { items: [obj('a', '1'), obj('c', '7')], rv: '120' },
      ],
      [],
    );
    const r = await listAll(src, 2, new AbortController().signal);
    expect(r.objects.map((o) => o.metadata.name)).to.deep.equal(['a', 'c']);
    expect(r.resourceVersion).to.equal('120');
    expect(src.lists).to.deep.equal([{ limit: 2 }, { limit: 2, continue: 'c1' }, {}]);
  });

  it('a 410 on the first page is not a continue problem: it is an error for the watcher to back off on', async () => {
    const src = new ScriptedSource([{ error: new HttpLikeError(410, 'gone') }], []);
    let err: unknown;
    await listAll(src, 2, new AbortController().signal).catch((e) => (err = e));
    expect((err as HttpLikeError).status).to.equal(410);
    expect(src.lists).to.have.length(1);
  });
});
