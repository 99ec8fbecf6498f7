// The concurrency cap for promise-based agents (the sip.js softphones): p-limit runs and queues the
// tasks, and this wrapper adds the scenario's policy on top, the same as ConcurrencyGate's: when the
// cap is full, queue up to queueLimit (whenFull: queue) or refuse at once (whenFull: drop), and count
// what it refuses. The decision is synchronous: p-limit moves a task from its queue to active in the
// same tick it is added while a slot is free, so activeCount and pendingCount are exact when we look.
import pLimit, { type LimitFunction } from 'p-limit';
import type { ConcurrencyCap } from '../scenario/types.js';

export interface PromiseLimiter {
  /**
   * Runs `task` under the cap: its promise (the task may wait in the queue first), or null when the
   * policy drops it (the task is never called; the caller records the operation as `dropped`).
   */
  run<A extends unknown[], R>(task: (...args: A) => PromiseLike<R> | R, ...args: A): Promise<R> | null;
  readonly inFlight: number;
  readonly queued: number;
  readonly maxQueued: number;
  readonly dropped: number;
  /** Empties the queue (end of run): the waiting tasks never run and count as dropped; their promises reject with an AbortError. Returns how many. */
  drainQueue(): number;
}

export function createPromiseLimiter(cap: ConcurrencyCap): PromiseLimiter {
  if (!Number.isInteger(cap.limit) || cap.limit < 1) throw new RangeError(`throttle.concurrency.limit must be a whole number >= 1 (got ${cap.limit})`);
  if (cap.whenFull !== 'queue' && cap.whenFull !== 'drop') throw new RangeError(`throttle.concurrency.whenFull must be queue or drop (got ${String(cap.whenFull)})`);
  const queueLimit = cap.whenFull === 'drop' ? 0 : cap.queueLimit;
  if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new RangeError(`throttle.concurrency.queueLimit must be a whole number >= 0 (got ${cap.queueLimit})`);

  const limit: LimitFunction = pLimit({ concurrency: cap.limit, rejectOnClear: true });
  let maxQueued = 0;
  let dropped = 0;

  return {
    run<A extends unknown[], R>(task: (...args: A) => PromiseLike<R> | R, ...args: A): Promise<R> | null {
      if (limit.activeCount >= cap.limit && limit.pendingCount >= queueLimit) {
        dropped++;
        return null;
      }
      const promise = limit(task, ...args);
      if (limit.pendingCount > maxQueued) maxQueued = limit.pendingCount;
      return promise;
    },
    get inFlight() {
      return limit.activeCount;
    },
    get queued() {
      return limit.pendingCount;
    },
    get maxQueued() {
      return maxQueued;
    },
    get dropped() {
      return dropped;
    },
    drainQueue() {
      const n = limit.pendingCount;
      dropped += n;
      limit.clearQueue();
      return n;
    },
  };
}
