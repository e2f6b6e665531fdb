import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR } from './tools';

export const RULES_FILE = join(CHART_DIR, 'alerts/rocketmq-ts.rules.yaml');
export const DASHBOARD_DIR = join(CHART_DIR, 'dashboards');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const file = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return file.groups.flatMap((g) => g.rules);
}

export interface DashboardQuery {
  dashboard: string;
  /** Panel title, or `$name` for a template variable's query. */
  source: string;
  expr: string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  targets?: { expr: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

export function dashboards(): { file: string; json: Dashboard }[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({
      file,
      json: JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as Dashboard,
    }));
}

/** Every PromQL expression of every dashboard: panel targets and `label_values(expr, label)` variables. */
export function dashboardQueries(): DashboardQuery[] {
  return dashboards().flatMap(({ file, json }) => {
    const panels = json.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    const targets = panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ dashboard: file, source: p.title, expr: t.expr })),
    );
    const variables = json.templating.list
      .filter((v) => v.type === 'query')
      .map((v) => {
        const query = (v.query as { query: string }).query;
        const match = /^label_values\((.+),\s*\w+\)$/.exec(query);
        if (!match)
          throw new Error(`${file}: variable $${v.name} is not label_values(…): ${query}`);
        return { dashboard: file, source: `$${v.name}`, expr: match[1] };
      });
    return [...targets, ...variables];
  });
}

/**
 * What Grafana substitutes before the query reaches Prometheus: interval macros become a
 * duration, template variables (multi-value, "All" = .*) a regex.
 */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{?\w+(:\w+)?\}?/g, '.*');
}

/** Metric names used in an expression: ours and the exporter's share prefixes; `up` is Prometheus's. */
export function metricNames(expr: string): string[] {
  const names = [...expr.matchAll(/\b((?:rocketmq|rmqts)_[a-z0-9_]+|up)\b(?!\s*\()/g)].map((m) =>
    m[1].replace(/_bucket$/, ''),
  );
  return [...new Set(names)];
}
