// An in-memory client/server pair for testing the layers above the transport: drop (the first N or at
// random), delay and duplicate messages, reproducibly (seeded), with time taken from an injected clock.
// Nothing is delivered inside send(): messages wait in a queue until pump() (or the microtask that
// `autoPump` schedules), as a real network would, so no callback ever runs re-entrantly inside send().
import { realClock, type Clock } from '../shared/clock.js';
import type { Endpoint, Transport, TransportEvents, TransportStats } from './transport.js';

export interface MemoryPairOptions {
  /** Probability that a message (either direction) is lost. */
  dropRate?: number;
  /** Drop the next N messages client -> server. */
  dropFirst?: number;
  /** Drop the next N messages server -> client. */
  dropFirstResponses?: number;
  /** One-way delay, measured on `clock`. */
  delayMs?: number;
  /** Probability that a message (either direction) is delivered twice. */
  duplicateRate?: number;
  /** Reliable pairs pose as TCP (no retransmissions above), unreliable ones as UDP. */
  reliable?: boolean;
  seed?: number;
  clock?: Clock;
  slots?: number;
  /** Deliver due messages in a microtask after each send instead of waiting for pump(). */
  autoPump?: boolean;
}

export interface MemoryServer {
  /** Sends to the client on `slot` (default: the slot of the last message the server received). */
  send(data: Buffer, slot?: number): void;
  onMessage?: (data: Buffer, slot: number) => void;
  readonly received: number;
}

export interface MemoryPair {
  client: Transport;
  server: MemoryServer;
  setClientEvents(events: TransportEvents): void;
  /** Delivers every message due at clock.nowUs() (and replies they cause); returns how many. */
  pump(): number;
  /** Messages queued, not yet delivered. */
  readonly inFlight: number;
  /** Drop the next n messages client -> server. */
  dropNext(n: number): void;
  /** Reports a transport error on `slot` to the client's events (as a dead connection would). */
  failSlot(slot: number, reason: string): void;
  readonly counters: { toServer: number; toClient: number; dropped: number; duplicated: number };
}

interface Queued {
  atUs: number;
  toServer: boolean;
  slot: number;
  data: Buffer;
}

const CLIENT: Endpoint = { host: '192.0.2.1', port: 5060 };
const SERVER: Endpoint = { host: '192.0.2.2', port: 5060 };
const MAX_PUMP = 1_000_000;

/** mulberry32: small, fast, good enough to pick which messages to drop. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createMemoryPair(opts: MemoryPairOptions = {}): MemoryPair {
  const clock = opts.clock ?? realClock;
  const random = rng(opts.seed ?? 1);
  const dropRate = opts.dropRate ?? 0;
  const duplicateRate = opts.duplicateRate ?? 0;
  const delayUs = Math.round((opts.delayMs ?? 0) * 1000);
  const reliable = opts.reliable ?? false;
  const slots = opts.slots ?? 1;
  let dropFirst = opts.dropFirst ?? 0;
  let dropFirstResponses = opts.dropFirstResponses ?? 0;
  let events: TransportEvents | undefined;
  let lastServerSlot = 0;
  let pumpScheduled = false;
  const queue: Queued[] = [];
  const counters = { toServer: 0, toClient: 0, dropped: 0, duplicated: 0 };
  const stats: TransportStats = { sent: 0, received: 0, sendErrors: 0, reconnects: 0, framingErrors: 0 };

  const enqueue = (toServer: boolean, slot: number, data: Buffer): void => {
    if (toServer && dropFirst > 0) {
      dropFirst--;
      counters.dropped++;
      return;
    }
    if (!toServer && dropFirstResponses > 0) {
      dropFirstResponses--;
      counters.dropped++;
      return;
    }
    if (dropRate > 0 && random() < dropRate) {
      counters.dropped++;
      return;
    }
    const copies = duplicateRate > 0 && random() < duplicateRate ? 2 : 1;
    if (copies === 2) counters.duplicated++;
    const atUs = clock.nowUs() + delayUs;
    for (let c = 0; c < copies; c++) {
      // Keep delivery order by due time (stable for equal times).
      let i = queue.length;
      while (i > 0 && queue[i - 1].atUs > atUs) i--;
      queue.splice(i, 0, { atUs, toServer, slot, data });
    }
    if (opts.autoPump && !pumpScheduled) {
      pumpScheduled = true;
      queueMicrotask(autoPump);
    }
  };

  const pump = (): number => {
    let delivered = 0;
    while (queue.length > 0 && queue[0].atUs <= clock.nowUs() && delivered < MAX_PUMP) {
      const m = queue.shift() as Queued;
      delivered++;
      if (m.toServer) {
        counters.toServer++;
        lastServerSlot = m.slot;
        server.received++;
        server.onMessage?.(m.data, m.slot);
      } else {
        counters.toClient++;
        stats.received++;
        events?.onMessage(m.data, m.slot, SERVER);
      }
    }
    return delivered;
  };

  function autoPump(): void {
    pumpScheduled = false;
    pump();
    if (queue.length > 0 && !pumpScheduled) {
      // Delayed messages: come back when the first one is due (real clock only makes sense here).
      pumpScheduled = true;
      const waitMs = Math.max(0, (queue[0].atUs - clock.nowUs()) / 1000);
      setTimeout(autoPump, waitMs).unref();
    }
  }

  const client: Transport = {
    protocol: reliable ? 'tcp' : 'udp',
    reliable,
    viaProtocol: reliable ? 'TCP' : 'UDP',
    slots,
    advertised: (slot) => ({ host: CLIENT.host, port: CLIENT.port + slot }),
    send(slot, data) {
      stats.sent++;
      enqueue(true, slot, data);
    },
    stats: () => ({ ...stats }),
    close: async () => undefined,
  };

  const server = {
    received: 0,
    onMessage: undefined as MemoryServer['onMessage'],
    send(data: Buffer, slot?: number): void {
      enqueue(false, slot ?? lastServerSlot, data);
    },
  };

  return {
    client,
    server,
    setClientEvents: (e) => {
      events = e;
    },
    pump,
    get inFlight() {
      return queue.length;
    },
    dropNext: (n) => {
      dropFirst += n;
    },
    failSlot: (slot, reason) => events?.onSlotError(slot, reason),
    counters,
  };
}
