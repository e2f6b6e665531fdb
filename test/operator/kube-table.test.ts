import { evaluateJsonPath, toTable } from '../support/kube-table';

const cluster = {
  metadata: { name: 'demo', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { nameServer: { replicas: 2 } },
  status: {
    conditions: [
      { type: 'Progressing', status: 'False' },
      { type: 'Ready', status: 'True' },
    ],
  },
};

test('printer-column JSONPath: fields, indexes and equality filters', () => {
  expect(evaluateJsonPath(cluster, '.spec.nameServer.replicas')).toBe(2);
  expect(evaluateJsonPath(cluster, '.status.conditions[?(@.type=="Ready")].status')).toBe('True');
  expect(evaluateJsonPath(cluster, ".status.conditions[?(@.type=='Progressing')].status")).toBe(
    'False',
  );
  expect(evaluateJsonPath(cluster, '.status.conditions[1].type')).toBe('Ready');
  expect(evaluateJsonPath(cluster, '.status.missing.deeper')).toBeUndefined();
});

test('a Table has Name, the printer columns with ages, and missing values as null', () => {
  const table = toTable(
    [cluster],
    [
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Groups', type: 'string', jsonPath: '.status.readyGroups' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    '7',
    Date.parse('2026-01-01T03:00:00Z'),
  );
  expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Ready', 'Groups', 'Age']);
  expect(table.rows[0].cells).toEqual(['demo', 'True', null, '3h']);
  expect(toTable([cluster], [], '7', Date.parse('2026-01-01T00:01:00Z')).rows[0].cells).toEqual([
    'demo',
    '60s',
  ]);
});
