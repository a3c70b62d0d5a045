/**
 * Coalesces calls into batches, each run as one statement: the calls that arrive while earlier batches are running go
 * in together. Under light load a batch is one call and leaves at once; under load the in-flight limit lets the queue
 * grow, and each statement carries many. A batch that fails as a whole is run again call by call, so one bad call
 * rejects only its own promise.
 */
export interface StatementBatcherOptions<I> {
  /** batches running at once (each holds a pool connection); default 1 */
  maxInFlight?: number;
  /** most calls per batch; default 500 */
  maxBatch?: number;
  /**
   * How long a call finding nothing running waits for others to join it (ms; default 0: it leaves at once). For calls
   * whose latency matters less than their number: each statement has a fixed cost, and calls that trickle in one by
   * one would otherwise each pay it.
   */
  lingerMs?: number;
  /**
   * A fresh gate for each batch, asked about each call in turn: false keeps that call (and the ones after it, so the
   * order of calls holds) for the next batch. The first call of a batch is shown to it too, and always goes.
   */
  admit?: () => (item: I) => boolean;
}

interface Queued<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export class StatementBatcher<I, O> {
  private readonly queue: Array<Queued<I, O>> = [];
  private inFlight = 0;
  private lingering: NodeJS.Timeout | undefined;
  private readonly idle: Array<() => void> = [];
  private readonly maxInFlight: number;
  private readonly maxBatch: number;

  /** `runBatch` answers one output per item, in order */
  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly options: StatementBatcherOptions<I> = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 1;
    this.maxBatch = options.maxBatch ?? 500;
  }

  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      const { lingerMs = 0 } = this.options;
      if (lingerMs > 0 && this.inFlight === 0 && this.queue.length < this.maxBatch) {
        this.lingering ??= setTimeout(() => {
          this.lingering = undefined;
          this.pump();
        }, lingerMs);
        return;
      }
      this.pump();
    });
  }

  /** resolves when everything queued so far has run (close() waits for it) */
  drain(): Promise<void> {
    // what lingers goes now
    this.pump();
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.lingering) {
      clearTimeout(this.lingering);
      this.lingering = undefined;
    }
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) for (const wake of this.idle.splice(0)) wake();
      });
    }
  }

  private take(): Array<Queued<I, O>> {
    const limit = Math.min(this.maxBatch, this.queue.length);
    let size = 1;
    if (this.options.admit) {
      const gate = this.options.admit();
      gate(this.queue[0]!.item);
      while (size < limit && gate(this.queue[size]!.item)) size++;
    } else {
      size = limit;
    }
    return this.queue.splice(0, size);
  }

  private async execute(batch: Array<Queued<I, O>>): Promise<void> {
    let outputs: O[];
    try {
      outputs = await this.runBatch(batch.map((q) => q.item));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // find the culprit: each alone, so the others still run
      for (const one of batch) {
        try {
          settle([one], await this.runBatch([one.item]));
        } catch (alone) {
          one.reject(alone);
        }
      }
      return;
    }
    settle(batch, outputs);
  }
}

function settle<I, O>(batch: Array<Queued<I, O>>, outputs: O[]): void {
  if (outputs.length !== batch.length) {
    const error = new Error(`a batch of ${batch.length} calls answered ${outputs.length} results`);
    for (const q of batch) q.reject(error);
    return;
  }
  batch.forEach((q, i) => q.resolve(outputs[i]!));
}
