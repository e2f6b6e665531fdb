import { readAll } from './support';
import {
  FailoverGroup,
  killMasters,
  type KillRecord,
  QUEUES,
  SendLoad,
  TOPIC,
} from './failover-group';

const KILLS = 10;

describe('automatic failover under SYNC_MASTER load (real processes, SIGKILL)', () => {
  const group = new FailoverGroup('SYNC_MASTER');
  let load: SendLoad | undefined;

  beforeAll(() => group.start(2), 60_000);
  afterAll(async () => {
    await load?.stop();
    await group.stop();
  }, 60_000);

  it(`survives ${KILLS} master kills without losing an acknowledged message`, async () => {
    load = new SendLoad(group);
    await load.start(3);
    const kills: KillRecord[] = [];
    const master = await killMasters(group, load, KILLS, kills);
    await new Promise((r) => setTimeout(r, 1000));
    await load.stop();
    await group.waitForFollowers(master);

    const onMaster = await readAll(group.addr(master.node), TOPIC, QUEUES);
    const keys = new Set(onMaster.map((m) => m.keys));
    const lost = [...load.acked.keys()].filter((k) => !keys.has(k));
    const takeovers = kills.map((k) => k.takeoverMs);
    process.stdout.write(
      `SYNC_MASTER failover: ${KILLS} kills, acked ${load.acked.size}, lost ${lost.length}, ` +
        `kill→new master ms: ${takeovers.join(' ')}\n`,
    );
    expect(lost).toEqual([]);
    expect(Math.max(...takeovers)).toBeLessThan(10_000);
    // The rejoined old master holds the same records at the same offsets.
    const [a, b] = group.nodes;
    const describe = (ms: typeof onMaster) =>
      ms.map((m) => `${m.queueId}/${m.queueOffset}/${m.offsetMsgId}/${m.keys}`);
    expect(describe(await readAll(group.addr(a), TOPIC, QUEUES))).toEqual(
      describe(await readAll(group.addr(b), TOPIC, QUEUES)),
    );
  }, 240_000);
});
