// The report's section on the Python peers: training against Keras and the seed paper's Spark + Elephas
// pipeline (bench/peers.ts), CPU per image against ONNX Runtime's Python API (bench/inference.ts --peer)
// and serving against BentoML (bench/serving-peers.ts). Every interleaved run is listed, then the medians
// and the ratios, with CPU per sample or request beside each rate.
import type { InferenceResults } from '../inference.ts';
import type { PeersTrainingResults } from '../peers.ts';
import type { ServingResults } from '../serving-peers.ts';
import { benchPreamble, chartTop, type RenderedSection } from './bench-section.ts';
import { median } from '../stats.ts';
import { cell, int, ms, pct, ratio } from './format.ts';
import { PAPER } from './paper.ts';
import type { Results } from './results.ts';
import { barChartSvg } from './svg-charts.ts';

type TrainingRun = NonNullable<PeersTrainingResults['runs'][number]['run']>;
const samplesPerSecond = (run: TrainingRun, epochs: number) => (run.trainSamples * epochs) / run.trainSeconds;
const isStratus = (who: string) => who.startsWith('stratus');

function training(results: Results, charts: Map<string, string>): string[] {
  const { lines, value } = benchPreamble('Training, seed recipe, against Keras and Elephas', results.benches?.['peers-training']);
  const out = ['### Training against Keras and Elephas (the seed paper\'s Spark pipeline)', '', ...lines];
  if (value === null) return out;
  const { epochs } = value;
  out.push(
    '',
    `Each contender trains the seed recipe for ${epochs} epoch(s) on the same ${value.maxSamples === null ? '54,000 images' : `at most ${int(value.maxSamples)} images`} and scores the 10,000 test images, on the same cores (${cell(value.cpu)}); runs interleaved, peer then Stratus, ${value.rounds} round(s). Versions: ${Object.entries(value.versions).map(([peer, v]) => `${peer}: ${cell(v)}`).join('; ') || 'not recorded'}. The paper: ${pct(PAPER.training.testAccuracy, 2)} test accuracy in ${PAPER.training.seconds} s on ${PAPER.training.workers} ${PAPER.training.platform} workers.`,
    '',
    '| round | contender | samples/s | CPU ms per 1,000 samples | training s | wall s | test accuracy |',
    '|---|---|---|---|---|---|---|',
  );
  for (const entry of value.runs) {
    const r = entry.run;
    out.push(r === undefined ? `| ${entry.round} | ${cell(entry.who)} | failed: ${cell(entry.error ?? 'no result')} | | | | |` : `| ${entry.round} | ${cell(entry.who)} | ${int(samplesPerSecond(r, epochs))} | ${int(r.cpuMsPer1000Samples)} | ${r.trainSeconds.toFixed(1)} | ${r.wallSeconds.toFixed(1)} | ${pct(r.testAccuracy, 2)} |`);
  }
  const contenders = [...new Set(value.runs.filter((e) => e.run).map((e) => e.who))];
  const med = new Map(contenders.map((who) => {
    const mine = value.runs.flatMap((e) => (e.who === who && e.run ? [e.run] : []));
    return [who, { rate: median(mine.map((r) => samplesPerSecond(r, epochs))), cpu: median(mine.map((r) => r.cpuMsPer1000Samples)), wall: median(mine.map((r) => r.wallSeconds)), accuracy: median(mine.map((r) => r.testAccuracy)) }] as const;
  }));
  const ratios = contenders.filter(isStratus).flatMap((us) => contenders.filter((who) => !isStratus(who)).map((peer) => {
    const [a, b] = [med.get(us)!, med.get(peer)!];
    return `| ${cell(us)} / ${cell(peer)} | ${ratio(a.rate, b.rate)} | ${ratio(a.cpu, b.cpu)} | ${ratio(a.wall, b.wall)} | ${((a.accuracy - b.accuracy) * 100).toFixed(2)} points |`;
  }));
  if (ratios.length > 0) {
    out.push('', 'Ratios of the medians (samples/s above 1: Stratus trains faster; CPU and wall below 1: Stratus is cheaper, quicker):', '', '| | samples/s | CPU per sample | wall | test accuracy |', '|---|---|---|---|---|', ...ratios);
  }
  out.push('', `CPU counted: ${Object.entries(value.cpuCounted).map(([who, how]) => `${cell(who)}: ${cell(how)}`).join('; ')}.`);
  const rounds = [...new Set(value.runs.map((e) => e.round))].sort((a, b) => a - b);
  if (contenders.length > 0) {
    const bars = contenders.map((who) => ({ label: who, values: rounds.map((round) => { const r = value.runs.find((e) => e.who === who && e.round === round && e.run)?.run; return r ? samplesPerSecond(r, epochs) : null; }) }));
    charts.set('peers-training.svg', barChartSvg({ title: 'Training the seed recipe: samples/s, every run', yLabel: 'samples/s', groups: rounds.map((r) => `round ${r}`), bars, yMax: chartTop(bars.flatMap((b) => b.values)), formatValue: (v) => int(v) }));
    out.push('', '![Training samples/s against the peers](evaluation/peers-training.svg)');
  }
  return out;
}

