import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { K8sObject } from './k8s-validate';
import { CHART_DIR, helm, type RunResult } from './tools';

export const RELEASE = 'rmq';
export const NAMESPACE = 'rocketmq-system';

/** Parses multi-document YAML into objects, skipping empty documents. */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0].message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** `helm template` of the chart with `values` written to a values file, plus extra flags. */
export function helmTemplate(
  values: Record<string, unknown> = {},
  flags: string[] = [],
): RunResult {
  const dir = mkdtempSync(join(tmpdir(), 'chart-values-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(values));
    return helm(['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '-f', file, ...flags]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders the chart and returns its objects; fails with helm's message when rendering fails. */
export function render(values: Record<string, unknown> = {}, flags: string[] = []): K8sObject[] {
  const result = helmTemplate(values, flags);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseObjects(result.stdout);
}

/** The CRDs shipped in the chart's crds/ (a copy of the repository's, checked by a test). */
export function chartCrds(): K8sObject[] {
  const dir = join(CHART_DIR, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseObjects(readFileSync(join(dir, f), 'utf8')));
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among the rendered objects`);
  return found;
}
