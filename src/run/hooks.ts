// SUT hooks: at set moments of a run (relative to T0 or the schedule start), do something to the
// system under test: a shell command, a switch change on the embedded trunk, or a Kamailio JSON-RPC
// call. One timer per hook; each run is recorded (HookRecord) for the timeline. A hook that fails or
// times out is recorded as such and never throws out of the runner: the load run goes on.
import { KamailioRpc } from '../kamailio/rpc.js';
import type { HookRecord } from '../report/scenario-result.js';
import type { HookSpec } from '../scenario/types.js';
import type { Clock } from '../shared/clock.js';
import { redactCredentials } from '../shared/redact.js';
import { OUTPUT_LIMIT_CHARS, runShell } from './hook-shell.js';

/** Longest single setTimeout Node allows (~24.8 days); a later hook re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_KILL_GRACE_MS = 1000;

export interface HookLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface HookDeps {
  /** The embedded trunk (trunk hooks); absent when the run targets a real SUT. */
  trunk?: { configure(switches: Record<string, unknown>): unknown };
  /** Default Kamailio JSON-RPC endpoint (the one sipstorm started), for hooks that give no url. */
  kamailioUrl?: string;
  log: HookLog;
  /** The schedule start on `clock` (µs): hook times and records are measured from it. */
  scheduleStartUs: number;
  /** Offset of T0 from the schedule start (µs); needed by hooks timed from T0. */
  t0Us?: number;
  clock: Clock;
  /** Between SIGTERM and SIGKILL for a shell hook past its timeout (default 1000 ms). */
  killGraceMs?: number;
}

type Outcome = Pick<HookRecord, 'ok' | 'exitCode' | 'output' | 'error'>;

const PENDING = 0;
const RUNNING = 1;
const DONE = 2;

export class HookRunner {
  private readonly timers: (NodeJS.Timeout | undefined)[];
  private readonly state: Uint8Array;
  private readonly done: { index: number; record: HookRecord }[] = [];
  private readonly running = new Set<Promise<void>>();
  private started = false;
  private stopped = false;

  constructor(
    private readonly hooks: HookSpec[],
    private readonly deps: HookDeps,
  ) {
    this.timers = new Array(hooks.length).fill(undefined);
    this.state = new Uint8Array(hooks.length);
  }

  /** Arms one timer per hook; a hook whose time has already come (negative offsets, T0 passed) runs at once. */
  start(): void {
    if (this.started) throw new Error('HookRunner.start() called twice');
    this.started = true;
    for (let i = 0; i < this.hooks.length; i++) {
      const hook = this.hooks[i];
      const atMs = this.intendedMs(hook);
      if (atMs === undefined) {
        const now = this.sinceStartMs();
        this.finish(i, { name: hook.name, kind: hook.action.kind, atMs: now, startedMs: now, endedMs: now, ok: false, error: `hook "${hook.name}" is timed from T0 but the scenario has no t0` });
        continue;
      }
      this.arm(i, atMs);
    }
  }

  /** Cancels the hooks not yet due (recorded as not run) and waits for the running ones (bounded by their timeouts). */
  async stop(): Promise<void> {
    if (this.stopped) return this.waitRunning();
    this.stopped = true;
    const now = this.sinceStartMs();
    for (let i = 0; i < this.hooks.length; i++) {
      clearTimeout(this.timers[i]);
      this.timers[i] = undefined;
      if (this.state[i] !== PENDING || !this.started) continue;
      const hook = this.hooks[i];
      const atMs = this.intendedMs(hook) ?? now;
      this.finish(i, { name: hook.name, kind: hook.action.kind, atMs, startedMs: now, endedMs: now, ok: false, error: `not run: the run ended ${round3(atMs - now)} ms before its time` });
    }
    await this.waitRunning();
  }

  /** Finished hooks, by intended time (then by their order in the scenario). */
  records(): HookRecord[] {
    return [...this.done].sort((a, b) => a.record.atMs - b.record.atMs || a.index - b.index).map((d) => d.record);
  }

