// The raw peer addresses the native addon writes per datagram, read back as the text node:dgram gives.
import fc from 'fast-check';
import { SocketAddress } from 'node:net';
import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatIpv6, SockaddrReader } from '../src/transport/sockaddr.js';

function sockaddr(family: 2 | 10, port: number, addr: number[]): Uint8Array {
  const b = new Uint8Array(32);
  if (endianness() === 'LE') b.set([family & 0xff, family >> 8], 0);
  else b.set([family >> 8, family & 0xff], 0);
  b.set([port >> 8, port & 0xff], 2);
  b.set(addr, family === 2 ? 4 : 8);
  return b;
}

describe('SockaddrReader', () => {
  it('reads IPv4 and IPv6 peers at an offset; another family is refused', () => {
    const names = new Uint8Array(96);
    names.set(sockaddr(2, 5060, [127, 0, 0, 1]), 0);
    names.set(sockaddr(10, 40000, [...Array(15).fill(0), 1]), 32);
    names.set([1, 0, 0x12, 0x34], 64); // AF_UNIX
    const reader = new SockaddrReader();
    expect([reader.host(names, 0), reader.port(names, 0)]).toEqual(['127.0.0.1', 5060]);
    expect(reader.host(names, 0)).toBe('127.0.0.1'); // the cached text
    expect([reader.host(names, 32), reader.port(names, 32)]).toEqual(['::1', 40000]);
    expect([reader.host(names, 64), reader.port(names, 64)]).toEqual(['', -1]);
  });

  it('IPv6: alternating peers each read as their own address (the kept last one is not reused for another)', () => {
    const reader = new SockaddrReader();
    const a = sockaddr(10, 1, [...Array(15).fill(0), 1]);
    const b = sockaddr(10, 2, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 7]);
    expect([a, b, a, a, b].map((n) => reader.host(n, 0))).toEqual(['::1', '2001:db8::7', '::1', '::1', '2001:db8::7']);
  });

  it('IPv4: every address and port reads back as written', () => {
    const reader = new SockaddrReader();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 65535 }), (addr, port) => {
        const b = sockaddr(2, port, addr);
        expect(reader.host(b, 0)).toBe(addr.join('.'));
        expect(reader.port(b, 0)).toBe(port);
      }),
    );
  });
});

describe('formatIpv6', () => {
  it('matches libuv (what node:dgram reports) for any address, zero runs and IPv4 tails included', () => {
    // Groups drawn mostly from {0, 0xffff, small}, so runs of zeros and the mapped/compatible forms are common.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const bytes = new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]));
        const full = groups.map((g) => g.toString(16)).join(':');
        expect(formatIpv6(bytes, 0)).toBe(new SocketAddress({ address: full, family: 'ipv6' }).address);
      }),
      { numRuns: 3000 },
    );
  });

  it('known forms', () => {
    const of = (text: string) => {
      const groups = text.split(':').map((g) => parseInt(g, 16));
      return formatIpv6(new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff])), 0);
    };
    expect(of('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(of('0:0:0:0:0:0:0:0')).toBe('::');
    expect(of('0:0:0:0:0:ffff:7f00:1')).toBe('::ffff:127.0.0.1');
    expect(of('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(of('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(of('2001:0:1:2:3:4:5:6')).toBe('2001:0:1:2:3:4:5:6');
  });
});
