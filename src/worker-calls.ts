// Calls into a worker thread, matched to their answers by id: the one protocol both worker threads
// (inference, store) speak. If the thread dies, every waiting call fails and `alive` turns false.

export type CallReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class WorkerCalls<Call> {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private ended: Error | null = null;

  constructor(
    private readonly worker: Worker,
    label: string,
  ) {
    worker.onmessage = (event: MessageEvent<CallReply>) => this.settle(event.data);
    worker.onerror = (event) => this.end(new Error(`${label} failed: ${event.message}`));
    worker.addEventListener('close', () => this.end(new Error(`${label} exited`)));
  }

  get alive(): boolean {
    return this.ended === null;
  }

  /** `transfer` hands buffers over instead of copying them; the caller must not touch them after. */
  call(call: Call, transfer: Transferable[] = []): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, call }, transfer);
    });
  }

  /** Fails what still waits with `reason` and stops the thread. */
  terminate(reason: Error): void {
    this.end(reason);
    this.worker.terminate();
  }

  private settle(reply: CallReply): void {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(Object.assign(new Error(reply.message), { name: reply.name }));
  }

  private end(reason: Error): void {
    this.ended ??= reason;
    for (const waiting of this.waiting.values()) waiting.reject(reason);
    this.waiting.clear();
  }
}

declare const self: Worker;

/** The worker side: answers every call with what `handle` returns, or with the error it throws. */
export function serveCalls<Call>(
  handle: (call: Call) => Promise<unknown>,
  transferOf: (value: unknown) => Transferable[] = () => [],
): void {
  self.onmessage = (event: MessageEvent<{ id: number; call: Call }>) => {
    const { id, call } = event.data;
    handle(call).then(
      (value) => self.postMessage({ id, ok: true, value } satisfies CallReply, transferOf(value)),
      (error: unknown) => {
        const { name, message } = error instanceof Error ? error : new Error(String(error));
        self.postMessage({ id, ok: false, name, message } satisfies CallReply);
      },
    );
  };
}
