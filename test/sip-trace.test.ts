// SipTrace: a real digest exchange with the embedded trunk over loopback UDP, written in ngrep's text
// form with every digest secret blanked; agent selection by name and by a stable sample.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../src/shared/clock.js';
import { buildRequest } from '../src/sip/builder.js';
import { buildAuthorization, parseChallenge } from '../src/sip/digest.js';
import { formatTime, parseTraceAgents, parseTraceSample, redactSipMessage, SipTrace } from '../src/run/sip-trace.js';
import { EmbeddedTrunk } from '../src/trunk/server.js';

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-trace-'));
let trunk: EmbeddedTrunk;
beforeAll(async () => {
  trunk = await EmbeddedTrunk.start({ port: 0, users: 10, minExpires: 1 });
});
afterAll(async () => {
  await trunk?.stop();
});

/** REGISTER, 401, REGISTER with Authorization, 200: the four buffers as they crossed the wire. */
async function digestExchange(user: string, password: string) {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const local = { host: '127.0.0.1', port: sock.address().port };
  const remote = { host: trunk.address.host, port: trunk.address.port };
  const request = (cseq: number, authorization?: string) =>
    buildRequest({
      method: 'REGISTER',
      requestUri: `sip:${remote.host}`,
      viaProtocol: 'UDP',
      viaHost: local.host,
      viaPort: local.port,
      branch: `z9hG4bK-trace-${cseq}`,
      fromUri: `sip:${user}@${remote.host}`,
      fromTag: 'ft1',
      toUri: `sip:${user}@${remote.host}`,
      callId: 'trace-call-1',
      cseq,
      contactUri: `sip:${user}@${local.host}:${local.port}`,
      expires: 60,
      authorization: authorization ? { proxy: false, value: authorization } : undefined,
      userAgent: 'sipstorm-test',
    });
  const exchange = (buf: Buffer) =>
    new Promise<Buffer>((resolve) => {
      sock.once('message', (m) => resolve(m));
      sock.send(buf, remote.port, remote.host);
    });
  const first = request(1);
  const challenge = await exchange(first);
  const wwwAuth = /^WWW-Authenticate:\s*(.*)\r$/im.exec(challenge.toString())![1];
  const ch = parseChallenge(wwwAuth, false)!;
  const authValue = buildAuthorization(ch, user, password, 'REGISTER', `sip:${remote.host}`, 1, 'c0ffee12345678');
  const second = request(2, authValue);
  const ok = await exchange(second);
  sock.close();
  const response = /response="([0-9a-f]+)"/.exec(authValue)![1];
  return { local, remote, first, challenge, second, ok, nonce: ch.nonce, response, cnonce: 'c0ffee12345678' };
}

