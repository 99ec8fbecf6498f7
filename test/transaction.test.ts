import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/shared/clock.js';
import type { SipMessage } from '../src/sip/message.js';
import { ClientTransactionLayer, type ClientTransaction, type TransactionOwner } from '../src/sip/transaction.js';
import { createMemoryPair, type MemoryPairOptions } from '../src/transport/memory.js';

const TIMERS = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

function request(method: string, branch: string, cseq: number): Buffer {
  return Buffer.from(
    `${method} sip:trunk.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=${branch}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:a@trunk.test>;tag=1\r\nTo: <sip:a@trunk.test>\r\nCall-ID: c-${branch}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`,
  );
}

/** A response to `req` as a server would build it (same Via, Call-ID, CSeq). */
function responseTo(req: Buffer, status: number, reason = 'OK', overrides: { cseqMethod?: string; branch?: string } = {}): Buffer {
  const text = req.toString();
  const branch = overrides.branch ?? /branch=([^;\r\n]+)/.exec(text)![1];
  const [, cseq, method] = /CSeq: (\d+) (\S+)/.exec(text)!;
  return Buffer.from(
    `SIP/2.0 ${status} ${reason}\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;rport=5060;branch=${branch};received=192.0.2.1\r\n` +
      `From: <sip:a@trunk.test>;tag=1\r\nTo: <sip:a@trunk.test>;tag=srv\r\nCall-ID: c-${branch}\r\nCSeq: ${cseq} ${overrides.cseqMethod ?? method}\r\nContent-Length: 0\r\n\r\n`,
  );
}

interface Ending {
  kind: 'response' | 'timeout' | 'error';
  atMs: number;
  status?: number;
  reason?: string;
  malformed?: boolean;
  context: unknown;
}

class Owner implements TransactionOwner {
  endings: Ending[] = [];
  constructor(
    private readonly clock: FakeClock,
    private readonly t0: number,
  ) {}
  private get ms(): number {
    return (this.clock.nowUs() - this.t0) / 1000;
  }
  onTransactionResponse(tx: ClientTransaction, msg: SipMessage): void {
    this.endings.push({ kind: 'response', atMs: this.ms, status: msg.status, context: tx.context });
  }
  onTransactionTimeout(tx: ClientTransaction): void {
    this.endings.push({ kind: 'timeout', atMs: this.ms, context: tx.context });
  }
  onTransactionError(tx: ClientTransaction, reason: string, malformed: boolean): void {
    this.endings.push({ kind: 'error', atMs: this.ms, reason, malformed, context: tx.context });
  }
}

function setup(pairOpts: MemoryPairOptions = {}) {
  const clock = new FakeClock(1_000_000); // arbitrary non-zero start
  const t0 = clock.nowUs();
  const pair = createMemoryPair({ clock, ...pairOpts });
  const counts = { sent: 0, retransmits: [] as number[], responses: [] as number[], strays: 0, malformed: [] as string[] };
  const layer = new ClientTransactionLayer(pair.client, clock, TIMERS, {
    onSent: () => counts.sent++,
    onRetransmit: () => counts.retransmits.push((clock.nowUs() - t0) / 1000),
    onResponse: (_m, status) => counts.responses.push(status),
    onStray: () => counts.strays++,
    onMalformed: (kind) => counts.malformed.push(kind),
  });
  pair.setClientEvents({ onMessage: (d, slot) => layer.handleMessage(d, slot), onSlotError: (slot, r) => layer.handleSlotError(slot, r) });
  const owner = new Owner(clock, t0);
  const received: { atMs: number; data: Buffer }[] = [];
  pair.server.onMessage = (data) => received.push({ atMs: (clock.nowUs() - t0) / 1000, data });
  /** Runs the world 1 ms at a time up to `ms` after the start, delivering and polling each step. */
  const runTo = (ms: number, each?: (atMs: number) => void) => {
    while (clock.nowUs() - t0 < ms * 1000) {
      clock.advanceMs(1);
      layer.poll(); // timers first, then the network delivers what is due (and what that causes)
      pair.pump();
      each?.((clock.nowUs() - t0) / 1000);
    }
  };
  const start = (branch: string, method = 'OPTIONS', slot = 0, context: unknown = branch) =>
    layer.start(owner, context, slot, method, branch, 1, request(method, branch, 1));
  return { clock, t0, pair, layer, owner, counts, received, runTo, start };
}

