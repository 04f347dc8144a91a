// A queue that takes turns between clients: each client's items come out in the order it put them, and
// the clients take turns, one item each. A client with a hundred items queued delays another client's
// one item by at most one item, not a hundred.
export class FairQueue<T> {
  /** Per client with items waiting, in turn order: the next item comes from the first. */
  private readonly queues = new Map<string, T[]>();
  private count = 0;

  push(client: string, item: T): void {
    const queue = this.queues.get(client);
    if (queue) queue.push(item);
    else this.queues.set(client, [item]);
    this.count++;
  }

  /** The next item, from the client whose turn it is; that client then goes to the back of the line. */
  shift(): T | undefined {
    const next = this.queues.entries().next();
    if (next.done) return undefined;
    const [client, queue] = next.value;
    const item = queue.shift() as T;
    this.queues.delete(client);
    if (queue.length > 0) this.queues.set(client, queue);
    this.count--;
    return item;
  }

  get size(): number {
    return this.count;
  }
}
