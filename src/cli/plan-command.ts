// `sipstorm plan FILE`: computes a scenario's arrival plan without sending anything and prints its
// shape: per phase its span, arrivals and peak rate, an arrivals-per-second sparkline, T0, and for a
// wall-clock T0 the real moment the run would start. `--json` prints the per-second counts (and the
// phases) as JSON for plotting. Bad input (scenario, replay file, T0) exits 2 with the message.
import type { CommandModule } from 'yargs';
import { DateTime } from 'luxon';
import { loadScenario, ScenarioError } from '../scenario/load.js';
import type { Scenario } from '../scenario/types.js';
import { AnchorError, nextWallClock } from '../schedule/anchor.js';
import { buildPlan, PlanError } from '../schedule/plan.js';
import { describePlan, sparkline, type PlanShape } from '../schedule/plan-shape.js';
import { ReplayError } from '../schedule/replay.js';
import { EXIT_OK, EXIT_USAGE } from './output.js';
import { UsageError } from './units.js';

/** When a wall-clock T0 falls and when the run must start for the phases before it to end there. */
interface WallClockStart {
  at: string;
  tz: string;
  t0: Date;
  start: Date;
}

export function planCommand(setExit: (code: number) => void): CommandModule {
  return {
    command: 'plan <file>',
    describe: "Show a scenario's arrival plan (phases, arrivals per second, T0) without sending anything",
    builder: (y) =>
      y
        .positional('file', { type: 'string', describe: 'Scenario file (YAML)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print arrivals per second and the phases as JSON' })
        .option('width', { type: 'number', default: 72, describe: 'Columns of the arrivals-per-second sparkline' })
        .option('now', { type: 'string', describe: 'Compute a wall-clock T0 as if it were this moment (ISO 8601, e.g. 2026-10-30T15:00:00-05:00)' }),
    handler: (argv) => {
      const file = argv.file as string;
      const now = parseNow(argv.now as string | undefined);
      const width = argv.width as number;
      if (!Number.isInteger(width) || width < 10) throw new UsageError(`--width must be an integer >= 10, got ${width}`);
      let scenario: Scenario;
      let shape: PlanShape;
      let wallClock: WallClockStart | undefined;
      try {
        scenario = loadScenario(file);
        shape = describePlan(buildPlan(scenario));
        const t0 = scenario.t0;
        if (t0 && 'at' in t0) {
          // The next T0 the run can still reach with its full lead-in (the phases before T0).
          const leadMs = (shape.t0Us ?? 0) / 1000;
          const t0At = nextWallClock(t0.at, t0.tz, new Date(now.getTime() + leadMs));
          wallClock = { at: t0.at, tz: t0.tz, t0: t0At, start: new Date(t0At.getTime() - leadMs) };
        }
      } catch (err) {
        if (!(err instanceof ScenarioError || err instanceof PlanError || err instanceof ReplayError || err instanceof AnchorError)) throw err;
        // Scenario, plan and replay errors already name their file; a T0 error names only the field.
        process.stderr.write(`${err instanceof AnchorError ? `${file}: ` : ''}${err.message}\n`);
        setExit(EXIT_USAGE);
        return;
      }
      process.stdout.write(argv.json ? `${JSON.stringify(planJson(scenario, shape, wallClock))}\n` : renderPlan(scenario, shape, wallClock, width));
      setExit(EXIT_OK);
    },
  };
}

function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const parsed = DateTime.fromISO(text, { setZone: true });
  if (!parsed.isValid) throw new UsageError(`--now: expected an ISO 8601 moment like 2026-10-30T15:00:00-05:00, got "${text}"`);
  return parsed.toJSDate();
}

function planJson(scenario: Scenario, shape: PlanShape, wallClock: WallClockStart | undefined): object {
  return {
    name: scenario.name,
    file: scenario.file,
    total: shape.total,
    totalMs: shape.totalUs / 1000,
    ...(shape.t0Us !== undefined ? { t0Ms: shape.t0Us / 1000 } : {}),
    ...(wallClock ? { t0At: wallClock.t0.toISOString(), startAt: wallClock.start.toISOString() } : {}),
    phases: shape.phases.map((p) => ({ name: p.name, type: p.type, startMs: p.startUs / 1000, endMs: p.endUs / 1000, arrivals: p.arrivals, peakPerSecond: p.peakPerSecond })),
    perSecond: shape.perSecond,
  };
}

export function renderPlan(scenario: Scenario, shape: PlanShape, wallClock: WallClockStart | undefined, width: number): string {
  const out: string[] = [];
  out.push(`${scenario.name} (${scenario.file}): ${count(scenario.agents.count, 'agent')}, seed ${scenario.seed}`);
  out.push('');
  const rows = [
    ['phase', 'type', 'start', 'end', 'arrivals', 'peak/s'],
    ...shape.phases.map((p) => [p.name, p.type, seconds(p.startUs), seconds(p.endUs), String(p.arrivals), String(p.peakPerSecond)]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const numeric = [false, false, true, true, true, true];
  for (const r of rows) out.push(r.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
  out.push('');
  out.push(`total: ${count(shape.total, 'arrival')} over ${seconds(shape.totalUs)}`);
  if (shape.t0Us !== undefined) out.push(`T0: ${seconds(shape.t0Us)} after the start`);
  if (wallClock) {
    const local = (d: Date) => DateTime.fromJSDate(d, { zone: wallClock.tz }).toFormat('ccc yyyy-MM-dd HH:mm:ss ZZZZ');
    out.push(`T0 at "${wallClock.at}" ${wallClock.tz}: ${local(wallClock.t0)} (${wallClock.t0.toISOString()})`);
    out.push(`run starts ${local(wallClock.start)} (${wallClock.start.toISOString()})`);
  }
  if (shape.perSecond.length > 0 && shape.total > 0) {
    const spark = sparkline(shape.perSecond, width);
    out.push('');
    out.push(`arrivals per second (peak ${spark.max}/s${spark.secondsPerColumn > 1 ? `, each column the busiest of ${spark.secondsPerColumn} s` : ''}):`);
    out.push(`|${spark.line}|`);
    out.push(axis(spark.line.length, spark.secondsPerColumn, shape));
  }
  return `${out.join('\n')}\n`;
}

/** "0s" under the first column and the end under the last; then a "^ T0" line under T0's column. */
function axis(columns: number, secondsPerColumn: number, shape: PlanShape): string {
  const end = `${Math.round(shape.totalUs / 1e6)}s`;
  const lines = [`0s${' '.repeat(Math.max(1, columns + 2 - 2 - end.length))}${end}`];
  if (shape.t0Us !== undefined) {
    const col = 1 + Math.min(columns - 1, Math.floor(shape.t0Us / 1e6 / secondsPerColumn));
    lines.push(col + 4 <= columns + 2 ? `${' '.repeat(col)}^ T0` : `${' '.repeat(Math.max(0, col - 3))}T0 ^`);
  }
  return lines.join('\n');
}

/** To the millisecond: a replay's end (last row + 1 us) prints as its last row's time. */
function seconds(us: number): string {
  const ms = Math.round(us / 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
