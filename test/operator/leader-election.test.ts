import { CoordinationV1Api } from '@kubernetes/client-node';
import { createLogger } from '../../common/logger';
import { LeaderElector } from '../../operator/controller/leader-election';
import { KubeApiServer } from '../support/kube-api-server';
import { eventually } from './kube-wait';

let api: KubeApiServer;
beforeAll(async () => {
  api = await KubeApiServer.start();
});
afterAll(() => api.stop());

/** A long lease keeps a busy machine's slow renewals from missing the renew deadline. */
function candidate(identity: string, log: string[], lease = 'lock', leaseDurationSeconds = 10) {
  return new LeaderElector(
    api.kubeConfig(),
    { namespace: 'default', name: lease, identity, leaseDurationSeconds, retryPeriodMs: 50 },
    {
      onStartedLeading: () => log.push(`${identity} leads`),
      onStoppedLeading: () => log.push(`${identity} stops`),
    },
    createLogger('election', 'silent'),
  );
}

test('one candidate holds the Lease; the other takes over when it is released', async () => {
  const log: string[] = [];
  const a = candidate('a', log);
  a.start();
  await eventually('a leads', () => a.isLeader);
  const b = candidate('b', log);
  b.start();
  await new Promise((r) => setTimeout(r, 300));
  expect(b.isLeader).toBe(false);
  const lease = await api
    .kubeConfig()
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: 'default', name: 'lock' });
  expect(lease.spec?.holderIdentity).toBe('a');
  await a.stop();
  await eventually('b leads', () => b.isLeader);
  const after = await api
    .kubeConfig()
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: 'default', name: 'lock' });
  expect(after.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  await b.stop();
  expect(log).toEqual(['a leads', 'a stops', 'b leads', 'b stops']);
});

test('a holder that stops renewing (crashed) loses the Lease once it expires', async () => {
  const leases = api.kubeConfig().makeApiClient(CoordinationV1Api);
  const now = new Date();
  await leases.createNamespacedLease({
    namespace: 'default',
    body: {
      metadata: { name: 'crashed' },
      spec: {
        holderIdentity: 'ghost',
        leaseDurationSeconds: 5,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      },
    },
  });
  const log: string[] = [];
  const next = candidate('next', log, 'crashed');
  next.start();
  await new Promise((r) => setTimeout(r, 300));
  expect(next.isLeader).toBe(false); // the ghost's lease is still current
  await eventually('next leads after expiry', () => next.isLeader, 15_000);
  expect(
    (await leases.readNamespacedLease({ namespace: 'default', name: 'crashed' })).spec,
  ).toMatchObject({
    holderIdentity: 'next',
    leaseTransitions: 1,
  });
  await next.stop();
  expect(log).toEqual(['next leads', 'next stops']);
});

test('stop() during a round in flight neither leads afterwards nor keeps the Lease', async () => {
  const log: string[] = [];
  const early = candidate('early', log, 'in-flight');
  early.start(); // the first round (read, then create) is on the wire now
  await early.stop();
  const lease = await api
    .kubeConfig()
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: 'default', name: 'in-flight' });
  expect(lease.spec?.holderIdentity).toBeUndefined();
  expect(early.isLeader).toBe(false);
  expect(log).toEqual([]);
  const standby = candidate('standby', log, 'in-flight');
  standby.start();
  await eventually('the standby leads at once', () => standby.isLeader, 5_000);
  await standby.stop();
});

test('a leader that cannot reach the API server steps down within the renew deadline', async () => {
  const own = await KubeApiServer.start();
  const log: string[] = [];
  const lonely = new LeaderElector(
    own.kubeConfig(),
    {
      namespace: 'default',
      name: 'lock',
      identity: 'lonely',
      leaseDurationSeconds: 3,
      retryPeriodMs: 50,
    },
    {
      onStartedLeading: () => log.push('leads'),
      onStoppedLeading: () => log.push('stops'),
    },
    createLogger('election', 'silent'),
  );
  lonely.start();
  await eventually('lonely leads', () => lonely.isLeader);
  await own.stop();
  // The renew deadline is 2 s of the 3 s lease; a standby could take over only after 3 s.
  await eventually('lonely steps down', () => !lonely.isLeader, 10_000);
  await lonely.stop();
  expect(log).toEqual(['leads', 'stops']);
});
