/**
 * The worker: leases partitions (one conversation, address or message each) from the durable queue and handles
 * their events one at a time, oldest first, with many partitions in parallel. The queue is the database, so a
 * crashed process's partitions come back when their lease runs out, and nothing acknowledged is lost.
 *
 * Per event: side effects first (handlers.ts, through Twilio), then the derived state and the "applied" mark in
 * one store transaction, shared by the run of events up to the next side effect (partition-run.ts). A failing side effect is retried with backoff, the partition held back meanwhile (order
 * holds); after `maxAttempts` the event is applied anyway and its side effect dead-lettered, so the live state
 * stays the fold of the whole log.
 */
import type { Logger } from 'pino';
import type { LoggedEvent } from '../events.js';
import type { ClaimedPartition, EventStore } from '../store/types.js';
import type { EventHandler } from './handlers.js';
import { withDeadline } from './deadline.js';
import { PartitionRun } from './partition-run.js';
import { setImmediate } from 'node:timers/promises';

/** events folded between two yields to the event loop */
const YIELD_EVERY = 8;

export interface WorkerOptions {
  workerId: string;
  events: EventStore;
  handle: EventHandler;
  /** partitions handled at once */
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  /** a handler running longer is abandoned (and retried) */
  maxProcessingMs: number;
  log: Logger;
  /** how long an idle worker waits before looking again (a new event wakes it sooner) */
  idlePollMs?: number;
  /**
   * most events of one partition per claim: they are folded together and committed with one complete() (200: a hot
   * conversation then costs four queries per 200 events; bench/router.js)
   */
  eventsPerClaim?: number;
  /** how long after a notify() it looks (the accepts of that window are claimed together) */
  notifyDelayMs?: number;
  onProcessed?(event: LoggedEvent, seconds: number): void;
  onFailed?(event: LoggedEvent, error: unknown, dead: boolean): void;
}

/** backoff before a failed event's next attempt: 200 ms doubling, capped at 30 s, with full jitter */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 200 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class Worker {
  private running = false;
  private readonly active = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private notifyTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  /** attempts per event id, kept for events that failed in this process (the store keeps its own count too) */
  private readonly attempts = new Map<number, number>();

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * A new event was enqueued: look soon instead of at the next poll. Soon, not now: under load every accept notifies,
   * and a claim per accept (mostly finding the partition leased) cost more than the events themselves.
   */
  notify(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.wake?.();
    }, this.options.notifyDelayMs ?? 20);
  }

  /** Stop claiming; wait (at most `graceMs`) for the partitions in hand. Unfinished events stay queued. */
  async stop(graceMs = 2_000): Promise<void> {
    this.running = false;
    clearTimeout(this.notifyTimer);
    this.wake?.();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.active]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const { options } = this;
    while (this.running) {
      const free = options.concurrency - this.active.size;
      let claimed: ClaimedPartition[] = [];
      if (free > 0) {
        try {
          claimed = await options.events.claim(options.workerId, free, options.leaseMs, options.eventsPerClaim ?? 200);
        } catch (error) {
          options.log.error({ err: error }, 'queue claim failed');
        }
      }
      for (const partition of claimed) {
        const job = this.process(partition).finally(() => {
          this.active.delete(job);
          this.wake?.();
        });
        this.active.add(job);
      }
      // fewer than asked for: nothing else is ready now, so wait for a notify, a finished partition or the poll
      if (claimed.length < free || this.active.size >= options.concurrency) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.idlePollMs ?? 50);
      const wake = () => done();
      this.wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private async process(partition: ClaimedPartition): Promise<void> {
    const { events, workerId } = this.options;
    let notBefore: number | undefined;
    let renewedAt = Date.now();
    const run = new PartitionRun(events, workerId, partition.partitionKey);
    try {
      await run.prefetch(partition.events);
      for (const [i, event] of partition.events.entries()) {
        if (!this.running) break;
        // folding a run is CPU work without I/O: let the ingress answer its webhooks in between
        if (i > 0 && i % YIELD_EVERY === 0) await setImmediate();
        // a long batch keeps its lease: renewed once a third of it has gone
        if (Date.now() - renewedAt > this.options.leaseMs / 3) {
          if (!(await events.renew(workerId, partition.partitionKey, this.options.leaseMs))) return;
          renewedAt = Date.now();
        }
        const outcome = await this.processEvent(run, partition.partitionKey, event);
        if (outcome === 'lease-lost') return;
        if (typeof outcome === 'number') {
          notBefore = outcome;
          break;
        }
      }
      if (!(await run.flush())) {
        this.leaseLost(partition.partitionKey);
        return;
      }
    } catch (error) {
      this.options.log.error({ err: error, partition: partition.partitionKey }, 'partition processing failed');
      notBefore = Date.now() + 1_000;
    }
    await events.release(workerId, partition.partitionKey, notBefore).catch((error: unknown) => {
      this.options.log.error({ err: error, partition: partition.partitionKey }, 'partition release failed (its lease will run out)');
    });
  }

  private leaseLost(partitionKey: string): 'lease-lost' {
    this.options.log.warn({ partition: partitionKey }, 'partition lease lost before its events were applied; another worker has it');
    return 'lease-lost';
  }

  /** 'done', 'lease-lost', or the time before which the partition must not be retried */
  private async processEvent(run: PartitionRun, partitionKey: string, event: LoggedEvent): Promise<'done' | 'lease-lost' | number> {
    const { events, workerId, handle, maxProcessingMs, maxAttempts, log } = this.options;
    const started = process.hrtime.bigint();
    const effect = handle(event);
    let sideEffectError: unknown;
    let attempt = 0;
    if (effect) {
      // the handler may read derived state: it must hold every earlier event of the partition
      if (!(await run.flush())) return this.leaseLost(partitionKey);
      const eventLog = log.child({ correlationId: event.correlationId, eventId: event.id, eventType: event.eventType });
      attempt = (this.attempts.get(event.id) ?? 0) + 1;
      try {
        await withDeadline(maxProcessingMs, (signal) => effect({ log: eventLog, signal, attempt }));
      } catch (error) {
        sideEffectError = error;
      }
      if (sideEffectError !== undefined && attempt < maxAttempts) {
        this.attempts.set(event.id, attempt);
        eventLog.warn({ err: sideEffectError, attempt }, 'handler failed; retrying later');
        this.options.onFailed?.(event, sideEffectError, false);
        await events.recordFailure(workerId, partitionKey, event.id, errorText(sideEffectError), false);
        return Date.now() + retryDelayMs(attempt);
      }
      this.attempts.delete(event.id);
    }
    const touchedShared = await run.apply(event);
    if (touchedShared && sideEffectError === undefined && !(await run.flush())) return this.leaseLost(partitionKey);
    if (sideEffectError !== undefined) {
      // applied anyway (the live state stays the fold of the whole log), its side effect dead-lettered
      if (!(await run.flush())) return this.leaseLost(partitionKey);
      log.error({ err: sideEffectError, attempt, correlationId: event.correlationId, eventId: event.id }, 'handler gave up; event applied, its side effect dead-lettered');
      this.options.onFailed?.(event, sideEffectError, true);
      await events.recordFailure(workerId, partitionKey, event.id, errorText(sideEffectError), true);
    }
    this.options.onProcessed?.(event, Number(process.hrtime.bigint() - started) / 1e9);
    return 'done';
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
