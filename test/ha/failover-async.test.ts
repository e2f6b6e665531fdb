import { decodeOffsetMsgId } from '../../common/message/message-id';
import {
  FailoverGroup,
  killMasters,
  type KillRecord,
  QUEUES,
  SendLoad,
  TOPIC,
} from './failover-group';
import { readAll } from './support';

const KILLS = 10;

/**
 * ASYNC_MASTER acknowledges before a slave has the bytes: a failover may lose what the slave had
 * not received. The test counts the loss per failover and checks that every lost message lay
 * beyond the offset the slave had acknowledged when the master was killed.
 */
describe('automatic failover under ASYNC_MASTER load (real processes, SIGKILL)', () => {
  const group = new FailoverGroup('ASYNC_MASTER');
  let load: SendLoad | undefined;

  beforeAll(() => group.start(2), 60_000);
  afterAll(async () => {
    await load?.stop();
    await group.stop();
  }, 60_000);

  it(`reports acknowledged messages lost per failover, never more than the lag allowed`, async () => {
    load = new SendLoad(group);
    await load.start(3);
    const kills: KillRecord[] = [];
    const master = await killMasters(group, load, KILLS, kills);
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    await group.waitForFollowers(master);

    const present = new Set(
      (await readAll(group.addr(master.node), TOPIC, QUEUES)).map((m) => m.keys),
    );
    const lostPerFailover = kills.map(() => 0);
    for (const [key, ack] of load.acked) {
      if (present.has(key)) continue;
      const k = kills.findIndex((kill) => kill.at >= ack.at);
      expect(k).toBeGreaterThanOrEqual(0);
      const { host, physicalOffset } = decodeOffsetMsgId(ack.broker);
      // Lost only what the killed master held beyond the slave's acknowledged offset.
      expect(`${host.ip}:${host.port}`).toBe(kills[k].masterAddr);
      expect(physicalOffset).toBeGreaterThanOrEqual(kills[k].confirmed);
      lostPerFailover[k]++;
    }
    process.stdout.write(
      `ASYNC_MASTER failover: ${KILLS} kills, acked ${load.acked.size}, ` +
        `lost per failover: ${lostPerFailover.join(' ')}\n`,
    );
  }, 240_000);
});
