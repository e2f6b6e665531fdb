import { createLogger } from '../common/logger';
import { runScenario, type ScenarioId, type ScenarioSettings } from './load/scenarios';
import { targetNamed } from './targets/registry';
import type { Endpoint } from './targets/target';

/** What the comparison passes to a scenario process (as its one argument, JSON). */
export interface ScenarioSpec {
  scenario: ScenarioId;
  endpoint: Endpoint;
  settings: ScenarioSettings;
}

/** A client that does not close in this time is abandoned: the result is already measured. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * One scenario against one running server, in a process of its own (so the load generator
 * never shares an event loop with a server or another scenario). Prints the ScenarioResult as
 * one JSON line on stdout; logs go to stderr.
 */
async function main(specJson: string | undefined): Promise<void> {
  if (!specJson) throw new Error('usage: run-scenario <ScenarioSpec as JSON>');
  const spec = JSON.parse(specJson) as ScenarioSpec;
  const log = createLogger('bench-scenario', process.env.LOG_LEVEL ?? 'warn', 'stderr');
  const target = targetNamed(spec.endpoint.target).client(spec.endpoint);
  await target.connect();
  const result = await runScenario(spec.scenario, target, spec.settings);
  const closed = await Promise.race([
    target.close().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), CLOSE_TIMEOUT_MS).unref()),
  ]);
  if (!closed) log.warn({ target: spec.endpoint.target }, 'client did not close in time');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    // The stack for whoever reads the log; the last line is the reason the table shows.
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
