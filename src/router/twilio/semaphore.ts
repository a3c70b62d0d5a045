/**
 * A counting semaphore whose waiters are served first in, first out, and give up at an absolute deadline: a request
 * toward Twilio never waits for a slot without bound.
 */
export class DeadlineSemaphore {
  private active = 0;
  private readonly waiters: Array<{ grant: () => void }> = [];

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${capacity}`);
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function (call it exactly once); rejects with `onTimeout()` at `deadline` (epoch ms). */
  acquire(deadline: number, onTimeout: () => Error): Promise<() => void> {
    if (this.active < this.capacity && this.waiters.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(this.releaser());
        },
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(onTimeout());
      }, Math.max(0, deadline - Date.now()));
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // the slot passes straight to the next waiter: nobody can overtake the queue in between
      if (next) next.grant();
      else this.active--;
    };
  }
}
