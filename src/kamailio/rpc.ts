// Kamailio's JSON-RPC (jsonrpcs module over xhttp) on its loopback control port.
import { request } from 'node:http';

export class KamailioRpcError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

export class KamailioRpc {
  private nextId = 1;

  /** `url` like http://127.0.0.1:8080/RPC */
  constructor(
    readonly url: string,
    private readonly timeoutMs = 5000,
  ) {}

  call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: this.nextId++ });
    const url = new URL(this.url);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          // One short request per call: no keep-alive pool left behind to hold the process open.
          agent: false,
          timeout: this.timeoutMs,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new KamailioRpcError(`${method}: HTTP ${res.statusCode} ${text.trim()}`));
            let doc: { result?: T; error?: { code?: number; message?: string } };
            try {
              doc = JSON.parse(text);
            } catch {
              return reject(new KamailioRpcError(`${method}: not JSON: ${text.slice(0, 200)}`));
            }
            if (doc.error) return reject(new KamailioRpcError(`${method}: ${doc.error.message ?? 'error'}`, doc.error.code));
            resolve(doc.result as T);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new KamailioRpcError(`${method}: no answer from ${this.url} within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof KamailioRpcError ? err : new KamailioRpcError(`${method}: ${this.url}: ${err.message}`)));
      req.end(body);
    });
  }

  async setInt(table: string, key: string, value: number): Promise<void> {
    await this.call('htable.seti', [table, key, value]);
  }

  async flush(table: string): Promise<void> {
    await this.call('htable.flush', [table]);
  }

  /** A whole htable as key -> value (integers; string values are returned as they are). */
  async dumpTable(table: string): Promise<Record<string, number>> {
    const slots = await this.call<{ slot?: { name: string; value: number | string }[] }[]>('htable.dump', [table]);
    const out: Record<string, number> = {};
    for (const entry of slots ?? []) for (const item of entry.slot ?? []) out[item.name] = Number(item.value);
    return out;
  }

  /** `stats.get_statistics all` as name -> value ("core:rcv_requests_register" -> 12). */
  async statistics(): Promise<Record<string, number>> {
    const lines = await this.call<string[]>('stats.get_statistics', ['all']);
    const out: Record<string, number> = {};
    for (const line of lines ?? []) {
      const eq = line.lastIndexOf(' = ');
      if (eq > 0) out[line.slice(0, eq)] = Number(line.slice(eq + 3));
    }
    return out;
  }
}
