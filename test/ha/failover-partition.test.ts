import { decodeOffsetMsgId } from '../../common/message/message-id';
import { waitFor } from '../broker/support';
import { FailoverGroup, QUEUES, SendLoad, TOPIC } from './failover-group';
import { readAll } from './support';

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

    const history = await group.ha.epochs(group.addr(next.node));
    const newEpochStart = history.epochs.find((e) => e.epoch === next.epoch)!.startOffset;
    const ackedByOld = [...load.acked.values()]
      .map((a) => decodeOffsetMsgId(a.broker))
      .filter((id) => `${id.host.ip}:${id.host.port}` === oldAddr);
    // Whatever the old master acknowledged lies before the point where the new epoch began.
    expect(ackedByOld.length).toBeGreaterThan(0);
    expect(ackedByOld.filter((id) => id.physicalOffset >= newEpochStart)).toEqual([]);
    const present = new Set(
      (await readAll(group.addr(next.node), TOPIC, QUEUES)).map((m) => m.keys),
    );
    expect([...load.acked.keys()].filter((k) => !present.has(k))).toEqual([]);
  }, 120_000);
});
