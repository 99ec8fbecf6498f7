// A StreamLink over a byte stream (net.Socket for TCP, tls.TLSSocket for TLS): bytes are cut into
// SIP messages by Content-Length (StreamFramer), one framer per connection.
import type { Socket } from 'node:net';
import { StreamFramer } from './framing.js';
import type { LinkEvents, StreamLink } from './stream-pool.js';

/**
 * Wires `socket` to `ev`: ready on `readyEvent` ('connect' or 'secureConnect'), messages framed,
 * errors named by `describe` (told whether the connection was ready yet), close once.
 */
export function framedSocketLink(
  socket: Socket,
  readyEvent: 'connect' | 'secureConnect',
  ev: LinkEvents,
  describe: (err: NodeJS.ErrnoException, ready: boolean) => string,
  maxMessageBytes?: number,
): StreamLink {
  const framer = new StreamFramer(maxMessageBytes);
  let framerErrors = 0;
  let ready = false;
  socket.setNoDelay(true);
  socket.on(readyEvent, () => {
    ready = true;
    ev.ready({ host: socket.localAddress ?? '', port: socket.localPort ?? 0 });
  });
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    for (let m = framer.next(); m !== null; m = framer.next()) ev.message(m);
    if (framer.errors !== framerErrors) {
      ev.framingErrors(framer.errors - framerErrors);
      framerErrors = framer.errors;
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => ev.error(describe(err, ready)));
  socket.on('close', () => ev.close());
  return {
    write: (data) => void socket.write(data),
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
  };
}
