// TransportEvents that record what a transport delivered, with a wait for the n-th message or error.
import type { Endpoint, TransportEvents } from '../../src/transport/transport.js';

export interface Recorder extends TransportEvents {
  messages: { data: string; slot: number; from: Endpoint }[];
  errors: { slot: number; reason: string }[];
  waitFor(n: number, what?: 'messages' | 'errors'): Promise<void>;
}

export function recorder(): Recorder {
  const waiters: (() => void)[] = [];
  const r: Recorder = {
    messages: [],
    errors: [],
    onMessage(data, slot, from) {
      r.messages.push({ data: data.toString(), slot, from: { ...from } });
      waiters.splice(0).forEach((w) => w());
    },
    onSlotError(slot, reason) {
      r.errors.push({ slot, reason });
      waiters.splice(0).forEach((w) => w());
    },
    waitFor(n, what = 'messages') {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${n} ${what}, have ${r[what].length}`)), 3000);
        const check = () => {
          if (r[what].length >= n) {
            clearTimeout(deadline);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
  };
  return r;
}
