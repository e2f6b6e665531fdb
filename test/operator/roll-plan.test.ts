import type { HaStatus } from '../../common/protocol/ha-bodies';
import { replicationView, viewSettled } from '../../operator/controller/replication';
import { nextRollStep, type RollGroup, type RollReplica } from '../../operator/rolling/roll-plan';

/** Which pod a rolling restart takes next: pure, from pods, revisions, roles and lag. */

const replica = (pod: string, fields: Partial<RollReplica> = {}): RollReplica => ({
  pod,
  present: true,
  ready: true,
  updated: false,
  role: 'SLAVE',
  lagBytes: 0,
  ...fields,
});

const group = (replicas: RollReplica[], fields: Partial<RollGroup> = {}): RollGroup => ({
  masterPod: 'b-0',
  replicas,
  failoverEnabled: true,
  maxLagBytes: 1000,
  ...fields,
});

const master = (pod = 'b-0', fields: Partial<RollReplica> = {}) =>
  replica(pod, { role: 'MASTER', ...fields });

test('outdated slaves go first, highest ordinal first; the master is not touched while one is left', () => {
  expect(nextRollStep(group([master(), replica('b-1'), replica('b-2')]))).toEqual({
    action: 'restartSlave',
    pod: 'b-2',
  });
  expect(
    nextRollStep(group([master(), replica('b-1'), replica('b-2', { updated: true })])),
  ).toEqual({ action: 'restartSlave', pod: 'b-1' });
  // After a failover the master may be any ordinal; it is still last.
  expect(
    nextRollStep(group([replica('b-0'), master('b-1'), replica('b-2')], { masterPod: 'b-1' })),
  ).toEqual({ action: 'restartSlave', pod: 'b-2' });
});

test('slaves all updated: mastership goes to the updated slave closest to the master', () => {
  const slaves = [
    replica('b-1', { updated: true, lagBytes: 300 }),
    replica('b-2', { updated: true, lagBytes: 10 }),
  ];
  expect(nextRollStep(group([master(), ...slaves]))).toEqual({
    action: 'switchover',
    from: 'b-0',
    to: 'b-2',
  });
  // Ties: the lowest ordinal.
  expect(
    nextRollStep(
      group([master(), replica('b-1', { updated: true }), replica('b-2', { updated: true })]),
    ),
  ).toEqual({ action: 'switchover', from: 'b-0', to: 'b-1' });
});

test('after the switchover the old master is an outdated slave and is restarted; then done', () => {
  const afterSwitch = group([replica('b-0'), master('b-1', { updated: true })], {
    masterPod: 'b-1',
  });
  expect(nextRollStep(afterSwitch)).toEqual({ action: 'restartSlave', pod: 'b-0' });
  expect(
    nextRollStep(
      group([replica('b-0', { updated: true }), master('b-1', { updated: true })], {
        masterPod: 'b-1',
      }),
    ),
  ).toEqual({ action: 'done' });
});

test('never more than one broker down: nothing is restarted while a pod is missing, not ready or behind', () => {
  const cases: [RollReplica[], string][] = [
    [[master(), replica('b-1', { present: false }), replica('b-2')], 'b-1 is not running'],
    [[master(), replica('b-1', { ready: false }), replica('b-2')], 'b-1 is not ready'],
    [
      [master(), replica('b-1', { lagBytes: 5000 })],
      'b-1 is more than 1000 bytes behind the master',
    ],
    [[master(), replica('b-1', { lagBytes: undefined })], "b-1's replication lag is unknown"],
    [[master(), replica('b-1', { role: 'FENCED' })], 'b-1 does not follow the master yet'],
    [[master('b-0', { role: 'FENCED' }), replica('b-1')], 'b-0 does not answer as master yet'],
    [[master('b-0', { role: undefined }), replica('b-1')], 'b-0 does not answer as master yet'],
  ];
  for (const [replicas, reason] of cases) {
    expect(nextRollStep(group(replicas))).toEqual({ action: 'wait', reason });
  }
  // Everything updated but the last restarted slave still catching up: not done yet.
  expect(
    nextRollStep(
      group([master('b-0', { updated: true }), replica('b-1', { updated: true, lagBytes: 5000 })]),
    ),
  ).toEqual({ action: 'wait', reason: 'b-1 is more than 1000 bytes behind the master' });
});

test('without failover, or without a slave, the master is restarted in place, last', () => {
  const noFailover = { failoverEnabled: false };
  expect(nextRollStep(group([master(), replica('b-1')], noFailover))).toEqual({
    action: 'restartSlave',
    pod: 'b-1',
  });
  expect(nextRollStep(group([master(), replica('b-1', { updated: true })], noFailover))).toEqual({
    action: 'restartMaster',
    pod: 'b-0',
    why: 'failover disabled',
  });
  expect(nextRollStep(group([master()]))).toEqual({
    action: 'restartMaster',
    pod: 'b-0',
    why: 'no slave',
  });
  expect(nextRollStep(group([master('b-0', { updated: true })]))).toEqual({ action: 'done' });
});

test('replication lag: how far each broker is behind the master answering in the highest epoch', () => {
  const status = (role: HaStatus['role'], epoch: number, maxPhyOffset: number) => ({
    role,
    epoch,
    maxPhyOffset,
  });
  const view = replicationView(
    new Map([
      ['b-0', status('MASTER', 2, 1000)], // a stale master of an older epoch
      ['b-1', status('MASTER', 3, 5000)],
      ['b-2', status('SLAVE', 3, 4200)],
      ['b-3', status('FENCED', 3, 6000)],
    ]),
  );
  expect([...view].map(([pod, r]) => [pod, r.role, r.lagBytes])).toEqual([
    ['b-0', 'MASTER', 4000],
    ['b-1', 'MASTER', 0],
    ['b-2', 'SLAVE', 800],
    ['b-3', 'FENCED', 0],
  ]);
  expect(replicationView(new Map([['b-2', status('SLAVE', 3, 1)]])).get('b-2')?.lagBytes).toBe(
    undefined,
  );
});

test('a replication view is settled when every broker answers the role recorded for it', () => {
  const view = (roles: [string, 'MASTER' | 'SLAVE' | 'FENCED'][]) =>
    new Map(roles.map(([pod, role]) => [pod, { role, epoch: 2, maxPhyOffset: 0, lagBytes: 0 }]));
  const groupOf = () => 'broker-0';
  const recorded = new Map([['broker-0', { masterOrdinal: 1, epoch: 2 }]]);
  expect(
    viewSettled(
      view([
        ['d-broker-0-0', 'SLAVE'],
        ['d-broker-0-1', 'MASTER'],
      ]),
      groupOf,
      recorded,
    ),
  ).toBe(true);
  // The new master recorded but not told yet; a restarted broker not re-pointed yet.
  expect(viewSettled(view([['d-broker-0-1', 'SLAVE']]), groupOf, recorded)).toBe(false);
  expect(viewSettled(view([['d-broker-0-0', 'FENCED']]), groupOf, recorded)).toBe(false);
  // Nothing recorded: ordinal 0 is the master.
  expect(viewSettled(view([['d-broker-0-0', 'MASTER']]), groupOf, new Map())).toBe(true);
});
