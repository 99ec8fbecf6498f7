// The `sipstorm run` flags for pipelines and live views: --threshold, --prometheus, --trace with
// --trace-agents / --trace-sample. Everything is checked and opened before the load starts (a typo or a
// busy port costs no test run), handed to executeRun as hooks, and closed afterwards.
import type { Argv } from 'yargs';
import type { RunResult } from '../report/result.js';
import type { ExecuteHooks } from '../run/execute.js';
import { PrometheusServer } from '../run/prometheus-server.js';
import { parseTraceAgents, parseTraceSample, SipTrace } from '../run/sip-trace.js';
import { EXIT_OK } from './output.js';
import { UsageError } from './units.js';
import { checkThresholdSyntax, judge as judgeThresholds, reportSaturation, reportThresholds, thresholdList } from './verdict.js';

export function addRunExtrasOptions<T>(y: Argv<T>) {
  return y
    .option('threshold', { type: 'string', array: true, describe: "Pass/fail check on the result, e.g. 'p99<200ms', 'rate(forbidden)<0.01', 'count(503)==0' (repeatable; exit 3 when one fails)" })
    .option('prometheus', { type: 'number', describe: 'Serve live metrics at http://127.0.0.1:PORT/metrics while the run goes' })
    .option('trace', { type: 'string', describe: 'Write the SIP messages of chosen agents (--trace-agents / --trace-sample) to this file, ngrep text format, credentials redacted' })
    .option('trace-agents', { type: 'string', describe: 'Agents to trace by user name, e.g. agent0003,agent0007' })
    .option('trace-sample', { type: 'string', describe: 'Share of agents to trace, e.g. 5% (the same agents every run)' });
}

interface ExtrasArgs {
  threshold?: unknown;
  prometheus?: number;
  trace?: string;
  'trace-agents'?: string;
  'trace-sample'?: string;
}

export interface RunExtras {
  hooks: Pick<ExecuteHooks, 'onEngine' | 'trace'>;
  /** Judges the thresholds into the result (before it is written). */
  judge(result: RunResult): void;
  /** Saturation warnings and threshold failures on stderr; the exit code (3 when a threshold failed). */
  verdict(result: RunResult, exitCode: number): number;
  close(): Promise<void>;
}

/** `scenarioThresholds`: a scenario's `thresholds:`, judged together with --threshold. */
export async function startRunExtras(argv: object, scenarioThresholds: readonly string[] = []): Promise<RunExtras> {
  const args = argv as ExtrasArgs;
  const expressions = [...scenarioThresholds, ...thresholdList(args.threshold)];
  checkThresholdSyntax(expressions);
  if ((args['trace-agents'] !== undefined || args['trace-sample'] !== undefined) && !args.trace) throw new UsageError('--trace-agents and --trace-sample need --trace FILE');
  let agents: string[] | undefined;
  let sample: number | undefined;
  try {
    agents = args['trace-agents'] !== undefined ? parseTraceAgents(args['trace-agents']) : undefined;
    sample = args['trace-sample'] !== undefined ? parseTraceSample(args['trace-sample']) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (args.trace && agents === undefined && sample === undefined) throw new UsageError('--trace needs --trace-agents NAMES or --trace-sample SHARE (tracing every agent would slow the run)');
  if (args.prometheus !== undefined && !(Number.isInteger(args.prometheus) && args.prometheus >= 0 && args.prometheus <= 65535)) {
    throw new UsageError(`--prometheus must be a port 0..65535, got ${args.prometheus}`);
  }
  let trace: SipTrace | undefined;
  try {
    trace = args.trace ? new SipTrace({ file: args.trace, agents, sample }) : undefined;
  } catch (err) {
    throw new UsageError(`--trace: cannot write ${args.trace}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let prometheus: PrometheusServer | undefined;
  if (args.prometheus !== undefined) {
    try {
      prometheus = await PrometheusServer.start(args.prometheus);
    } catch (err) {
      trace?.close();
      throw new UsageError((err as Error).message);
    }
    process.stderr.write(`metrics at http://127.0.0.1:${prometheus.port}/metrics\n`);
  }
  return {
    hooks: {
      trace,
      onEngine: prometheus
        ? (engine) => prometheus.attach({ liveCounts: (bounds) => engine.metrics.liveCounts(bounds), outstanding: () => engine.transactions?.outstanding ?? 0 })
        : undefined,
    },
    judge: (result) => void judgeThresholds(result, expressions),
    verdict(result, exitCode) {
      reportSaturation(result, process.stderr);
      const thresholdCode = reportThresholds(result.thresholds ?? [], process.stderr);
      // An interrupted run (130) or a failed one keeps its code: its thresholds judged a partial run.
      return exitCode === EXIT_OK ? thresholdCode : exitCode;
    },
    async close() {
      trace?.close();
      await prometheus?.close();
    },
  };
}
