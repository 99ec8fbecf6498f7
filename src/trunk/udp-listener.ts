// The trunk's UDP side behind one small interface. node:dgram costs a libuv callback, a JS call and a
// send per datagram; at 20k+ requests/s that made the trunk the bottleneck of a benchmark (its socket
// overflowed first). With the native addon the listener is batched (udp-batch-listener.ts): one
// recvmmsg per wake-up and one sendmmsg for every answer that wake-up produced. node:dgram stays the
// fallback when the addon is not built, and can be chosen (`serve --io dgram`).
import { createSocket } from 'node:dgram';
import { udpBatchUnavailableReason } from '../transport/native.js';
import { listenUdpBatch } from './udp-batch-listener.js';

/** Answers one datagram: the response to send back now, or null (none, or the caller sends it later). */
export type DatagramAnswer = (data: Buffer, host: string, port: number) => Buffer | null;

export type UdpIo = 'batch' | 'dgram';

export interface UdpListener {
  readonly io: UdpIo;
  readonly port: number;
  /** Sends one datagram outside an answer (a response held back for a delay). Never throws. */
  sendTo(data: Buffer, port: number, host: string): void;
  close(): Promise<void>;
}

export const UDP_BUFFER_BYTES = 8 * 1024 * 1024;

/** Binds host:port (0 = ephemeral). `io` undefined: batched when the addon loads, else node:dgram. */
export async function listenUdp(host: string, port: number, io: UdpIo | undefined, answer: DatagramAnswer): Promise<UdpListener> {
  if (io !== 'dgram') {
    const unavailable = udpBatchUnavailableReason();
    if (unavailable === undefined) return listenUdpBatch(host, port, UDP_BUFFER_BYTES, answer);
    if (io === 'batch') throw new Error(`--io batch: the native UDP addon is not available (${unavailable}); run npm run build:native`);
  }
  return listenUdpDgram(host, port, answer);
}

async function listenUdpDgram(host: string, port: number, answer: DatagramAnswer): Promise<UdpListener> {
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const sendTo = (data: Buffer, toPort: number, toHost: string): void => {
    try {
      socket.send(data, toPort, toHost);
    } catch {
      // closed while a delayed response was pending
    }
  };
  socket.on('message', (data, rinfo) => {
    const response = answer(data, rinfo.address, rinfo.port);
    if (response) sendTo(response, rinfo.port, rinfo.address);
  });
  socket.on('error', () => undefined); // ICMP errors for departed clients: nothing to do
  return {
    io: 'dgram',
    port: socket.address().port,
    sendTo,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())).catch(() => undefined),
  };
}