function inference(results: Results, charts: Map<string, string>): string[] {
  const { lines, value } = benchPreamble('CPU per image against ONNX Runtime (Python)', results.benches?.['peers-inference']);
  const out = ['### The model alone: CPU per image against ONNX Runtime\'s Python API', '', ...lines];
  if (value === null) return out;
  out.push(
    '',
    `The same model (${cell(value.model)}, exported to ONNX for the peer), one thread, ${value.seconds} s a batch size, ${value.rounds} round(s), interleaved; CPU time of the measuring process, so a busy machine moves it little. Peer: ${cell(value.peerVersions || 'not recorded')}. µs of CPU per image, and images per CPU-second beside it:`,
    '',
    `| round | who | ${value.batches.map((b) => `batch ${b}`).join(' | ')} |`,
    `|---|---|${value.batches.map(() => '---|').join('')}`,
  );
  const whos = [...new Set(value.measurements.map((m) => m.who))];
  const at = (who: string, batch: number, round?: number) => value.measurements.filter((m) => m.who === who && m.batch === batch && (round === undefined || m.round === round)).map((m) => m.cpuMicrosPerImage);
  const show = (us: number) => (Number.isFinite(us) ? `${us.toFixed(1)} µs (${int(1e6 / us)}/s)` : 'n/a');
  for (let round = 1; round <= value.rounds; round++) for (const who of whos) out.push(`| ${round} | ${cell(who)} | ${value.batches.map((b) => show(median(at(who, b, round)))).join(' | ')} |`);
  const peer = whos.find((w) => !isStratus(w));
  if (peer !== undefined) {
    out.push('', `Ratios of the medians, Stratus / ${cell(peer)} (below 1: Stratus spends less CPU per image):`, '', `| engine | ${value.batches.map((b) => `batch ${b}`).join(' | ')} |`, `|---|${value.batches.map(() => '---|').join('')}`);
    for (const who of whos.filter(isStratus)) out.push(`| ${cell(who)} | ${value.batches.map((b) => ratio(median(at(who, b)), median(at(peer, b)))).join(' | ')} |`);
  }
  const bars = value.batches.map((b) => ({ label: `batch ${b}`, values: whos.map((who) => { const m = median(at(who, b)); return Number.isFinite(m) ? m : null; }) }));
  charts.set('peers-inference.svg', barChartSvg({ title: 'CPU per image (median), lower is cheaper', yLabel: 'µs per image', groups: whos, bars, yMax: chartTop(bars.flatMap((b) => b.values)), formatValue: (v) => `${v.toFixed(1)} µs` }));
  out.push('', '![CPU per image against ONNX Runtime](evaluation/peers-inference.svg)');
  return out;
}

function serving(results: Results, charts: Map<string, string>): string[] {
  const { lines, value } = benchPreamble('Serving against BentoML', results.benches?.['peers-serving']);
  const out = ['### Serving against BentoML', '', ...lines];
  if (value === null) return out;
  out.push(
    '',
    `wrk POSTs real MNIST test digits to /api/predict of each server for ${value.seconds} s at ${value.connections.join(' and ')} connections, after the same warm-up; servers interleaved, BentoML then Stratus, ${value.rounds} round(s). BentoML: ${cell(value.versions.bentoml)}; Stratus: ${cell(value.versions.stratus)}. CPU per request: the server's process (BentoML: its whole process tree) over the load.`,
    '',
    '| round | server | connections | requests/s | CPU per request | p50 | p99 | max | errors |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const entry of value.runs) {
    const r = entry.run;
    out.push(r === undefined
      ? `| ${entry.round} | ${entry.who} | ${entry.connections} | failed: ${cell(entry.error ?? 'no result')} | | | | | |`
      : `| ${entry.round} | ${entry.who} | ${entry.connections} | ${int(r.load.rate)} | ${int(r.cpuMicrosPerRequest)} µs | ${ms(r.load.latencyMs.p50)} | ${ms(r.load.latencyMs.p99)} | ${ms(r.load.latencyMs.max)} | ${int(r.load.errors)} |`);
  }
  const of = (who: string, connections: number, pick: (r: NonNullable<ServingResults['runs'][number]['run']>) => number) =>
    median(value.runs.flatMap((e) => (e.who === who && e.connections === connections && e.run ? [pick(e.run)] : [])));
  out.push('', 'Stratus / BentoML, ratios of the medians (requests/s above 1: Stratus serves more; CPU and latency below 1: Stratus is cheaper, quicker):', '', '| connections | requests/s | CPU per request | p50 | p99 |', '|---|---|---|---|---|');
  for (const c of value.connections) {
    out.push(`| ${c} | ${ratio(of('stratus', c, (r) => r.load.rate), of('bentoml', c, (r) => r.load.rate))} | ${ratio(of('stratus', c, (r) => r.cpuMicrosPerRequest), of('bentoml', c, (r) => r.cpuMicrosPerRequest))} | ${ratio(of('stratus', c, (r) => r.load.latencyMs.p50), of('bentoml', c, (r) => r.load.latencyMs.p50))} | ${ratio(of('stratus', c, (r) => r.load.latencyMs.p99), of('bentoml', c, (r) => r.load.latencyMs.p99))} |`);
  }
  const bars = value.connections.map((c) => ({ label: `${c} connections`, values: ['bentoml', 'stratus'].map((who) => { const m = of(who, c, (r) => r.load.rate); return Number.isFinite(m) ? m : null; }) }));
  charts.set('peers-serving.svg', barChartSvg({ title: 'Requests/s served (median)', yLabel: 'requests/s', groups: ['BentoML + ONNX Runtime', 'Stratus'], bars, yMax: chartTop(bars.flatMap((b) => b.values)), formatValue: (v) => int(v) }));
  out.push('', '![Requests/s against BentoML](evaluation/peers-serving.svg)');
  return out;
}

export function peersSection(results: Results): RenderedSection {
  const charts = new Map<string, string>();
  const lines = ['## Against the peers', '', ...training(results, charts), '', ...inference(results, charts), '', ...serving(results, charts)];
  return { lines, charts };
}
