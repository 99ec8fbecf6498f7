// Before a run, one OPTIONS must get any SIP response: a wrong port or a dead trunk is reported as
// one clear error instead of a run full of timeouts.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { buildRequest } from '../sip/builder.js';
import { parseSipMessage } from '../sip/parser.js';
import { newBranch, newCallId, newTag } from '../sip/random.js';
import type { TargetSpec } from '../transport/transport.js';
import { createTransport } from '../transport/index.js';
import type { TlsClientOptions } from '../transport/tls-options.js';
import { hostForUri } from '../sip/agent.js';

export async function probeTarget(target: TargetSpec, timeoutMs: number, tls?: TlsClientOptions): Promise<void> {
  const ipv6 = target.host.includes(':');
  const localHost = ipv6 ? '::1' : '127.0.0.1';
  const build = (viaProtocol: string, port: number) =>
    buildRequest({
      method: 'OPTIONS',
      requestUri: `sip:${hostForUri(target.host)}:${target.port}`,
      viaProtocol,
      viaHost: localHost,
      viaPort: port,
      branch: newBranch(),
      fromUri: `sip:probe@${hostForUri(target.host)}`,
      fromTag: newTag(),
      toUri: `sip:${hostForUri(target.host)}`,
      callId: newCallId(localHost),
      cseq: 1,
      userAgent: 'sipstorm-probe',
    });
  const unusable = (why: string) => new Error(`target ${target.text} is not usable: ${why}`);

  if (target.protocol === 'udp') {
    const socket = createSocket(ipv6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, localHost, () => resolve());
      });
      await new Promise<void>((resolve, reject) => {
        // Retransmit like Timer E so one lost datagram does not fail the probe.
        let wait = 250;
        const message = build('UDP', socket.address().port);
        const send = () => socket.send(message, target.port, target.host, () => undefined);
        let retry = setTimeout(function again() {
          send();
          wait *= 2;
          retry = setTimeout(again, wait);
        }, wait);
        const deadline = setTimeout(() => done(unusable(`no SIP response to OPTIONS within ${timeoutMs} ms over UDP`)), timeoutMs);
        socket.on('message', (data) => {
          if (parseSipMessage(data).ok) done();
        });
        socket.on('error', (err) => done(unusable(err.message)));
        function done(err?: Error) {
          clearTimeout(retry);
          clearTimeout(deadline);
          if (err) reject(err);
          else resolve();
        }
        send();
      });
    } finally {
      socket.close();
    }
    return;
  }

  if (target.protocol === 'tcp') {
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port });
      const deadline = setTimeout(() => done(unusable(`no SIP response to OPTIONS within ${timeoutMs} ms over TCP`)), timeoutMs);
      let buffered = Buffer.alloc(0);
      socket.on('connect', () => socket.write(build('TCP', socket.localPort ?? 0)));
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.includes('\r\n\r\n') && parseSipMessage(buffered).ok) done();
      });
      socket.on('error', (err) => done(unusable(err.message)));
      function done(err?: Error) {
        clearTimeout(deadline);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      }
    });
  }

  if (target.protocol === 'tls' || target.protocol === 'ws' || target.protocol === 'wss') {
    // Through the run's own transport: the same TLS options, upgrade and framing the load will use.
    let settle: (err?: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    const transport = await createTransport(target, { slots: 1, connectTimeoutMs: timeoutMs, tls }, {
      onMessage: (data) => {
        if (parseSipMessage(data).ok) settle();
      },
      onSlotError: (_slot, reason) => settle(unusable(reason)),
    });
    const deadline = setTimeout(() => settle(unusable(`no SIP response to OPTIONS within ${timeoutMs} ms over ${target.protocol.toUpperCase()}`)), timeoutMs);
    try {
      // Port 0 until connected: the builder leaves it out of the Via (a reliable transport answers on the connection).
      transport.send(0, build(transport.viaProtocol, 0));
      await done;
    } finally {
      clearTimeout(deadline);
      await transport.close();
    }
  }
}
