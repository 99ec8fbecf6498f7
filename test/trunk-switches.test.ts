// The trunk's issue-5 switches: the concurrent-challenge limit (a legacy PBX that refuses concurrent
// auth attempts during peak publishing) and the source allowlist ("403 IP whitelist"). The matchers
// against reference models (fast-check), then the trunk over real loopback sockets (UDP, TCP, IPv6),
// set at start and at run time through the control API. Time comes from a FakeClock.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/shared/clock.js';
import type { SipMessage } from '../src/sip/message.js';
import { AllowList, allowlistEntryError } from '../src/trunk/allowlist.js';
import { ChallengeLimit } from '../src/trunk/challenge-limit.js';
import { applySwitches, DEFAULT_SWITCHES, type TrunkOptions } from '../src/trunk/config.js';
import { startControlApi } from '../src/trunk/control-api.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';
import { openAgents, RawAgent } from './helpers/raw-agent.js';

const CONCURRENT = '403 Forbidden (concurrent auth limit)';
const WHITELIST = '403 IP whitelist';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function trunkWith(opts: Partial<TrunkOptions>): Promise<{ trunk: EmbeddedTrunk; clock: FakeClock }> {
  const clock = new FakeClock(10_000_000);
  const trunk = await EmbeddedTrunk.start({ port: 0, users: 20, clock, ...opts });
  cleanups.push(() => trunk.stop());
  return { trunk, clock };
}

async function agents(trunk: EmbeddedTrunk, count: number, opts: Parameters<typeof openAgents>[2] = {}): Promise<RawAgent[]> {
  const list = await openAgents(trunk.address, count, opts);
  cleanups.push(() => list.forEach((a) => a.close()));
  return list;
}

const statusLine = (m: SipMessage) => `${m.status} ${m.reason}`;
const tally = (ms: SipMessage[]) => ms.reduce<Record<string, number>>((t, m) => ({ ...t, [statusLine(m)]: (t[statusLine(m)] ?? 0) + 1 }), {});

describe('challenge limit (model)', () => {
  it('admits exactly what a naive list of live handshakes admits, and never holds more than max', () => {
    // Small steps against short timeouts, so expiries often fall exactly on `now` (the boundary).
    const op = fc.record({ answer: fc.boolean(), key: fc.integer({ min: 0, max: 9 }), dtUs: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 60 }), fc.array(op, { maxLength: 200 }), (max, timeoutUs, ops) => {
        const limit = new ChallengeLimit(max, timeoutUs);
        const model = new Map<number, number>(); // key -> expiry
        let now = 0;
        for (const { answer, key, dtUs } of ops) {
          now += dtUs;
          for (const [k, exp] of model) if (exp <= now) model.delete(k);
          if (answer) {
            limit.closed(String(key));
            model.delete(key);
          } else {
            const expected = model.size < max || model.has(key);
            expect(limit.admits(String(key), now)).toBe(expected);
            if (expected) {
              limit.opened(String(key), now);
              model.set(key, now + timeoutUs);
            }
          }
          expect(limit.outstanding(now)).toBe(model.size);
          expect(model.size).toBeLessThanOrEqual(max);
        }
      }),
    );
  });
});