describe('non-INVITE client transaction over an unreliable transport', () => {
  it('retransmits at T1 doubling to T2, then times out with Timer F = 64*T1', () => {
    const w = setup({ dropFirst: 1000 });
    const tx = w.start('z9hG4bKlost');
    expect(tx.state).toBe('trying');
    expect(w.layer.outstanding).toBe(1);
    w.runTo(40_000);
    // Intervals 500, 1000, 2000, 4000, 4000, ... from the first send at 0.
    expect(w.counts.retransmits).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(w.owner.endings).toEqual([{ kind: 'timeout', atMs: 32_000, context: 'z9hG4bKlost' }]);
    expect(tx.retransmissions).toBe(10);
    expect(tx.state).toBe('terminated');
    expect(w.layer.outstanding).toBe(0);
    expect(w.layer.tracked).toBe(0);
    expect(w.pair.counters.dropped).toBe(11);
  });

  it('retransmits the very same bytes and completes when a retransmission gets through', () => {
    const w = setup({ dropFirst: 3 });
    const tx = w.start('z9hG4bKthird');
    w.pair.server.onMessage = (data) => {
      w.received.push({ atMs: (w.clock.nowUs() - w.t0) / 1000, data });
      w.pair.server.send(responseTo(data, 200));
    };
    w.runTo(4000);
    expect(w.received.map((r) => r.atMs)).toEqual([3500]);
    expect(w.received[0].data.equals(request('OPTIONS', 'z9hG4bKthird', 1))).toBe(true);
    expect(w.owner.endings).toEqual([{ kind: 'response', atMs: 3500, status: 200, context: 'z9hG4bKthird' }]);
    expect(tx.retransmissions).toBe(3);
    expect(tx.state).toBe('completed');
    expect(w.layer.outstanding).toBe(0);
    // Timer K: remembered for at least T4 (at most 2*T4) to absorb retransmitted finals, then forgotten.
    expect(w.layer.tracked).toBe(1);
    w.runTo(3500 + 4999);
    expect(w.layer.tracked).toBe(1);
    w.runTo(3500 + 10_001);
    expect(w.layer.tracked).toBe(0);
    expect(w.counts.retransmits).toEqual([500, 1500, 3500]);
  });

  it('a 1xx moves to Proceeding; retransmissions then come every T2 until the final response', () => {
    const w = setup();
    const tx = w.start('z9hG4bKslow');
    w.pair.server.onMessage = (data) => {
      w.received.push({ atMs: (w.clock.nowUs() - w.t0) / 1000, data });
      if (w.received.length === 1) w.pair.server.send(responseTo(data, 100, 'Trying'));
    };
    w.runTo(100);
    expect(tx.state).toBe('proceeding');
    w.runTo(10_000);
    // Timer E armed at T1 still fires at 500; after that it is reset to T2.
    expect(w.counts.retransmits).toEqual([500, 4500, 8500]);
    w.pair.server.send(responseTo(w.received[0].data, 486, 'Busy Here'));
    w.runTo(20_000);
    expect(w.owner.endings).toEqual([{ kind: 'response', atMs: 10_001, status: 486, context: 'z9hG4bKslow' }]);
    expect(w.counts.retransmits).toEqual([500, 4500, 8500]);
    expect(w.counts.responses).toEqual([100, 486]);
  });

  it('a Proceeding transaction still times out at 64*T1', () => {
    const w = setup();
    w.pair.server.onMessage = (data) => w.pair.server.send(responseTo(data, 100, 'Trying'));
    const tx = w.start('z9hG4bKstuck');
    w.runTo(33_000);
    expect(w.owner.endings.map((e) => [e.kind, e.atMs])).toEqual([['timeout', 32_000]]);
    expect(tx.retransmissions).toBe(8); // 500, then every 4 s: 4500 ... 28500
  });

  it('absorbs retransmitted finals for at least T4 (Timer K); after 2*T4 they are strays', () => {
    const w = setup();
    const tx = w.start('z9hG4bKdup', 'REGISTER');
    w.runTo(10);
    const req = w.received[0].data;
    w.pair.server.send(responseTo(req, 200));
    w.pair.server.send(responseTo(req, 200));
    w.runTo(20);
    expect(w.owner.endings).toHaveLength(1);
    expect(tx.state).toBe('completed');
    expect(w.counts.responses).toEqual([200, 200]);
    expect(w.counts.strays).toBe(0);
    w.runTo(5010); // T4 after completion: still absorbed
    w.pair.server.send(responseTo(req, 200));
    w.pair.server.send(responseTo(req, 200, 'OK', { cseqMethod: 'OPTIONS' })); // same branch, other method
    w.runTo(5011);
    expect(w.counts.responses).toEqual([200, 200, 200]);
    expect(w.counts.strays).toBe(1);
    w.runTo(10_100);
    w.pair.server.send(responseTo(req, 200));
    w.runTo(10_110);
    expect(w.owner.endings).toHaveLength(1);
    expect(w.counts.strays).toBe(2);
    expect(w.layer.tracked).toBe(0);
  });

  it('absorbs the finals of thousands of Completed transactions and no others', () => {
    const w = setup();
    const finals: Buffer[] = [];
    w.pair.server.onMessage = (data) => {
      const r = responseTo(data, 200);
      finals.push(r);
      w.pair.server.send(r);
    };
    for (let i = 0; i < 3000; i++) w.start(`z9hG4bKmany${i}`);
    w.runTo(10);
    expect(w.owner.endings).toHaveLength(3000);
    for (const r of finals) w.pair.server.send(r); // every final retransmitted once
    for (let i = 0; i < 3000; i++) w.pair.server.send(responseTo(request('OPTIONS', `z9hG4bKnever${i}`, 1), 200));
    w.runTo(20);
    expect(w.counts.responses).toHaveLength(6000);
    expect(w.counts.strays).toBe(3000);
  });

  it('absorbs finals duplicated by the network (duplicateRate 1)', () => {
    const w = setup({ duplicateRate: 1 });
    w.pair.server.onMessage = (data) => w.pair.server.send(responseTo(data, 200));
    w.start('z9hG4bKtwice');
    w.runTo(100);
    expect(w.owner.endings).toHaveLength(1);
    expect(w.counts.responses).toEqual([200, 200, 200, 200]); // 2 requests arrive, each answered twice
  });

  it('matches by branch AND CSeq method; anything else is a stray', () => {
    const w = setup();
    const tx = w.start('z9hG4bKmatch', 'REGISTER');
    w.runTo(10);
    const req = w.received[0].data;
    w.pair.server.send(responseTo(req, 200, 'OK', { cseqMethod: 'OPTIONS' }));
    w.pair.server.send(responseTo(req, 200, 'OK', { branch: 'z9hG4bKother' }));
    w.pair.server.send(request('OPTIONS', 'z9hG4bKreq', 5)); // a request arriving at the client
    w.runTo(20);
    expect(w.counts.strays).toBe(3);
    expect(w.owner.endings).toEqual([]);
    expect(tx.state).toBe('trying');
    w.pair.server.send(responseTo(req, 401, 'Unauthorized'));
    w.runTo(30);
    expect(w.owner.endings.map((e) => e.status)).toEqual([401]);
  });

  it('fails the transaction a malformed response names by branch; other garbage is only counted', () => {
    const w = setup();
    const tx = w.start('z9hG4bKbad');
    const other = w.start('z9hG4bKfine');
    w.runTo(10);
    const bad = responseTo(w.received[0].data, 200).toString().replace(/CSeq: 1 OPTIONS/, 'CSeq: x OPTIONS');
    w.pair.server.send(Buffer.from(bad));
    w.pair.server.send(Buffer.from('\x00\x01 total garbage'));
    w.runTo(20);
    expect(w.counts.malformed).toHaveLength(2);
    expect(w.owner.endings).toHaveLength(1);
    expect(w.owner.endings[0]).toMatchObject({ kind: 'error', malformed: true, context: 'z9hG4bKbad' });
    expect(w.owner.endings[0].reason).toMatch(/^malformed response: /);
    expect(tx.state).toBe('terminated');
    expect(other.state).toBe('trying');
    expect(w.layer.outstanding).toBe(1);
  });

  it('a slot error fails the waiting transactions of that slot only', () => {
    const w = setup({ slots: 2, dropFirst: 1000 });
    w.start('z9hG4bKs0a', 'OPTIONS', 0);
    w.start('z9hG4bKs1a', 'OPTIONS', 1);
    w.start('z9hG4bKs1b', 'REGISTER', 1);
    w.runTo(5);
    w.pair.failSlot(1, 'ECONNREFUSED');
    expect(w.owner.endings.map((e) => [e.kind, e.context, e.reason, e.malformed])).toEqual([
      ['error', 'z9hG4bKs1a', 'ECONNREFUSED', false],
      ['error', 'z9hG4bKs1b', 'ECONNREFUSED', false],
    ]);
    expect(w.layer.outstanding).toBe(1);
    w.pair.failSlot(1, 'again'); // nothing left waiting there
    expect(w.owner.endings).toHaveLength(2);
    w.runTo(40_000);
    expect(w.owner.endings.map((e) => e.kind)).toEqual(['error', 'error', 'timeout']);
  });

  it('a reused branch ends the older transaction (exactly once) and tracks the newer', () => {
    const w = setup({ dropFirst: 1000 });
    const older = w.start('z9hG4bKsame', 'OPTIONS', 0, 'older');
    const newer = w.start('z9hG4bKsame', 'OPTIONS', 0, 'newer');
    expect(w.owner.endings).toEqual([{ kind: 'error', atMs: 0, reason: 'branch reused', malformed: false, context: 'older' }]);
    expect(older.state).toBe('terminated');
    expect(w.layer.outstanding).toBe(1);
    w.runTo(33_000);
    expect(w.owner.endings.map((e) => e.context)).toEqual(['older', 'newer']);
    expect(older.retransmissions).toBe(0);
    expect(newer.retransmissions).toBe(10);
  });

  it('lets the owner start the next transaction from inside the response callback (digest retry)', () => {
    const w = setup();
    w.pair.server.onMessage = (data) => w.pair.server.send(responseTo(data, data.includes('branch=z9hG4bKfirst') ? 401 : 200));
    const owner: TransactionOwner = {
      onTransactionResponse: (tx, msg) => {
        w.owner.onTransactionResponse(tx, msg);
        if (msg.status === 401) w.layer.start(owner, 'retry', 0, 'REGISTER', 'z9hG4bKsecond', 2, request('REGISTER', 'z9hG4bKsecond', 2));
      },
      onTransactionTimeout: (tx) => w.owner.onTransactionTimeout(tx),
      onTransactionError: (tx, r, m) => w.owner.onTransactionError(tx, r, m),
    };
    w.layer.start(owner, 'first', 0, 'REGISTER', 'z9hG4bKfirst', 1, request('REGISTER', 'z9hG4bKfirst', 1));
    w.runTo(50);
    expect(w.owner.endings.map((e) => [e.context, e.status])).toEqual([
      ['first', 401],
      ['retry', 200],
    ]);
    expect(w.counts.sent).toBe(2);
  });
});

