// Results for the report tests, built the way a run builds them (MetricsRecorder -> buildRunResult),
// plus the fields a scenario run adds (phases, marks, hooks, thresholds).
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { buildRunResult, type RunMeta, type RunResult } from '../src/report/result.js';
import type { PhaseBlock } from '../src/report/scenario-result.js';
import { replay, START, type MetricEvent } from './metrics-fixtures.js';

export const META: RunMeta = {
  tool: { name: 'sipstorm', version: '0.1.0' },
  target: 'udp:127.0.0.1:5070',
  startedAt: new Date('2025-01-02T03:04:05.678Z'),
  durationMs: 6000,
  config: { agents: 10, rate: 50, method: 'auto', transport: 'udp', password: 'hunter2', trunk: { authorization: 'Digest x', minExpires: 1 } },
  generator: { cpuUserMs: 900, cpuSystemMs: 300, maxRssBytes: 80 * 1024 * 1024 },
};

export function resultFromEvents(events: readonly MetricEvent[], meta: Partial<RunMeta> = {}): RunResult {
  return buildRunResult(replay(new MetricsRecorder({ startUs: START }), events).snapshot(), { ...META, ...meta });
}

const s = (sec: number) => START + sec * 1_000_000;

/** 4 s: logins OK, then at T0 = 2 s a publish: 403 Forbidden and 429s, one timeout; two phases. */
export function publishResult(): RunResult {
  const r = new MetricsRecorder({ startUs: START });
  const outcome = (method: string, cls: Parameters<MetricsRecorder['recordOutcome']>[1], status: number, reason: string, at: number, latencyUs: number) => {
    r.recordSent(method, at, false);
    if (status > 0) r.recordResponse(method, status);
    r.recordOutcome(method, cls, status, reason, at, at + 100, at + latencyUs);
  };
  for (let i = 0; i < 40; i++) outcome('REGISTER', 'ok', 200, 'OK', s(i / 20), 1_500 + i * 10);
  for (let i = 0; i < 10; i++) outcome('OPTIONS', 'ok', 200, 'OK', s(i / 10), 800);
  for (let i = 0; i < 12; i++) outcome('REGISTER', 'forbidden', 403, 'Forbidden', s(2 + i / 20), 2_000);
  for (let i = 0; i < 5; i++) outcome('REGISTER', 'throttled', 429, 'Too Many Requests', s(3 + i / 10), 1_000);
  outcome('REGISTER', 'timeout', 0, '', s(2.5), 1_400_000);
  const base = buildRunResult(r.snapshot(), { ...META, durationMs: 4000, extra: { generator: { rcvbufErrors: 7, warnings: ['send lag p99 12 ms: the generator may be the bottleneck'] }, transportStats: { sent: 68 } } });
  const phase = (name: string, type: string, startMs: number, endMs: number, ok: number, s403: number, s429: number): PhaseBlock => ({
    name,
    type,
    startMs,
    endMs,
    plannedArrivals: ok + s403 + s429,
    operations: {
      attempted: ok + s403 + s429,
      completed: ok + s403 + s429,
      byClass: { ...base.operations.byClass, ok, forbidden: s403, throttled: s429, timeout: 0 },
      byStatus: { 200: ok, ...(s403 ? { 403: s403 } : {}), ...(s429 ? { 429: s429 } : {}) },
      byReason: { '200 OK': ok },
      achievedRate: 0,
      okRate: 0,
    },
    latencyMs: base.latencyMs,
    series: [],
    histograms: {},
  });
  return {
    ...base,
    scenario: { name: 'friday-publish', file: 'scenarios/friday-publish.yaml', description: 'publish <b>storm</b>' },
    phases: [phase('login', 'burst', 0, 2000, 50, 0, 0), phase('publish', 'burst', 2000, 4000, 0, 12, 5)],
    marks: [
      { name: 'phase:login', tMs: 0 },
      { name: 'phase:publish', tMs: 2000 },
      { name: 'T0', tMs: 2000 },
    ],
    hooks: [{ name: 'publish', kind: 'trunk', atMs: 2000, startedMs: 2003, endedMs: 2004, ok: true, output: '{"ok":true}' }],
    thresholds: [
      { expression: 'rate(forbidden){phase=login}==0', ok: true, actual: 0, limit: 0 },
      { expression: 'p99<1ms', ok: false, actual: 2.123456789, limit: 1 },
      { expression: 'p99{phase=nope}<1s', ok: false, actual: null, limit: 1000, error: 'no phase "nope"' },
    ],
  };
}
