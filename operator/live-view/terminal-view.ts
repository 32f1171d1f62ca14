// Puts the live view on a terminal. On a TTY the screen is redrawn in place (cursor home, each line cleared) at
// most a few times a second, only when something changed or the clock moved; on anything else (a pipe, a file, a
// CI log) it appends: the facts once, each decision and warning as one line when it happens, and every
// `statusEveryMs` one status line per service, so a log of the run reads like the screen did.
import { reduceLive, initialLiveState, type LiveEvent, type LiveState } from './live-state.ts';
import { renderLiveView, mass } from './render-live-view.ts';

export interface ViewClock {
  now(): number;
  readonly speedup: number;
  readonly replay: boolean;
}

export interface TerminalViewOptions {
  title: string;
  out: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number; rows?: number };
  /** Redraw period on a TTY (default 500 ms). */
  frameMs?: number;
  /** Status lines period when not a TTY (default 30 s of wall time). */
  statusEveryMs?: number;
  wallNow?: () => number;
}

export interface TerminalView {
  dispatch(e: LiveEvent): void;
  setClock(c: ViewClock): void;
  readonly state: LiveState;
  /** Draws the last frame (TTY) and gives the terminal back; later events are ignored. */
  stop(): void;
}

const CSI = '\x1b[';

export function startTerminalView(o: TerminalViewOptions): TerminalView {
  const wallNow = o.wallNow ?? Date.now;
  const tty = o.out.isTTY === true;
  let state = initialLiveState(o.title, wallNow());
  let clock: ViewClock | undefined;
  let dirty = true;
  let stopped = false;
  let printedDecisions = 0;
  let printedMessages = 0;
  let printedFacts = 0;
  let lastStatus = wallNow();
  let messageCount = 0;

  const withClock = () => {
    if (clock)
      state = reduceLive(state, {
        type: 'clock',
        wallMs: wallNow(),
        clock: { nowMs: clock.now(), speedup: clock.speedup, replay: clock.replay },
      });
    else state = { ...state, wallNowMs: wallNow() };
  };

  const drawTty = () => {
    withClock();
    const lines = renderLiveView(state, { width: o.out.columns ?? 120, height: o.out.rows ?? 40 });
    o.out.write(`${CSI}H${lines.map((l) => `${l}${CSI}K`).join('\n')}\n${CSI}J`);
    dirty = false;
  };

  const appendNew = (force = false) => {
    withClock();
    const out: string[] = [];
    for (const f of state.facts.slice(printedFacts)) out.push(f.text);
    printedFacts = state.facts.length;
    // Counts, not indexes: the kept lists are bounded, so take what arrived since the last call.
    const newDecisions = Math.min(state.decisionRows - printedDecisions, state.decisions.length);
    for (const d of state.decisions.slice(state.decisions.length - newDecisions))
      out.push(`${new Date(d.timeMs).toISOString().slice(0, 16)}Z ${d.service}: ${d.text}`);
    printedDecisions = state.decisionRows;
    const newMessages = Math.min(state.messages.length, messageCount - printedMessages);
    for (const m of state.messages.slice(state.messages.length - newMessages))
      out.push(`${m.level.toUpperCase()} ${m.text}`);
    printedMessages = messageCount;
    if (force || wallNow() - lastStatus >= (o.statusEveryMs ?? 30_000)) {
      lastStatus = wallNow();
      out.push(...statusLines(state));
    }
    if (out.length > 0) o.out.write(`${out.join('\n')}\n`);
    dirty = false;
  };

  const timer = setInterval(
    () => {
      if (stopped) return;
      if (tty) {
        if (dirty || clock) drawTty();
      } else appendNew();
    },
    tty ? (o.frameMs ?? 500) : 1000,
  );
  timer.unref();
  if (tty) o.out.write(`${CSI}?25l${CSI}2J`);

  return {
    dispatch(e) {
      if (stopped) return;
      if (e.type === 'log') messageCount++;
      state = reduceLive(state, e);
      dirty = true;
    },
    setClock(c) {
      clock = c;
      dirty = true;
    },
    get state() {
      return state;
    },
    stop() {
      if (stopped) return;
      clearInterval(timer);
      if (tty) {
        drawTty();
        o.out.write(`${CSI}?25h`);
      } else appendNew(true);
      stopped = true;
    },
  };
}

/** One line per service: what the screen's table says, for logs. */
export function statusLines(s: LiveState): string[] {
  const at = s.clock ? `${new Date(s.clock.nowMs).toISOString().slice(0, 16)}Z` : '';
  const grid = Object.values(s.regions)
    .map((r) => `${r.region} ${r.valueGPerKWh === null ? 'missing' : `${Math.round(r.valueGPerKWh)} gCO2eq/kWh`}`)
    .join(', ');
  const svcs = Object.values(s.services).map(
    (v) =>
      `${at} status ${v.name}: ${v.tier} ${v.variant || '?'} ${v.replicasReady}/${v.replicasDesired} replicas` +
      (v.budgetUsed !== null ? `, budget ${Math.round(v.budgetUsed * 100)}% used` : '') +
      `, ${mass(v.emissionsG)} CO2e (baseline ${mass(v.baselineG)})` +
      (v.load ? `, load ${Math.round(v.load.requestsPerSecond)} req/s` : '') +
      (grid ? `; grid ${grid}` : ''),
  );
  return svcs;
}
