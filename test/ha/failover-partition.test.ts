import { waitFor } from '../broker/support';
import { checkNoAckAfterEpoch, FailoverGroup, SendLoad } from './failover-group';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('a partitioned master (SIGSTOP, then SIGCONT) of a 1-master-2-slave SYNC_MASTER group', () => {
  const group = new FailoverGroup('SYNC_MASTER');
  let stopLoad: (() => Promise<void>) | undefined;

  beforeAll(() => group.start(3), 60_000);
  afterAll(async () => {
    await stopLoad?.();
    await group.stop();
  }, 60_000);

  it('never acknowledges a write of the new epoch and loses nothing acknowledged', async () => {
    const load = new SendLoad(group);
    stopLoad = () => load.stop();
    await load.start(3);
    const first = await group.waitForMaster(0, 10_000);
    await sleep(1500);
    const old = first.node;
    const oldAddr = group.addr(old);
    old.proc!.child.kill('SIGSTOP');
    const next = await group.waitForMaster(first.epoch, 10_000);
    const ackedBefore = load.acked.size;
    await waitFor(() => load.acked.size > ackedBefore + 10, 10_000, 'sends on the new master');
    old.proc!.child.kill('SIGCONT');
    // The controller tells the old master of the new epoch: it follows the new master.
    await waitFor(
      async () => (await group.status(old))?.role === 'SLAVE',
      10_000,
      'the old master to step down',
    );
    await sleep(1000);
    await load.stop();
    await group.waitForFollowers(next);

    await checkNoAckAfterEpoch(group, load, oldAddr, next);
  }, 120_000);
});
