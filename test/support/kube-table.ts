import { isObject, type Json, type JsonObject } from './kube-patch';

/** A CRD printer column, as in spec.versions[].additionalPrinterColumns. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
  description?: string;
}

/**
 * Evaluates the JSONPath subset printer columns use: `.a.b`, `.a[0]` and filters like
 * `.conditions[?(@.type=="Ready")].status`.
 */
export function evaluateJsonPath(object: Json, path: string): Json | undefined {
  const steps =
    path.match(/\.[A-Za-z0-9_-]+|\[\d+\]|\[\?\(@\.[A-Za-z0-9_-]+==(?:"[^"]*"|'[^']*')\)\]/g) ?? [];
  let current: Json | undefined = object;
  for (const step of steps) {
    if (current === undefined || current === null) return undefined;
    if (step.startsWith('.')) {
      current = isObject(current) ? current[step.slice(1)] : undefined;
    } else if (/^\[\d+\]$/.test(step)) {
      current = Array.isArray(current) ? current[Number(step.slice(1, -1))] : undefined;
    } else {
      const [, key, raw] = /^\[\?\(@\.([A-Za-z0-9_-]+)==(.*)\)\]$/.exec(step) ?? [];
      const wanted = raw?.slice(1, -1);
      current = Array.isArray(current)
        ? current.find((item) => isObject(item) && item[key] === wanted)
        : undefined;
    }
  }
  return current;
}

/** "5s", "3m", "2h", "4d": the age format of kubectl. */
function age(timestamp: Json | undefined, now: number): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/**
 * A meta.k8s.io/v1 Table, what `kubectl get` asks for: a Name column, the printer columns (or
 * Age when the type has none), one row per object.
 */
export function toTable(
  items: JsonObject[],
  columns: PrinterColumn[],
  resourceVersion: string,
  now = Date.now(),
) {
  const effective =
    columns.length > 0
      ? columns
      : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: [
      {
        name: 'Name',
        type: 'string',
        format: 'name',
        description: 'Name of the object',
        priority: 0,
      },
      ...effective.map((c) => ({
        name: c.name,
        type: c.type === 'date' ? 'string' : c.type,
        format: '',
        description: c.description ?? '',
        priority: c.priority ?? 0,
      })),
    ],
    rows: items.map((item) => {
      const metadata = item.metadata as JsonObject;
      return {
        cells: [
          metadata.name as string,
          ...effective.map((c) => {
            const value = evaluateJsonPath(item, c.jsonPath);
            if (c.type === 'date') return age(value, now);
            return value === undefined
              ? null
              : isObject(value) || Array.isArray(value)
                ? JSON.stringify(value)
                : value;
          }),
        ],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata },
      };
    }),
  };
}
