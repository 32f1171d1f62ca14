// Issue 14 §4, per-token SCI from vLLM's own counters: a real Prometheus scrapes a local exporter that serves
// vLLM's exposition format, the counters advance by known amounts, and the operator's Prometheus served-counts
// path (PrometheusServedCounts) reads them: the counts of a wall-clock interval over two pods, a pod whose vLLM
// restarted inside it (its counters began again at 0), a pod without the series, and through the Accountant the
// usage row's prompt_tokens, generated_tokens and sci_g_per_1k_tokens.
//
// The format, field by field, is vLLM's (docs.vllm.ai "Production Metrics" and vllm/v1/metrics/loggers.py,
// written by prometheus_client in the 0.0.4 text format):
//   - vllm:prompt_tokens_total, vllm:generation_tokens_total: counters, labels model_name and engine (the engine
//     index; V1 labels every series with it);
//   - vllm:request_success_total: counter, labels model_name, engine and finished_reason, one series per
//     FinishReason (stop, length, abort), all created at 0 when the engine starts;
//   - each counter's `_created` gauge beside it (prometheus_client writes one per counter series), which the
//     selectors must not pick up.
// served-counts.ts queries the three `_total` names by the scrape config's namespace/inferenceservice matchers and
// the `pod` label; it filters on none of vLLM's own labels, so every finished_reason and engine series is summed.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { createServer, type Server } from 'node:http';
import { PrometheusServedCounts } from '../../../operator/demand/prometheus-served-counts.ts';
import type { CountReading, CountTarget } from '../../../operator/demand/served-counts.ts';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import { Accountant } from '../../../operator/reconciler/accounting.ts';
import type { MeterPort } from '../../../operator/reconciler/meter-port.ts';
import { startPrometheus, type PrometheusProcess } from '../energy/prometheus-process.ts';
import { FakeCluster, service } from '../reconciler/fake-cluster.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MIN = 60_000;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const REASONS = ['stop', 'length', 'abort'] as const;
const POD_A = 'a-7d9f-aaaaa';
const POD_B = 'a-7d9f-bbbbb';
const MAX_GAP_MS = 5_000;

/** One vLLM engine's counters, as its process holds them (a restart starts them again at 0). */
class VllmCounters {
  prompt = 0;
  generation = 0;
  success: Record<(typeof REASONS)[number], number> = { stop: 0, length: 0, abort: 0 };
  createdS = Date.now() / 1000;

  /** `n` requests finished for `reason`, with their prompt and generated tokens. */
  serve(n: number, reason: 'stop' | 'length', prompt: number, generated: number): void {
    this.success[reason] += n;
    this.prompt += prompt;
    this.generation += generated;
  }

  restart(): void {
    this.prompt = 0;
    this.generation = 0;
    this.success = { stop: 0, length: 0, abort: 0 };
    this.createdS = Date.now() / 1000;
  }

  exposition(): string {
    const base = `engine="0",model_name="${MODEL}"`;
    const counter = (name: string, help: string, series: Array<[string, number]>) => [
      `# HELP ${name}_total ${help}`,
      `# TYPE ${name}_total counter`,
      ...series.map(([l, v]) => `${name}_total{${l}} ${v.toFixed(1)}`),
      `# HELP ${name}_created ${help}`,
      `# TYPE ${name}_created gauge`,
      ...series.map(([l]) => `${name}_created{${l}} ${this.createdS}`),
    ];
    return [
      ...counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', [[base, this.prompt]]),
      ...counter('vllm:generation_tokens', 'Number of generation tokens processed.', [[base, this.generation]]),
      ...counter(
        'vllm:request_success',
        'Count of successfully processed requests.',
        REASONS.map((r) => [`${base},finished_reason="${r}"`, this.success[r]] as [string, number]),
      ),
      '',
    ].join('\n');
  }
}

function readyPod(name: string, readySinceMs: number): KubeObject {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      creationTimestamp: new Date(readySinceMs - 5_000).toISOString(),
      labels: { 'carbonscale.dev/inference-service': 'a' },
    },
    status: {
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readySinceMs).toISOString() }],
    },
  } as KubeObject;
}

