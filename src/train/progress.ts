// How a training run reports itself while it goes. On a terminal: one progress line redrawn in place,
// at most ~10 times a second, and a line per finished epoch. Anywhere else (a log collector, a pipe):
// pino lines, one per epoch plus one every `everyMs`, because carriage returns make a mess of log files.
import type { Logger } from '../log.ts';
import type { TrainEvent } from './events.ts';

const EVENT_MESSAGES: Record<Exclude<TrainEvent['kind'], 'batch'>, string> = {
  start: 'training started',
  epoch: 'epoch finished',
  tested: 'test set scored',
  saved: 'model written',
};

export interface Terminal {
  write(text: string): unknown;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** Where the bar goes; null logs progress lines instead (not a TTY). */
  readonly terminal: Terminal | null;
  /** Milliseconds; injectable so tests need no sleeping. */
  readonly now?: () => number;
  /** Fewest milliseconds between two redraws of the bar. */
  readonly redrawMs?: number;
  /** Milliseconds between two progress log lines when there is no terminal. */
  readonly everyMs?: number;
}

type BatchEvent = Extract<TrainEvent, { kind: 'batch' }>;

/** Where the run stands: samples/s of this epoch and the time left for the batches still to come. */
export function batchFigures(event: BatchEvent, epochStartedMs: number, runStartedMs: number, batchesBefore: number, nowMs: number) {
  const epochSeconds = Math.max(1e-3, (nowMs - epochStartedMs) / 1000);
  const done = batchesBefore + event.batch;
  const total = event.batches * event.epochs;
  const etaSeconds = done === 0 ? 0 : ((nowMs - runStartedMs) / 1000 / done) * (total - done);
  return { samplesPerSecond: Math.round(event.samples / epochSeconds), etaSeconds: Math.round(etaSeconds) };
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Returns the callback `runTraining` takes; it logs, or draws, every event as described above. */
export function trainingProgress(logger: Logger, options: ProgressOptions): (event: TrainEvent) => void {
  const { terminal } = options;
  const now = options.now ?? (() => performance.now());
  const redrawMs = options.redrawMs ?? 100;
  const everyMs = options.everyMs ?? 10_000;
  let runStarted = now();
  let epochStarted = runStarted;
  /** Batches of the epochs already finished, and the count per epoch (known from the first batch). */
  let batchesBefore = 0;
  let batchesPerEpoch = 0;
  let lastShown = -Infinity;
  let barShown = false;

  return (event) => {
    const at = now();
    if (event.kind === 'start') runStarted = epochStarted = at;
    if (event.kind === 'batch') {
      batchesPerEpoch = event.batches;
      const last = event.batch === event.batches;
      // The last batch of an epoch is followed by its summary; drawing it too would only flicker.
      if (last || at - lastShown < (terminal ? redrawMs : everyMs)) return;
      lastShown = at;
      const { samplesPerSecond, etaSeconds } = batchFigures(event, epochStarted, runStarted, batchesBefore, at);
      if (!terminal) {
        const { epoch, epochs, batch, batches, loss, accuracy } = event;
        logger.info({ epoch, epochs, batch, batches, loss, accuracy, samplesPerSecond, etaSeconds }, 'training progress');
        return;
      }
      const line =
        `epoch ${event.epoch}/${event.epochs} ${bar(event.batch / event.batches, 20)} batch ${event.batch}/${event.batches}` +
        `  loss ${event.loss.toFixed(4)}  acc ${(event.accuracy * 100).toFixed(2)}%  ${samplesPerSecond} samples/s  ETA ${formatDuration(etaSeconds)}`;
      // \r + erase-line redraws in place; cutting at the width keeps a narrow terminal from wrapping.
      // (A terminal that reports no size says 0 columns.)
      terminal.write(`\r\x1b[2K${line.slice(0, Math.max(20, (terminal.columns || 120) - 1))}`);
      barShown = true;
      return;
    }
    if (event.kind === 'epoch') {
      batchesBefore += batchesPerEpoch;
      // The next epoch's first batch is timed from here: timing it from its own end showed one batch
      // over no time (64 samples in ~1 ms: "64000 samples/s").
      epochStarted = at;
      // The bar starts afresh with the next epoch; the epoch line counts as the latest log line.
      lastShown = terminal ? -Infinity : at;
    }
    if (terminal && event.kind === 'epoch') {
      const line =
        `epoch ${event.epoch}/${event.epochs}: loss ${event.loss.toFixed(4)}, acc ${(event.accuracy * 100).toFixed(2)}%, ` +
        `val loss ${event.validationLoss.toFixed(4)}, val acc ${(event.validationAccuracy * 100).toFixed(2)}%, ` +
        `${event.seconds.toFixed(1)} s, ${event.samplesPerSecond} samples/s`;
      terminal.write(`${barShown ? '\r\x1b[2K' : ''}${line}\n`);
      barShown = false;
      return;
    }
    if (event.kind === 'saved' && event.onnxSkipped) {
      logger.warn({ outDir: event.outDir, reason: event.onnxSkipped }, 'model written without model.onnx: it cannot be exported to ONNX, so it serves only with --engine wasm');
    }
    const { kind, ...fields } = event;
    logger.info(fields, EVENT_MESSAGES[kind]);
  };
}
