import { Producer } from '../../client/producer';
import { RequestCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { waitFor } from '../broker/support';
import { FailoverGroup, type Node, QUEUES, SendLoad, TOPIC } from './failover-group';
import { readAll, silent } from './support';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The longest stretch without an acknowledgement that overlaps [from, to]. */
function pauseMs(load: SendLoad, from: number, to: number): number {
  const times = [...load.acked.values()].map((a) => a.at).sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < times.length; i++) {
    if (times[i] >= from && times[i - 1] <= to)
      longest = Math.max(longest, times[i] - times[i - 1]);
  }
  return longest;
}

describe('planned switchover of a 1-master-2-slave SYNC_MASTER group under send load', () => {
  const group = new FailoverGroup('SYNC_MASTER', {
    switchoverTimeoutMs: 3000,
    // Delay level 1 is 1 s; its progress is written often so the slaves get it soon.
    flags: { flushDelayOffsetInterval: 300 },
  });
  let load: SendLoad | undefined;

  beforeAll(() => group.start(3), 60_000);
  afterAll(async () => {
    await load?.stop();
    await group.stop();
  }, 60_000);

  const delayLevelOffset = async (node: Node): Promise<number> => {
    const r = await group.remoting.invoke(
      group.addr(node),
      createRequest(RequestCode.GET_ALL_DELAY_OFFSET),
      3000,
    );
    if (r.body === undefined) return 0;
    const table = (JSON.parse(r.body.toString()) as { offsetTable: Record<string, number> })
      .offsetTable;
    return table['1'] ?? 0;
  };

  it('moves the master without losing an acknowledged write, and gives it back on a stalled target', async () => {
    const first = await group.waitForMaster(0, 10_000);
    const slaves = group.nodes.filter((n) => n !== first.node);
    // A delayed message, delivered by the first master; its progress reaches both slaves. One
    // attempt only: a retried send could park two copies, and each would be delivered.
    const producer = new Producer({
      namesrvAddr: group.namesrv.addr,
      producerGroup: 'fo-delayed',
      logger: silent,
      retryTimesWhenSendFailed: 0,
    });
    await producer.start();
    const sent = await producer.send({
      topic: TOPIC,
      body: Buffer.from('delayed'),
      keys: 'delayed-1',
      delayTimeLevel: 1,
    });
    await producer.shutdown();
    expect(sent.sendStatus).toBe('SEND_OK');
    load = new SendLoad(group);
    await load.start(3);
    for (const slave of slaves) {
      await waitFor(
        async () => (await delayLevelOffset(slave)) >= 1,
        20_000,
        'delay offsets on the slave',
      );
    }

    // 1. To the in-sync slave with the highest end.
    let t0 = Date.now();
    const moved = await group.controller.switchover();
    let t1 = Date.now();
    const pauses = [pauseMs(load, t0, t1 + 500)];
    const took = [t1 - t0];
    const second = group.nodes.find((n) => group.addr(n) === moved.masterAddr)!;
    expect(moved.epoch).toBe(first.epoch + 1);
    expect(second).not.toBe(first.node);
    await waitFor(
      async () => {
        const s = await group.status(first.node);
        return s?.role === 'SLAVE' && s.epoch === moved.epoch && s.masterAddr === moved.masterAddr;
      },
      10_000,
      'the old master to follow the new one',
    );
    let acked = load.acked.size;
    await waitFor(() => load!.acked.size > acked + 10, 10_000, 'sends on the new master');
    pauses[0] = pauseMs(load, t0, t1 + 500);
    expect(
      first.node.proc!.logs.filter((l) => l.msg === 'CommitLog and consume queues truncated'),
    ).toEqual([]);

    // 2. Back to the old master, named as the target.
    await sleep(500);
    t0 = Date.now();
    const back = await group.controller.switchover(group.addr(first.node));
    t1 = Date.now();
    took.push(t1 - t0);
    expect(back).toEqual({ epoch: moved.epoch + 1, masterAddr: group.addr(first.node) });
    acked = load.acked.size;
    await waitFor(() => load!.acked.size > acked + 10, 10_000, 'sends on the old master again');
    pauses.push(pauseMs(load, t0, t1 + 500));

    // 3. Refused: not a member, and the master itself.
    await expect(group.controller.switchover('127.0.0.1:1')).rejects.toThrow(
      /not an in-sync slave/,
    );
    await expect(group.controller.switchover(group.addr(first.node))).rejects.toThrow(
      /not an in-sync slave/,
    );

    // 4. A target stopped (SIGSTOP) right before the master is fenced never catches up: the
    // master resumes in a new epoch.
    await group.waitForFollowers({ node: first.node, epoch: back.epoch });
    const stalled = second;
    group.controllerAdmin.beforeFence = async (masterAddr) => {
      stalled.proc!.child.kill('SIGSTOP');
      // The master is at least where the stopped slave is; one more write and it lags.
      const end = (await group.ha.status(masterAddr)).maxPhyOffset;
      await waitFor(
        async () => (await group.ha.status(masterAddr)).maxPhyOffset > end,
        5000,
        'a write the stopped target misses',
      );
    };
    t0 = Date.now();
    await expect(group.controller.switchover(group.addr(stalled))).rejects.toThrow(/abandoned/);
    t1 = Date.now();
    group.controllerAdmin.beforeFence = undefined;
    const resumed = await group.status(first.node);
    expect(resumed).toMatchObject({ role: 'MASTER', epoch: back.epoch + 1, fencedEpoch: 0 });
    acked = load.acked.size;
    await waitFor(
      () => load!.acked.size > acked + 10,
      10_000,
      'sends after the abandoned switchover',
    );
    const abandonedPause = pauseMs(load, t0, t1);
    stalled.proc!.child.kill('SIGCONT');
    const last = { node: first.node, epoch: back.epoch + 1 };

    await sleep(1500);
    await load.stop();
    await group.waitForFollowers(last);
    const onMaster = await readAll(group.addr(first.node), TOPIC, QUEUES);
    const count = new Map<string, number>();
    for (const m of onMaster) count.set(m.keys ?? '', (count.get(m.keys ?? '') ?? 0) + 1);
    const lost = [...load.acked.keys()].filter((k) => !count.has(k));
    process.stdout.write(
      `switchover under load: acked ${load.acked.size}, lost ${lost.length}, ` +
        `switchover ms: ${took.join(' ')}, longest write pause ms: ${pauses.join(' ')}, ` +
        `abandoned switchover: ${t1 - t0} ms, pause ${abandonedPause} ms\n`,
    );
    expect(lost).toEqual([]);
    // Delivered once: the masters after the first continued from the synced delay offset.
    expect(count.get('delayed-1')).toBe(1);
    const describe = (ms: typeof onMaster) =>
      ms.map((m) => `${m.queueId}/${m.queueOffset}/${m.offsetMsgId}/${m.keys}`);
    for (const n of group.nodes) {
      expect(describe(await readAll(group.addr(n), TOPIC, QUEUES))).toEqual(describe(onMaster));
    }
  }, 180_000);
});