describe('PrometheusServedCounts on vLLM token counters (real Prometheus scraping a vLLM-format exporter)', function () {
  this.timeout(120_000);
  const engines = new Map([
    [POD_A, new VllmCounters()],
    [POD_B, new VllmCounters()],
  ]);
  const a = engines.get(POD_A)!;
  const b = engines.get(POD_B)!;
  let server: Server;
  let prom: PrometheusProcess;
  const src = () => new PrometheusServedCounts({ url: prom.url, maxGapMs: MAX_GAP_MS });
  const createdMs = Date.now() - 600_000;
  const target = (pods: string[]): CountTarget => ({
    namespace: 'ns',
    service: 'a',
    pods: pods.map((name) => ({ name, createdMs })),
  });

  before(async () => {
    // Traffic before any interval: the series exist, and hold non-zero values, before it starts.
    a.serve(4, 'stop', 400, 90);
    b.serve(2, 'length', 150, 256);
    server = createServer((req, res) => {
      const pod = engines.get(req.url?.split('/')[1] ?? '');
      if (!pod) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(pod.exposition());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    // The labels a Kubernetes scrape config attaches by relabelling (namespace, inferenceservice, pod).
    prom = await startPrometheus(
      [POD_A, POD_B].map((pod) => ({
        job: 'vllm',
        url: `${base}/${pod}/metrics`,
        labels: { namespace: 'ns', inferenceservice: 'a', pod },
      })),
    );
    await prom.waitScrapes(3);
  });

  after(async () => {
    await prom?.stop();
    if (server) await new Promise((r) => server.close(r));
  });

  /**
   * A wall-clock interval with quiet (at least one scrape) across both ends, `steps` run inside it with a scrape
   * after each, and the samples after its end in before it returns.
   */
  async function interval(steps: Array<() => void>): Promise<{ wallFromMs: number; wallToMs: number }> {
    await sleep(1_500);
    const wallFromMs = Date.now();
    await sleep(1_500);
    for (const step of steps) {
      step();
      await sleep(1_500);
    }
    const wallToMs = Date.now();
    await sleep(3_000);
    return { wallFromMs, wallToMs };
  }

  const counted = (r: CountReading) => {
    if (!r.counted) throw new Error(r.reason);
    return r;
  };

  it('counts the requests (every finished_reason) and the prompt and generated tokens served over two pods', async () => {
    const i = await interval([
      () => a.serve(5, 'stop', 1_200, 340),
      () => (a.serve(2, 'length', 610, 512), b.serve(3, 'stop', 905, 77)),
      () => b.serve(1, 'stop', 33, 1_001),
    ]);
    const r = counted(await src().counts(target([POD_A, POD_B]), i));
    expect(r.source).to.equal('prometheus:vllm');
    expect(r.counts).to.deep.equal({
      requests: 5 + 2 + 3 + 1,
      inferences: 11, // vLLM has no inference counter: one generation per request
      promptTokens: 1_200 + 610 + 905 + 33,
      generatedTokens: 340 + 512 + 77 + 1_001,
    });
  });

  it('a pod whose vLLM restarted inside the interval: what it served before and after the reset, both', async () => {
    const i = await interval([
      () => b.serve(6, 'stop', 2_000, 300),
      () => b.restart(),
      () => b.serve(2, 'length', 700, 1_024),
    ]);
    const r = counted(await src().counts(target([POD_A, POD_B]), i));
    expect(r.counts).to.deep.equal({ requests: 8, inferences: 8, promptTokens: 2_700, generatedTokens: 1_324 });
  });

  it('a pod that served but has no series in Prometheus: not counted, and says which pod', async () => {
    const i = await interval([() => a.serve(1, 'stop', 10, 10)]);
    const r = await src().counts(target([POD_A, 'a-7d9f-ccccc']), i);
    expect(r).to.deep.include({ counted: false, source: 'prometheus' });
    expect((r as { reason: string }).reason).to.equal('no vllm:request_success_total series for pod ns/a-7d9f-ccccc');
  });

  it('through the Accountant: the usage row carries the tokens, and sci_g_per_1k_tokens = total / (tokens / 1000)', async () => {
    const i = await interval([() => a.serve(9, 'stop', 4_321, 876), () => b.serve(4, 'length', 1_234, 2_048)]);
    const c = new FakeCluster();
    c.add(service('a'));
    const r = c.reconciler();
    const acct = new Accountant(r.ctx);
    const t0 = c.now;
    const at = t0 + MIN; // the clock interval [at, at + MIN) is accounted over the wall interval `i`
    // A scaled clock (as the replay clock of ADR 0005 is): clock minute `at` spans the wall interval exactly.
    const scale = (i.wallToMs - i.wallFromMs) / MIN;
    const toWall = (ms: number) => i.wallFromMs + (ms - at) * scale;
    const counts = src();
    const meters: MeterPort = {
      energy: () => ({
        name: 'profile',
        settleMs: 0,
        measure: async () => ({ measured: false, source: 'profile', reason: 'profile' }),
      }),
      counts: () => counts,
      address: () => undefined,
      toWall,
      toClock: (w) => at + (w - i.wallFromMs) / scale,
      wallNow: () => toWall(c.now),
    };
    r.ctx.ports.meters = meters;
    c.pods.set('p1', readyPod(POD_A, t0 - 3_600_000));
    c.pods.set('p2', readyPod(POD_B, t0 - 3_600_000));
    await r.reconcile('ns/a');
    while (c.now < t0 + 3 * MIN) {
      c.now += MIN;
      await r.reconcile('ns/a');
      await acct.accountDue(c.now);
    }
    const row = c.audit.rows.usage.find((u) => u.interval_start === at);
    if (!row) throw new Error(`no usage row for ${new Date(at).toISOString()}`);
    expect(row).to.deep.include({
      requests: 13,
      requests_method: 'measured',
      inferences: 13,
      prompt_tokens: 4_321 + 1_234,
      generated_tokens: 876 + 2_048,
    });
    const total = Number(row.total_co2e_g);
    expect(total).to.be.greaterThan(0);
    const expected = total / ((4_321 + 1_234 + 876 + 2_048) / 1000);
    expect(Math.abs(Number(row.sci_g_per_1k_tokens) - expected) / expected).to.be.at.most(1e-9);
  });
});