  private async waitRunning(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Intended time in ms since the schedule start, or undefined for a T0 hook without a T0. */
  private intendedMs(hook: HookSpec): number | undefined {
    if (hook.at.from === 'start') return hook.at.offsetMs;
    return this.deps.t0Us === undefined ? undefined : this.deps.t0Us / 1000 + hook.at.offsetMs;
  }

  private sinceStartMs(): number {
    return round3((this.deps.clock.nowUs() - this.deps.scheduleStartUs) / 1000);
  }

  private arm(i: number, atMs: number): void {
    this.timers[i] = undefined;
    if (this.stopped) return;
    const waitMs = atMs - this.sinceStartMs();
    if (waitMs <= 0) return this.launch(i, atMs);
    // Re-checked when it fires: timers may fire a little early, and long waits come in pieces.
    const timer = setTimeout(() => this.arm(i, atMs), Math.min(Math.ceil(waitMs), MAX_TIMER_MS));
    // Hooks belong to a run, whose sockets keep the process alive; a forgotten runner must not.
    timer.unref();
    this.timers[i] = timer;
  }

  private launch(i: number, atMs: number): void {
    this.state[i] = RUNNING;
    const hook = this.hooks[i];
    const run: Promise<void> = this.execute(hook, atMs)
      .then((record) => this.finish(i, record))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private finish(i: number, record: HookRecord): void {
    this.state[i] = DONE;
    this.done.push({ index: i, record });
    const fields = { hook: record.name, kind: record.kind, atMs: record.atMs, tookMs: round3(record.endedMs - record.startedMs), exitCode: record.exitCode };
    try {
      if (record.ok) this.deps.log.info(fields, 'hook done');
      else this.deps.log.warn({ ...fields, error: record.error }, 'hook failed');
    } catch {
      // a broken log sink must not stop the run; the record is kept
    }
  }

  private async execute(hook: HookSpec, atMs: number): Promise<HookRecord> {
    const startedMs = this.sinceStartMs();
    let outcome: Outcome;
    try {
      outcome = await this.act(hook);
    } catch (err) {
      outcome = { ok: false, error: redactCredentials(errorText(err)) };
    }
    const record: HookRecord = { name: hook.name, kind: hook.action.kind, atMs: round3(atMs), startedMs, endedMs: this.sinceStartMs(), ok: outcome.ok };
    if (outcome.exitCode !== undefined) record.exitCode = outcome.exitCode;
    if (outcome.output) record.output = outcome.output;
    if (outcome.error) record.error = outcome.error;
    return record;
  }

  private async act(hook: HookSpec): Promise<Outcome> {
    const action = hook.action;
    switch (action.kind) {
      case 'shell': {
        const r = await runShell(action.command, hook.timeoutMs, this.deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
        const out: Outcome = { ok: !r.timedOut && !r.error && r.exitCode === 0, exitCode: r.exitCode, output: r.output };
        if (r.error) out.error = r.error;
        else if (r.timedOut) out.error = `timed out after ${hook.timeoutMs} ms: killed (${r.signal ?? 'SIGTERM'})`;
        else if (r.signal) out.error = `killed by ${r.signal}`;
        else if (r.exitCode !== 0) out.error = `exit code ${r.exitCode}`;
        return out;
      }
      case 'trunk': {
        const trunk = this.deps.trunk;
        if (!trunk) return { ok: false, error: 'trunk hook needs the embedded trunk, but this run targets a real SUT: use a shell or kamailio hook to change it' };
        // In-process configure() is synchronous; a remote control client may return a promise.
        await withTimeout(Promise.resolve(trunk.configure(action.switches)), hook.timeoutMs, 'trunk configure');
        return { ok: true, output: headOutput(JSON.stringify(action.switches)) };
      }
      case 'kamailio': {
        const url = action.url ?? this.deps.kamailioUrl;
        if (!url) return { ok: false, error: `kamailio hook "${hook.name}" has no url, and sipstorm started no Kamailio to default to` };
        const result = await withTimeout(new KamailioRpc(url, hook.timeoutMs).call(action.method, action.params), hook.timeoutMs, action.method);
        return { ok: true, output: headOutput(JSON.stringify(result) ?? 'null') };
      }
    }
  }
}

/** Resolves or rejects with `work`, or rejects once `ms` have passed (the work itself is left to end). */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}

/** An answer body: redacted first, then its first OUTPUT_LIMIT_CHARS. */
function headOutput(text: string): string {
  const clean = redactCredentials(text);
  return clean.length > OUTPUT_LIMIT_CHARS ? `${clean.slice(0, OUTPUT_LIMIT_CHARS)}…` : clean;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
