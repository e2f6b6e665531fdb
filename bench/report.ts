import { formatTable } from '../cli/table';
import type { ScenarioId, ScenarioResult } from './load/scenarios';
import { SCENARIOS } from './load/scenarios';
import type { LatencySummary } from './stats/latency-histogram';

/** One scenario run against one target, or why it could not run. */
export interface ComparisonRow {
  scenario: ScenarioId;
  target: string;
  durability: string;
  result?: ScenarioResult;
  /** Highest resident memory of the server's processes seen during the scenario. */
  serverRssBytes?: number;
  /** Scenario 1 only: the server's memory a few seconds after the load stopped. */
  idleRssBytes?: number;
  error?: string;
}

/** The scenario's headline: throughput and the latency that matters for it. */
export function headline(result: ScenarioResult): { perSec: number; latency: LatencySummary } {
  if (result.scenario === 5 && result.consumedPerSec !== undefined && result.endToEnd) {
    return { perSec: result.consumedPerSec, latency: result.endToEnd };
  }
  return { perSec: result.sentPerSec, latency: result.send };
}

/**
 * How many times better our broker did than `row`: throughput ours ÷ theirs, except at a fixed
 * rate (scenario 4), where everyone sends the same and the p99 latency theirs ÷ ours decides.
 * Undefined when either side has no result.
 */
export function advantageOfOurs(
  row: ComparisonRow,
  ours: ComparisonRow | undefined,
): number | undefined {
  if (!row.result || !ours?.result) return undefined;
  const them = headline(row.result);
  const us = headline(ours.result);
  if (row.scenario === 4) return us.latency.p99 > 0 ? them.latency.p99 / us.latency.p99 : undefined;
  return them.perSec > 0 ? us.perSec / them.perSec : undefined;
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mib = (bytes: number) => (bytes / (1 << 20)).toFixed(0);

/** Peak server memory in MiB, and the idle figure after scenario 1. */
function rssCell(row: ComparisonRow): string {
  if (row.serverRssBytes === undefined) return '';
  const idle = row.idleRssBytes === undefined ? '' : ` (idle ${mib(row.idleRssBytes)})`;
  return `${mib(row.serverRssBytes)}${idle}`;
}

export function formatComparison(rows: ComparisonRow[], ourTarget: string): string {
  const ourRow = (scenario: ScenarioId) =>
    rows.find((r) => r.scenario === scenario && r.target === ourTarget);
  const failures: string[] = [];
  const body = rows.map((row) => {
    const label = [`${row.scenario}`, row.target, row.durability];
    if (!row.result) {
      const reason = row.error ?? 'no result';
      failures.push(
        `  [${failures.length + 1}] ${row.target}, scenario ${row.scenario}: ${reason}`,
      );
      return [...label, `failed [${failures.length}]`, '', '', '', '', '', ''];
    }
    const { perSec, latency } = headline(row.result);
    const advantage = advantageOfOurs(row, ourRow(row.scenario));
    return [
      ...label,
      perSec.toFixed(0),
      ms(latency.p50),
      ms(latency.p99),
      ms(latency.p999),
      String(row.result.errors),
      rssCell(row),
      advantage === undefined ? 'n/a' : `${advantage.toFixed(2)}x`,
    ];
  });
  const table = formatTable(
    [
      '#',
      'target',
      'durability',
      'msgs/s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'errors',
      'server RSS MiB',
      `${ourTarget} advantage`,
    ],
    body,
  )
    .split('\n')
    .map((line) => line.trimEnd()) // a failed row's empty cells
    .join('\n');
  const legend = Object.entries(SCENARIOS)
    .filter(([id]) => rows.some((r) => String(r.scenario) === id))
    .map(([id, s]) => `  ${id}: ${s.title}`)
    .join('\n');
  const failed = failures.length > 0 ? `\nfailed:\n${failures.join('\n')}\n` : '';
  return (
    `${table}\n${failed}\nscenarios:\n${legend}\n` +
    '  msgs/s and latency: acknowledged messages and send→ack time (of a batch in 2); scenario 4 from the intended send ' +
    'time (coordinated omission corrected); scenario 5 consumed msgs/s and send→receive time.\n' +
    `  ${ourTarget} advantage: ours ÷ theirs in msgs/s (scenario 4: their p99 ÷ ours); above 1x we are ahead.\n`
  );
}
