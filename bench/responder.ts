// `sipstorm serve` as the benches' responder, in its own process pinned to core 1: started from CLI
// arguments, waited for through its control API, whose received counter is the benches' common
// denominator (requests that reached the responder, the same count for every generator).
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinned } from './proc.js';

export class Responder {
  private constructor(
    readonly child: ChildProcess,
    private readonly controlPort: number,
  ) {}

  /** `serveArgs` follow `node CLI`: e.g. ['serve', '--port', '5990', ...]; must include --control-port. */
  static async start(cli: string, serveArgs: string[], controlPort: number): Promise<Responder> {
    const [cmd, args] = pinned(1, process.execPath, [cli, ...serveArgs]);
    const responder = new Responder(spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] }), controlPort);
    for (let i = 0; i < 100; i++) {
      try {
        await responder.received();
        return responder;
      } catch {
        await sleep(100);
      }
    }
    responder.child.kill();
    throw new Error('responder did not start');
  }

  /** Requests received so far, every method. */
  async received(): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${this.controlPort}/counters`);
    const counters = (await res.json()) as { received: Record<string, number> };
    return Object.values(counters.received).reduce((a, b) => a + b, 0);
  }

  async reset(): Promise<void> {
    await fetch(`http://127.0.0.1:${this.controlPort}/reset`, { method: 'POST' });
  }
}