describe('allowlist (model)', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
  const v4Int = (ip: string) => ip.split('.').reduce((n, b) => n * 256 + Number(b), 0);
  const v6Groups = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });
  const v6Big = (g: number[]) => g.reduce((n, x) => (n << 16n) | BigInt(x), 0n);

  it('IPv4 CIDRs match as prefix comparison does, for plain and IPv4-mapped IPv6 sources', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, fc.boolean(), (net, prefix, other, near) => {
        // `near`: the probe shares the net's first 24 bits, so short and long prefixes both get hits.
        const probe = near ? `${net.split('.').slice(0, 3).join('.')}.${other.split('.')[3]}` : other;
        const shift = 32 - prefix;
        const expected = prefix === 0 || Math.floor(v4Int(net) / 2 ** shift) === Math.floor(v4Int(probe) / 2 ** shift);
        const list = new AllowList([`${net}/${prefix}`]);
        expect(list.allows(probe)).toBe(expected);
        expect(list.allows(`::ffff:${probe}`)).toBe(expected);
        expect(new AllowList([net]).allows(probe)).toBe(probe === net);
      }),
    );
  });

  it('IPv6 CIDRs match as prefix comparison does', () => {
    fc.assert(
      fc.property(v6Groups, fc.integer({ min: 0, max: 128 }), v6Groups, fc.integer({ min: 0, max: 8 }), (net, prefix, other, shared) => {
        const probe = [...net.slice(0, shared), ...other.slice(shared)];
        const shift = BigInt(128 - prefix);
        const expected = v6Big(net) >> shift === v6Big(probe) >> shift;
        const text = (g: number[]) => g.map((x) => x.toString(16)).join(':');
        expect(new AllowList([`${text(net)}/${prefix}`]).allows(text(probe))).toBe(expected);
      }),
    );
  });

  it('remembers answers per source without changing them; junk sources are refused', () => {
    const list = new AllowList(['10.0.0.0/8', '::1']);
    for (let i = 0; i < 5000; i++) expect(list.allows(`10.${i % 256}.${i >> 8}.1`)).toBe(true); // past the memo bound
    expect([list.allows('11.0.0.1'), list.allows('::1'), list.allows('0:0:0:0:0:0:0:1'), list.allows('::2')]).toEqual([false, true, true, false]);
    expect([list.allows(''), list.allows('localhost'), list.allows('fe80::1%lo')]).toEqual([false, false, false]);
  });

  it('validation names the bad entry; applySwitches refuses bad values and changes nothing', () => {
    expect(allowlistEntryError('10.0.0.0/8')).toBeNull();
    expect(allowlistEntryError('fd00::/8')).toBeNull();
    expect(allowlistEntryError('10.0.0.0/33')).toMatch(/"10.0.0.0\/33": prefix length must be 0..32/);
    expect(allowlistEntryError('::/129')).toMatch(/0..128/);
    expect(allowlistEntryError('10.0.0.0/x')).toMatch(/prefix/);
    expect(allowlistEntryError('300.1.1.1')).toMatch(/not an IPv4\/IPv6 address or CIDR/);
    expect(allowlistEntryError('1.2.3.4/8/8')).toMatch(/not an IPv4/);
    expect(allowlistEntryError(7)).toMatch(/strings/);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ allowlist: [] }, /at least one/],
      [{ allowlist: '127.0.0.1' }, /at least one/],
      [{ allowlist: ['127.0.0.1', 'nope'] }, /allowlist: "nope"/],
      [{ maxConcurrentChallenges: -1 }, /maxConcurrentChallenges/],
      [{ maxConcurrentChallenges: 1.5 }, /maxConcurrentChallenges/],
      [{ challengeTimeoutMs: 0 }, /challengeTimeoutMs/],
    ];
    for (const [patch, why] of bad) expect(() => applySwitches(DEFAULT_SWITCHES, patch as never)).toThrow(why);
    expect(DEFAULT_SWITCHES).toMatchObject({ maxConcurrentChallenges: null, challengeTimeoutMs: 4000, allowlist: null });
    expect(applySwitches(DEFAULT_SWITCHES, { maxConcurrentChallenges: 0, allowlist: ['::1'] })).toMatchObject({ maxConcurrentChallenges: 0, allowlist: ['::1'] });
  });
});

describe('maxConcurrentChallenges over UDP', () => {
  it('20 agents at once with a limit of 5: 5 challenged, 15 refused; digests completed free the slots', async () => {
    const { trunk } = await trunkWith({ maxConcurrentChallenges: 5, transports: ['udp'] });
    const all = await agents(trunk, 20);
    const first = await Promise.all(all.map((a) => a.request()));
    expect(tally(first)).toEqual({ '401 Unauthorized': 5, [CONCURRENT]: 15 });
    const challenged = all.filter((_, i) => first[i].status === 401);
    const refused = all.filter((_, i) => first[i].status === 403);

    // While the 5 are outstanding, everyone else is still refused; a holder asking again is re-challenged.
    expect(statusLine(await refused[0].request())).toBe(CONCURRENT);
    const again = await challenged[0].request();
    expect(again.status).toBe(401);
    const challenges = [again, ...first.filter((m) => m.status === 401).slice(1)];

    const done = await Promise.all(challenged.map((a, i) => a.request({ challenge: challenges[i] })));
    expect(done.map((m) => m.status)).toEqual([200, 200, 200, 200, 200]);
    const second = await Promise.all(refused.map((a) => a.request()));
    expect(tally(second)).toEqual({ '401 Unauthorized': 5, [CONCURRENT]: 10 });

    const c = trunk.counters();
    expect(c.byMethodStatus).toEqual({ 'REGISTER 401': 11, 'REGISTER 403': 26, 'REGISTER 200': 5 });
    expect(c.byReason).toEqual({ '401 Unauthorized': 11, [CONCURRENT]: 26 });
    expect(c.bindings).toBe(5);
  });

  it('an abandoned handshake frees its slot after challengeTimeoutMs; a late digest is still verified', async () => {
    const { trunk, clock } = await trunkWith({ maxConcurrentChallenges: 1, challengeTimeoutMs: 200, transports: ['udp'] });
    const [a, b] = await agents(trunk, 2);
    const challenge = await a.request();
    expect(challenge.status).toBe(401);
    expect(statusLine(await b.request())).toBe(CONCURRENT);
    clock.advanceMs(199);
    expect(statusLine(await b.request())).toBe(CONCURRENT);
    clock.advanceMs(1);
    expect((await b.request()).status).toBe(401); // a's slot expired: b holds it now
    expect(statusLine(await a.request())).toBe(CONCURRENT);
    expect((await a.request({ challenge })).status).toBe(200); // the limit refuses new handshakes only
    expect(statusLine(await a.request())).toBe(CONCURRENT); // b still outstanding
  });

  it('limit 0 refuses every challenge; OPTIONS without optionsAuth and no-auth trunks are not affected', async () => {
    const { trunk } = await trunkWith({ maxConcurrentChallenges: 0, transports: ['udp'] });
    const [a] = await agents(trunk, 1);
    expect(statusLine(await a.request())).toBe(CONCURRENT);
    expect((await a.request({ method: 'OPTIONS' })).status).toBe(200);
    trunk.configure({ auth: false });
    expect((await a.request()).status).toBe(200);
  });
});

