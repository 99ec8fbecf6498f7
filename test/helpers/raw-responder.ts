// A minimal UDP SIP responder for tests that need answers the embedded trunk never gives
// (500, 600, endless challenges, garbage). Each request goes to `answer`, which returns the bytes
// to send back (or null to stay silent).
import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage } from '../../src/sip/parser.js';
import type { SipMessage } from '../../src/sip/message.js';

export interface RawResponder {
  port: number;
  requests: SipMessage[];
  close(): Promise<void>;
}

export async function startRawResponder(answer: (req: SipMessage, from: { address: string; port: number }) => Buffer | null): Promise<RawResponder> {
  const socket: Socket = createSocket('udp4');
  const requests: SipMessage[] = [];
  socket.on('message', (data, rinfo) => {
    const parsed = parseSipMessage(data);
    if (!parsed.ok || parsed.message.kind !== 'request') return;
    requests.push(parsed.message);
    const reply = answer(parsed.message, rinfo);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    requests,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
