// CPU seconds per process name (/proc/PID/comm), read from outside: which part of the machine a phase of the soak
// spent its CPU in (the operator, the apiserver, etcd, the controllers, kwok, the harness itself). All of them
// share the machine's cores, so a phase bound by CPU shows here, not in any one process's figures.
import { readdirSync, readFileSync } from 'node:fs';

/** user + system CPU seconds of every process, summed by name; `node` splits into the operator and the rest. */
export function cpuByProcess(operatorPids: ReadonlySet<number> = new Set()): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const s = (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
    const name = operatorPids.has(Number(d)) ? 'operator' : comm;
    out.set(name, (out.get(name) ?? 0) + s);
  }
  return out;
}

/** What each process used between two readings, largest first, as "name 12.3 s" (processes under 0.5 s left out). */
export function describeCpuDelta(before: Map<string, number>, after: Map<string, number>, seconds: number): string {
  const d = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v >= 0.5);
  d.sort((a, b) => b[1] - a[1]);
  const total = d.reduce((a, [, v]) => a + v, 0);
  const parts = d.slice(0, 7).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  return `${total.toFixed(1)} CPU-s in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(2)} cores): ${parts.join(', ')}`;
}
