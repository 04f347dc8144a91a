// Where drawings become digit images. A cheap drawing is made at once, on the event loop: sending it to
// a thread would cost more than making it. A costly one (drawingCostUs above CHEAP_DRAWING_US) goes to a
// worker thread, through a queue that takes turns between clients: however many costly drawings one
// client sends, the event loop stays free for probes and the other clients, and another client's drawing
// waits for at most one of them per thread. Threads start when first needed; one that dies is replaced.
import { FairQueue } from '../flow/fair-queue.ts';
import { CHEAP_DRAWING_US, drawingToDigitImages, type DigitImages } from '../preprocess/digit-images.ts';
import type { Drawing } from '../preprocess/drawing.ts';
import { packDrawing, type PackedDrawing } from '../preprocess/packed-drawing.ts';
import { WorkerCalls } from '../worker-calls.ts';

interface Job {
  readonly drawing: PackedDrawing;
  resolve(images: DigitImages): void;
  reject(error: Error): void;
}

export class DrawingPool {
  private readonly queue = new FairQueue<Job>();
  /** One slot per thread: null until started, or after it died. */
  private readonly threads: (WorkerCalls<PackedDrawing> | null)[];
  private readonly busy: boolean[];
  private closed = false;

  constructor(
    private readonly workerUrl: URL | string,
    threads: number,
  ) {
    this.threads = Array.from({ length: threads }, () => null);
    this.busy = this.threads.map(() => false);
  }

  /** The digit images of `drawing`, made on a thread when its cost (drawingCostUs) is above a cheap one's;
   * `client` names whose turn it is. */
  images(drawing: Drawing, costUs: number, client: string): Promise<DigitImages> {
    if (this.closed || this.threads.length === 0 || costUs <= CHEAP_DRAWING_US) return Promise.resolve(drawingToDigitImages(drawing));
    return new Promise((resolve, reject) => {
      this.queue.push(client, { drawing: packDrawing(drawing), resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the threads, failing what waits for them; drawings asked for after this are made on the event
   * loop. Called once the server has drained its requests, when nothing should wait. */
  close(): void {
    this.closed = true;
    const stopped = new Error('drawing threads stopped');
    for (const [i, thread] of this.threads.entries()) {
      thread?.terminate(stopped);
      this.threads[i] = null;
    }
    for (let job = this.queue.shift(); job; job = this.queue.shift()) job.reject(stopped);
  }

  private dispatch(): void {
    for (let i = 0; i < this.threads.length && this.queue.size > 0; i++) {
      if (this.busy[i]) continue;
      const job = this.queue.shift() as Job;
      this.run(i, job);
    }
  }

  private run(slot: number, job: Job): void {
    let thread = this.threads[slot];
    if (!thread?.alive) thread = this.threads[slot] = new WorkerCalls<PackedDrawing>(new Worker(this.workerUrl), 'drawing thread');
    this.busy[slot] = true;
    const { coordinates, strokeLengths } = job.drawing;
    thread.call(job.drawing, [coordinates.buffer as ArrayBuffer, strokeLengths.buffer as ArrayBuffer]).then(
      (images) => job.resolve(images as DigitImages),
      (error: Error) => job.reject(error),
    ).finally(() => {
      this.busy[slot] = false;
      this.dispatch();
    });
  }
}
