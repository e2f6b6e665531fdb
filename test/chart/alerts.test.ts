import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  alertRules,
  dashboardQueries,
  dashboards,
  metricNames,
  RULES_FILE,
  substituteGrafanaVariables,
} from './support/promql';
import { CHART_DIR, ensurePromtool, promtool } from './support/tools';

const PROMTOOL_TESTS = join(__dirname, 'alerts.promtool.yaml');

/** The alerts issue 8 asks for, by the name they have in the rules file. */
const REQUIRED_ALERTS = [
  'RocketMQBrokerDown',
  'RocketMQBrokerGroupWithoutMaster',
  'RocketMQReplicationLagHigh',
  'RocketMQConsumerLagGrowing',
  'RocketMQBrokerDiskNearlyFull',
  'RocketMQFlushLatencyHigh',
];

beforeAll(ensurePromtool, 300_000);

function expectSuccess(result: { status: number | null; stdout: string; stderr: string }) {
  expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toMatchObject({
    status: 0,
  });
}

describe('alert rules', () => {
  it('pass promtool check rules, with the alerts the issue asks for', () => {
    const result = promtool(['check', 'rules', RULES_FILE]);
    expectSuccess(result);
    const rules = alertRules();
    expect(result.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
    for (const rule of rules) {
      expect([rule.alert, rule.labels.severity]).toEqual([
        rule.alert,
        expect.stringMatching(/^(warning|critical)$/),
      ]);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
    }
  });

  it('pass their promtool unit tests, each alert shown firing at least once', () => {
    expectSuccess(promtool(['test', 'rules', PROMTOOL_TESTS]));
    const tests = parse(readFileSync(PROMTOOL_TESTS, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((t) =>
        t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    expect(
      alertRules()
        .map((r) => r.alert)
        .filter((a) => !fired.has(a)),
    ).toEqual([]);
  });
});

describe('Grafana dashboards', () => {
  it('cover the cluster, brokers, topics and groups, and the operator, with unique uids', () => {
    const all = dashboards();
    expect(all.map((d) => d.file).sort()).toEqual([
      'broker.json',
      'cluster-overview.json',
      'operator.json',
      'topics-and-groups.json',
    ]);
    expect(new Set(all.map((d) => d.json.uid)).size).toBe(all.length);
    for (const { file, json } of all) {
      expect(json.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource' });
      const panels = json.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
      expect([file, new Set(panels.map((p) => p.id)).size]).toEqual([file, panels.length]);
      // Every query goes to the data source picked in the dashboard, none to a fixed one.
      for (const panel of panels.filter((p) => p.type !== 'row')) {
        expect([file, panel.title, panel.datasource]).toEqual([
          file,
          panel.title,
          { type: 'prometheus', uid: '${datasource}' },
        ]);
      }
    }
  });

  it('use only PromQL that promtool accepts', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(30);
    // promtool checks expressions in rule files, so each query becomes a recording rule.
    const rules = {
      groups: [
        {
          name: 'dashboards',
          rules: queries.map((q, i) => ({
            record: `dashboard:query:${i}`,
            expr: substituteGrafanaVariables(q.expr),
          })),
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
    try {
      const file = join(dir, 'dashboards.rules.yaml');
      writeFileSync(file, stringify(rules));
      const result = promtool(['check', 'rules', file]);
      expectSuccess(result);
      expect(result.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the metrics the dashboards and alerts need', () => {
  it('are all listed in the chart README, so the servers can be held to them', () => {
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([a-z0-9_]+)`/gm)].map((m) => m[1]));
    const used = new Set([
      ...dashboardQueries().flatMap((q) => metricNames(q.expr)),
      ...alertRules().flatMap((r) => metricNames(r.expr)),
    ]);
    expect([...used].filter((m) => !documented.has(m)).sort()).toEqual([]);
    expect([...documented].filter((m) => !used.has(m)).sort()).toEqual([]);
  });
});