describe('non-INVITE client transaction over a reliable transport', () => {
  it('never retransmits, times out at 64*T1, and forgets a completed transaction at once (Timer K = 0)', () => {
    const w = setup({ reliable: true, dropFirst: 1 });
    const lost = w.start('z9hG4bKrel1');
    w.pair.server.onMessage = (data) => w.pair.server.send(responseTo(data, 200));
    const ok = w.start('z9hG4bKrel2');
    w.runTo(40_000);
    expect(w.counts.retransmits).toEqual([]);
    expect(lost.retransmissions).toBe(0);
    expect(w.owner.endings.map((e) => [e.kind, e.atMs])).toEqual([
      ['response', 1],
      ['timeout', 32_000],
    ]);
    expect(ok.state).toBe('terminated');
    expect(w.layer.tracked).toBe(0);
  });
});

describe('every transaction ends exactly once (property)', () => {
  it('under random loss, delay and duplication in both directions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 0.6, noNaN: true }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 0, max: 300 }),
        fc.boolean(),
        (seed, dropRate, duplicateRate, delayMs, provisional) => {
          const w = setup({ seed, dropRate, duplicateRate, delayMs });
          w.pair.server.onMessage = (data) => {
            if (provisional) w.pair.server.send(responseTo(data, 100, 'Trying'));
            w.pair.server.send(responseTo(data, 200));
          };
          const n = 40;
          for (let i = 0; i < n; i++) w.start(`z9hG4bKp${i}`);
          w.runTo(34_000 + 10_500); // past Timer F, then past 2*T4 of the last completion
          const contexts = w.owner.endings.map((e) => e.context as string).sort();
          expect(contexts).toEqual(Array.from({ length: n }, (_, i) => `z9hG4bKp${i}`).sort());
          for (const e of w.owner.endings) {
            expect(e.kind === 'response' || e.kind === 'timeout').toBe(true);
            if (e.kind === 'timeout') expect(e.atMs).toBe(32_000);
          }
          expect(w.layer.outstanding).toBe(0);
          expect(w.layer.tracked).toBe(0);
        },
      ),
      { numRuns: 25 },
    );
  });
});