describe('SipTrace', () => {
  it('writes an ngrep/sngrep text trace of a real digest exchange, secrets blanked', async () => {
    const x = await digestExchange('agent0003', 'secret0003');
    expect(x.ok.toString()).toMatch(/^SIP\/2.0 200/);
    const file = join(dir, 'trace.txt');
    const trace = new SipTrace({ file, agents: ['agent0003'], local: x.local });
    expect(trace.shouldTrace(3, 'agent0003')).toBe(true);
    const t0 = realClock.nowUs();
    trace.sent(3, x.first, x.remote, t0);
    trace.received(3, x.challenge, x.remote, t0 + 150);
    trace.sent(3, x.second, x.remote, t0 + 400);
    trace.received(3, x.ok, x.remote, t0 + 900);
    trace.close();
    const text = readFileSync(file, 'utf8');

    const blocks = text.split(/\n(?=[UT] \d{4}\/)/);
    expect(blocks).toHaveLength(4);
    const header = /^U (\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6}) (\S+) -> (\S+)\n/;
    const heads = blocks.map((b) => header.exec(b)!);
    expect(heads.every((h) => h !== null)).toBe(true);
    const us = `${x.local.host}:${x.local.port}`;
    const them = `${x.remote.host}:${x.remote.port}`;
    expect(heads.map((h) => [h[2], h[3]])).toEqual([
      [us, them],
      [them, us],
      [us, them],
      [them, us],
    ]);
    // Time of day with microseconds, in order; the first within a few seconds of now.
    expect(heads.map((h) => h[1].slice(-6))).toEqual(heads.map((h) => h[1].slice(-6)).slice().sort());
    const wallNow = formatTime(Date.now() * 1000);
    expect(heads[0][1].slice(0, 16)).toBe(wallNow.slice(0, 16));
    expect(blocks[0]).toMatch(/\nREGISTER sip:127.0.0.1 SIP\/2.0\nVia: SIP\/2.0\/UDP /);
    expect(blocks[1]).toMatch(/\nSIP\/2.0 401 /);
    expect(blocks[3]).toMatch(/\nSIP\/2.0 200 /);
    expect(text).not.toContain('\r');
    // Each message ends with its own blank line, then the blank line that separates entries.
    expect(text.endsWith('Content-Length: 0\n\n\n')).toBe(true);
    for (const b of blocks.slice(0, -1)) expect(b).toMatch(/Content-Length: 0\n\n$/);

    // Digest secrets: gone. What a reader needs: kept.
    expect(text).not.toContain(x.nonce);
    expect(text).not.toContain(x.response);
    expect(text).not.toContain(x.cnonce);
    expect(text).not.toContain('secret0003');
    expect(blocks[1]).toMatch(/WWW-Authenticate: Digest realm="[^"]+", nonce="\[redacted\]"/);
    expect(blocks[2]).toMatch(/Authorization: Digest username="agent0003", realm="[^"]+", nonce="\[redacted\]", uri="sip:127.0.0.1", response="\[redacted\]", algorithm=MD5/);
    expect(blocks[2]).toMatch(/cnonce="\[redacted\]", qop=auth, nc=00000001/);
    expect(trace.messages).toBe(4);
  });

  it('redacts Proxy-Authorization, folded lines, Basic credentials and unknown parameters', () => {
    const msg = [
      'OPTIONS sip:a@b SIP/2.0',
      'Proxy-Authorization: Digest username="u1", realm="r", nonce="n0nce1",',
      '  response="abcdef0123", opaque="op4que", x-token=zzz9',
      'authorization: Basic dXNlcjpwYXNzd29yZA==',
      'Proxy-Authenticate: Digest realm="r", nonce="n0nce2", opaque="op2", stale=true, algorithm=SHA-256',
      'Authentication-Info: nextnonce="n0nce3", rspauth="rsp1", cnonce="cn1", nc=00000002',
      'X-Debug: password=hunter2',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const out = redactSipMessage(msg);
    for (const secret of ['n0nce1', 'abcdef0123', 'op4que', 'zzz9', 'dXNlcjpwYXNzd29yZA', 'n0nce2', 'op2', 'n0nce3', 'rsp1', 'cn1', 'hunter2']) {
      expect(out, secret).not.toContain(secret);
    }
    expect(out).toContain('Proxy-Authorization: Digest username="u1", realm="r", nonce="[redacted]",');
    expect(out).toContain('authorization: Basic [redacted]\r\n');
    expect(out).toContain('stale=true, algorithm=SHA-256');
    expect(out).toContain('nc=00000002');
    expect(out.split('\r\n')).toHaveLength(msg.split('\r\n').length);
  });

  it('chooses agents by name, or a stable sample of the given share', () => {
    const file = join(dir, 'sample.txt');
    const byName = new SipTrace({ file, agents: parseTraceAgents('agent0003, agent0007') });
    expect([0, 3, 7, 8].map((i) => byName.shouldTrace(i, `agent${String(i).padStart(4, '0')}`))).toEqual([false, true, true, false]);
    byName.close();
    const sampled = new SipTrace({ file, sample: parseTraceSample('5%') });
    const chosen = Array.from({ length: 4000 }, (_, i) => i).filter((i) => sampled.shouldTrace(i, `agent${i}`));
    sampled.close();
    expect(chosen.length).toBeGreaterThan(150); // 5 % of 4000 = 200
    expect(chosen.length).toBeLessThan(250);
    const again = new SipTrace({ file, sample: 0.05 });
    expect(Array.from({ length: 4000 }, (_, i) => i).filter((i) => again.shouldTrace(i, ''))).toEqual(chosen);
    again.close();
    expect(parseTraceSample('0.5')).toBe(0.5);
    expect(() => parseTraceSample('150%')).toThrow(/--trace-sample: expected a share of agents like 5%/);
    expect(() => parseTraceSample('lots')).toThrow(/--trace-sample/);
    expect(() => parseTraceAgents(' , ')).toThrow(/--trace-agents/);
  });

  it('IPv6 addresses in brackets, TCP as T', () => {
    const file = join(dir, 'v6.txt');
    const trace = new SipTrace({ file, protocol: 'tcp', local: { host: '::1', port: 40000 } });
    trace.sent(0, Buffer.from('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n'), { host: '::1', port: 5060 }, realClock.nowUs());
    trace.close();
    expect(readFileSync(file, 'utf8')).toMatch(/^T \S+ \S+ \[::1\]:40000 -> \[::1\]:5060\nOPTIONS sip:x SIP\/2.0\nContent-Length: 0\n\n\n$/);
  });
});
