// The body of a small JSON request to the trunk's control API, read with a size bound so a stray
// client cannot make it buffer without limit.
import type { IncomingMessage } from 'node:http';

/** The body as text, or null when it is over `maxBytes` (the rest is read and dropped). */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > maxBytes ? null : Buffer.concat(chunks).toString('utf8')));
  });
}
