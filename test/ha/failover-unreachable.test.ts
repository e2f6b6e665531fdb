import { waitFor } from '../broker/support';
import { checkNoAckAfterEpoch, FailoverGroup, QUEUES, SendLoad, TOPIC } from './failover-group';
import { readAll } from './support';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The window fencing closes: the master keeps running and streaming to its slaves, only the
 * controller cannot reach it. Without fencing, a slave would go on acknowledging the old
 * master's writes after the controller read its end and promoted another.
 */
describe('a master alive but unreachable by the controller (1 master, 2 slaves, SYNC_MASTER)', () => {
  const group = new FailoverGroup('SYNC_MASTER');
  let load: SendLoad | undefined;

  beforeAll(() => group.start(3), 60_000);
  afterAll(async () => {
    await load?.stop();
    await group.stop();
  }, 60_000);

  it('loses no write acknowledged by anyone across the failover', async () => {
    load = new SendLoad(group);
    await load.start(3);
    const first = await group.waitForMaster(0, 10_000);
    await sleep(1500);
    const old = first.node;
    const oldAddr = group.addr(old);
    group.controllerAdmin.unreachable.add(oldAddr);
    const next = await group.waitForMaster(first.epoch, 10_000);
    expect(next.node).not.toBe(old);
    // Its followers fenced it too: it answers but takes no writes and left brokerId 0.
    const fenced = await group.status(old);
    expect(fenced?.fencedEpoch).toBeGreaterThan(first.epoch);
    const ackedBefore = load.acked.size;
    await waitFor(() => load!.acked.size > ackedBefore + 10, 10_000, 'sends on the new master');
    await sleep(1000);

    group.controllerAdmin.unreachable.delete(oldAddr);
    await waitFor(
      async () => {
        const s = await group.status(old);
        return s?.role === 'SLAVE' && s.epoch === next.epoch;
      },
      10_000,
      'the old master to follow the new one',
    );
    await load.stop();
    await group.waitForFollowers(next);

    const { onNew, ackedByOld, lost } = await checkNoAckAfterEpoch(group, load, oldAddr, next);
    process.stdout.write(
      `unreachable master: acked ${load.acked.size} (${ackedByOld} by the old master), lost ${lost.length}\n`,
    );
    // The old master rejoined with the same records at the same offsets.
    const describe = (ms: typeof onNew) =>
      ms.map((m) => `${m.queueId}/${m.queueOffset}/${m.offsetMsgId}/${m.keys}`);
    expect(describe(await readAll(oldAddr, TOPIC, QUEUES))).toEqual(describe(onNew));
  }, 120_000);
});
