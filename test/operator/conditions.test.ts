import { conditionOf, setConditions } from '../../operator/controller/conditions';

test('lastTransitionTime moves only when a condition flips; reason, message and generation follow', () => {
  const first = setConditions(
    undefined,
    [{ type: 'Ready', status: 'False', reason: 'WaitingForPods', message: '0/2' }],
    1,
    't1',
  );
  expect(first).toEqual([
    {
      type: 'Ready',
      status: 'False',
      reason: 'WaitingForPods',
      message: '0/2',
      lastTransitionTime: 't1',
      observedGeneration: 1,
    },
  ]);
  const same = setConditions(
    first,
    [{ type: 'Ready', status: 'False', reason: 'WaitingForPods', message: '1/2' }],
    2,
    't2',
  );
  expect(conditionOf(same, 'Ready')).toMatchObject({
    message: '1/2',
    lastTransitionTime: 't1',
    observedGeneration: 2,
  });
  const flipped = setConditions(
    same,
    [
      { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: 'ok' },
      { type: 'Paused', status: 'False', reason: 'NotPaused', message: '' },
    ],
    2,
    't3',
  );
  expect(flipped.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
    ['Ready', 'True', 't3'],
    ['Paused', 'False', 't3'],
  ]);
});