describe('allowlist over real sockets', () => {
  it('UDP: 127.0.0.1 refused by ["127.0.0.2"] for every method, 127.0.0.2 admitted; ["127.0.0.0/8"] admits both', async () => {
    const { trunk } = await trunkWith({ allowlist: ['127.0.0.2'] });
    const [outside] = await agents(trunk, 1);
    const [inside] = await agents(trunk, 1, { bind: '127.0.0.2' });
    for (const method of ['REGISTER', 'OPTIONS'] as const) expect(statusLine(await outside.request({ method }))).toBe(WHITELIST);
    expect((await inside.request()).status).toBe(401);
    trunk.configure({ allowlist: ['127.0.0.0/8'] });
    expect((await outside.request()).status).toBe(401);
    expect(trunk.counters().byReason).toEqual({ [WHITELIST]: 2, '401 Unauthorized': 2 });
  });

  it('TCP: the connection source decides', async () => {
    const { trunk } = await trunkWith({ allowlist: ['127.0.0.2/32'] });
    const [outside] = await agents(trunk, 1, { protocol: 'tcp' });
    const [inside] = await agents(trunk, 1, { protocol: 'tcp', bind: '127.0.0.2' });
    expect(statusLine(await outside.request())).toBe(WHITELIST);
    const challenge = await inside.request();
    expect(challenge.status).toBe(401);
    expect((await inside.request({ challenge })).status).toBe(200);
  });

  it('IPv6 on ::1: ["::1"] admits, ["fd00::/8", "127.0.0.1"] refuses, over UDP and TCP', async () => {
    const { trunk } = await trunkWith({ host: '::1', allowlist: ['::1'] });
    const udp = await agents(trunk, 1);
    const tcp = await agents(trunk, 1, { protocol: 'tcp' });
    for (const [a] of [udp, tcp]) expect((await a.request()).status).toBe(401);
    trunk.configure({ allowlist: ['fd00::/8', '127.0.0.1'] });
    for (const [a] of [udp, tcp]) expect(statusLine(await a.request())).toBe(WHITELIST);
    trunk.configure({ allowlist: null });
    expect((await udp[0].request()).status).toBe(401);
  });
});

describe('control API', () => {
  it('POST /config sets and clears both switches at run time; bad values 400 and change nothing', async () => {
    const { trunk } = await trunkWith({ transports: ['udp'] });
    const api = await startControlApi(trunk, 0);
    cleanups.push(() => api.close());
    const post = async (body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${api.port}/config`, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const [a, b] = await agents(trunk, 2);
    expect((await a.request()).status).toBe(401);
    expect((await b.request()).status).toBe(401);

    const set = await post({ maxConcurrentChallenges: 1, challengeTimeoutMs: 60_000 });
    expect(set).toMatchObject({ status: 200, json: { maxConcurrentChallenges: 1, challengeTimeoutMs: 60_000 } });
    expect((await a.request()).status).toBe(401); // a changed limit starts with no handshake outstanding
    expect(statusLine(await b.request())).toBe(CONCURRENT);

    expect(await post({ allowlist: ['10.0.0.0/8', '::1'] })).toMatchObject({ status: 200, json: { allowlist: ['10.0.0.0/8', '::1'] } });
    expect(statusLine(await b.request({ method: 'OPTIONS' }))).toBe(WHITELIST);

    const before = await (await fetch(`http://127.0.0.1:${api.port}/config`)).json();
    expect(await post({ allowlist: ['10.0.0.0/40'] })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/allowlist: "10.0.0.0\/40"/) } });
    expect(await post({ maxConcurrentChallenges: -2 })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/maxConcurrentChallenges/) } });
    expect(await (await fetch(`http://127.0.0.1:${api.port}/config`)).json()).toEqual(before);

    expect(await post({ allowlist: null, maxConcurrentChallenges: null })).toMatchObject({ status: 200, json: { allowlist: null, maxConcurrentChallenges: null } });
    expect((await b.request()).status).toBe(401);
    const counters = (await (await fetch(`http://127.0.0.1:${api.port}/counters`)).json()) as { byReason: Record<string, number> };
    expect(counters.byReason).toEqual({ '401 Unauthorized': 4, [CONCURRENT]: 1, [WHITELIST]: 1 });
  });
});
