import { describe, expect, it } from 'vitest';
import { isLoopback, parseTarget } from '../src/transport/target.js';

describe('parseTarget', () => {
  it('parses each transport with host and port', () => {
    expect(parseTarget('udp:127.0.0.1:5070')).toEqual({ protocol: 'udp', host: '127.0.0.1', port: 5070, text: 'udp:127.0.0.1:5070' });
    expect(parseTarget('tcp:[::1]:5070')).toEqual({ protocol: 'tcp', host: '::1', port: 5070, text: 'tcp:[::1]:5070' });
    expect(parseTarget('tls:sip.example.net:5061')).toMatchObject({ protocol: 'tls', host: 'sip.example.net', port: 5061 });
    expect(parseTarget('ws:127.0.0.1:8080/ws')).toEqual({ protocol: 'ws', host: '127.0.0.1', port: 8080, path: '/ws', text: 'ws:127.0.0.1:8080/ws' });
    expect(parseTarget('wss:[2001:db8::5]:8443/sip/ws')).toMatchObject({ protocol: 'wss', host: '2001:db8::5', port: 8443, path: '/sip/ws' });
  });

  it('applies default ports and paths', () => {
    expect(parseTarget('udp:trunk.example.net').port).toBe(5060);
    expect(parseTarget('tcp:[::1]').port).toBe(5060);
    expect(parseTarget('tls:trunk.example.net').port).toBe(5061);
    expect(parseTarget('ws:10.0.0.1')).toMatchObject({ port: 80, path: '/', text: 'ws:10.0.0.1:80/' });
    expect(parseTarget('wss:10.0.0.1').port).toBe(443);
  });

  it('normalises case, whitespace and a ws:// prefix', () => {
    expect(parseTarget(' UDP:127.0.0.1:5060 ').text).toBe('udp:127.0.0.1:5060');
    expect(parseTarget('ws://127.0.0.1:8080/ws').text).toBe('ws:127.0.0.1:8080/ws');
    expect(parseTarget('tcp:[::FFFF:127.0.0.1]:5060').host).toBe('::FFFF:127.0.0.1');
  });

  it.each([
    ['127.0.0.1:5060', /missing transport prefix|unknown transport/],
    ['', /missing transport prefix/],
    ['sctp:127.0.0.1', /unknown transport "sctp"/],
    ['udp:', /missing host/],
    ['udp::5060', /missing host/],
    ['udp:::1:5070', /IPv6 address must be written in brackets/],
    ['udp:[::1:5070', /unclosed/],
    ['udp:[127.0.0.1]:5070', /not an IPv6 address/],
    ['udp:[::1]5070', /unexpected/],
    ['udp:127.0.0.1:0', /out of range/],
    ['udp:127.0.0.1:65536', /out of range/],
    ['udp:127.0.0.1:50x', /not a number/],
    ['udp:127.0.0.1:-1', /not a number/],
    ['udp:bad_host!:5060', /not a valid host name/],
    ['udp:127.0.0.1:5060/ws', /path is only allowed for ws/],
  ])('rejects %j with a one-line message', (input, message) => {
    let error: unknown;
    try {
      parseTarget(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    const text = (error as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
    expect(text).toContain('expected <udp|tcp|tls|ws|wss>');
  });
});

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'localhost.'])(
    '%s is loopback',
    (host) => expect(isLoopback(host)).toBe(true),
  );
  it.each(['128.0.0.1', '10.0.0.1', '::2', '::', '1::1', 'example.com', 'localhost.example.com', '', '::ffff:10.0.0.1'])(
    '%s is not loopback',
    (host) => expect(isLoopback(host)).toBe(false),
  );
});
