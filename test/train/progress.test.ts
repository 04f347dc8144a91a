// The progress callback train() is given: a throttled bar on a terminal, log lines elsewhere.
import { expect, test } from 'bun:test';
import pino from 'pino';
import { formatDuration, trainingProgress } from '../../src/train/progress.ts';
import type { TrainEvent } from '../../src/train/events.ts';

/** A pino logger that records what it would print, and a clock the test moves by hand. */
function harness(terminal: boolean) {
  const logged: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  let clock = 0;
  const writes: string[] = [];
  const onEvent = trainingProgress(logger, {
    terminal: terminal ? { write: (text: string) => writes.push(text), columns: 200 } : null,
    now: () => clock,
    everyMs: 10_000,
  });
  return { logged, writes, onEvent, advance: (ms: number) => void (clock += ms) };
}

const start: TrainEvent = { kind: 'start', arch: 'seed', params: 1, trainSamples: 6400, validationSamples: 10, epochs: 2, batchSize: 64 };
const batch = (epoch: number, batch: number): TrainEvent => ({
  kind: 'batch', epoch, epochs: 2, batch, batches: 100, samples: batch * 64, loss: 0.5, accuracy: 0.875,
});
const epoch = (n: number): TrainEvent => ({
  kind: 'epoch', epoch: n, epochs: 2, loss: 0.4, accuracy: 0.9, validationLoss: 0.3, validationAccuracy: 0.95, seconds: 10, samplesPerSecond: 640,
});

/** One epoch of 100 batches, 10 ms apart (1 s in all). */
function runEpoch(h: ReturnType<typeof harness>, n: number) {
  for (let b = 1; b <= 100; b++) {
    h.advance(10);
    h.onEvent(batch(n, b));
  }
  h.onEvent(epoch(n));
}

test('on a terminal: at most ~10 redraws a second, in place, and one line per epoch', () => {
  const h = harness(true);
  h.onEvent(start);
  runEpoch(h, 1);
  const redraws = h.writes.filter((w) => !w.endsWith('\n'));
  // 100 batches over 1 s, redrawn at most every 100 ms.
  expect(redraws.length).toBeGreaterThanOrEqual(9);
  expect(redraws.length).toBeLessThanOrEqual(11);
  for (const w of redraws) {
    expect(w).toStartWith('\r\x1b[2K');
    expect(w).not.toContain('\n');
  }
  const last = redraws.at(-1)!;
  expect(last).toMatch(/epoch 1\/2 \[#{18}\.{2}\] batch 91\/100 {2}loss 0\.5000 {2}acc 87\.50% {2}64\d\d samples\/s {2}ETA 0:01/);
  const epochLine = h.writes.at(-1)!;
  expect(epochLine).toBe('\r\x1b[2Kepoch 1/2: loss 0.4000, acc 90.00%, val loss 0.3000, val acc 95.00%, 10.0 s, 640 samples/s\n');
  // The bar is not logged; start is.
  expect(h.logged.map((l) => l.msg)).toEqual(['training started']);
});

test('the first redraw of an epoch counts from the epoch\'s start, not from its first batch\'s end', () => {
  const h = harness(true);
  h.onEvent(start);
  h.advance(50);
  h.onEvent(batch(1, 1));
  expect(h.writes.at(-1)).toContain(' 1280 samples/s');
  runEpoch(h, 1);
  h.advance(100);
  h.onEvent(batch(2, 1));
  // 64 samples over the 100 ms since epoch 1 ended.
  expect(h.writes.at(-1)).toContain(' 640 samples/s');
});

test('the bar is cut to the terminal width; a terminal that reports none (0) gets the whole line', () => {
  const draw = (columns: number | undefined) => {
    const writes: string[] = [];
    const onEvent = trainingProgress(pino({ level: 'silent' }), { terminal: { write: (text: string) => writes.push(text), columns }, now: () => 0 });
    onEvent(start);
    onEvent(batch(1, 3));
    return writes[0]!.replace('\r\x1b[2K', '');
  };
  expect(draw(40)).toHaveLength(39);
  for (const columns of [0, undefined]) expect(draw(columns)).toMatch(/^epoch 1\/2 .* ETA \d+:\d\d$/);
});

test('the ETA counts the epochs still to come', () => {
  const h = harness(true);
  h.onEvent(start);
  h.advance(1000);
  h.onEvent(batch(1, 50)); // half an epoch in 1 s: 1.5 epochs = 3 s to go
  expect(h.writes.at(-1)).toContain('ETA 0:03');
});

test('without a terminal: pino lines per epoch and every `everyMs`, never a carriage return', () => {
  const h = harness(false);
  h.onEvent(start);
  for (let n = 1; n <= 2; n++) {
    for (let b = 1; b <= 100; b++) {
      h.advance(250); // 25 s per epoch
      h.onEvent(batch(n, b));
    }
    h.onEvent(epoch(n));
  }
  expect(h.writes).toEqual([]);
  const messages = h.logged.map((l) => l.msg);
  expect(messages.filter((m) => m === 'epoch finished')).toHaveLength(2);
  const progress = h.logged.filter((l) => l.msg === 'training progress');
  // 50 s of batches, a line every 10 s at most.
  expect(progress.length).toBeGreaterThanOrEqual(3);
  expect(progress.length).toBeLessThanOrEqual(5);
  expect(progress[0]).toMatchObject({ epoch: 1, epochs: 2, batches: 100, loss: 0.5, accuracy: 0.875 });
  expect(progress[0]!.samplesPerSecond).toBeGreaterThan(0);
  expect(progress[0]!.etaSeconds).toBeGreaterThan(0);
  expect(h.logged.find((l) => l.msg === 'epoch finished')).toMatchObject({ epoch: 1, validationAccuracy: 0.95, samplesPerSecond: 640 });
});

test('a model written without model.onnx is a warning with the reason, before the usual line', () => {
  const h = harness(false);
  const saved = { kind: 'saved', outDir: '/tmp/m', weightsBytes: 4, inferenceMs: { batch1: 1, batch64: 2 } } as const;
  h.onEvent(saved);
  h.onEvent({ ...saved, onnxSkipped: 'layer bn is a BatchNormalization' });
  expect(h.logged.map((l) => [l.level, l.msg])).toEqual([
    [30, 'model written'],
    [40, 'model written without model.onnx: it cannot be exported to ONNX, so it serves only with --engine wasm'],
    [30, 'model written'],
  ]);
  expect(h.logged[1]).toMatchObject({ outDir: '/tmp/m', reason: 'layer bn is a BatchNormalization' });
});

test('durations read as m:ss, or hours and minutes', () => {
  expect(formatDuration(0)).toBe('0:00');
  expect(formatDuration(75)).toBe('1:15');
  expect(formatDuration(3725)).toBe('1h02m');
});
