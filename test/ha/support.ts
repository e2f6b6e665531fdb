/** Broker groups as real processes for the replication and failover tests. */
import { BrokerApi, PullSysFlag } from '../../client/broker-api';
import { HaAdminClient } from '../../client/ha-admin';
import type { MessageExt } from '../../client/message';
import { createLogger } from '../../common/logger';
import { RemotingClient } from '../../common/net/client';
import { startBroker, type RunningBroker, waitFor } from '../broker/support';

export const silent = createLogger('ha-test', 'silent');

/** Flags that make a group react fast: registration every second, small CommitLog files. */
export const FAST = {
  registerNameServerPeriod: 1000,
  mappedFileSizeCommitLog: 4 * 1024 * 1024,
  flushIntervalCommitLog: 100,
};

export async function startMaster(
  namesrvAddr: string,
  flags: Record<string, string | number | boolean> = {},
): Promise<RunningBroker> {
  return startBroker(namesrvAddr, { ...FAST, brokerRole: 'SYNC_MASTER', brokerId: 0, ...flags });
}

export async function startSlave(
  namesrvAddr: string,
  brokerId: number,
  flags: Record<string, string | number | boolean> = {},
): Promise<RunningBroker> {
  return startBroker(namesrvAddr, { ...FAST, brokerRole: 'SLAVE', brokerId, ...flags });
}

/** Waits until the master streams to `count` slaves. */
export async function waitForSlaves(ha: HaAdminClient, master: string, count: number) {
  await waitFor(
    async () => (await ha.status(master).catch(() => undefined))?.slaves.length === count,
    15_000,
    `${count} slave(s) connected to ${master}`,
  );
}

/** Waits until `slave` holds the CommitLog up to `offset`. */
export async function waitForOffset(ha: HaAdminClient, slave: string, offset: number) {
  await waitFor(
    async () => ((await ha.status(slave).catch(() => undefined))?.maxPhyOffset ?? -1) >= offset,
    15_000,
    `${slave} to reach offset ${offset}`,
  );
}

/** Every message of `topic`'s queues on one broker, read with plain pulls. */
export async function readAll(
  brokerAddr: string,
  topic: string,
  queues: number,
  group = 'ha-reader',
): Promise<MessageExt[]> {
  const remoting = new RemotingClient({ logger: silent });
  const api = new BrokerApi(remoting, 5000);
  const out: MessageExt[] = [];
  try {
    for (let queueId = 0; queueId < queues; queueId++) {
      let offset = 0;
      for (;;) {
        const r = await api.pull(
          brokerAddr,
          'broker-a',
          {
            consumerGroup: group,
            topic,
            queueId,
            queueOffset: offset,
            maxMsgNums: 32,
            sysFlag: PullSysFlag.SUBSCRIPTION,
            commitOffset: 0,
            suspendTimeoutMillis: 0,
            subscription: '*',
            subVersion: 0,
            expressionType: 'TAG',
          },
          5000,
        );
        if (r.status !== 'FOUND') break;
        out.push(...r.messages);
        offset = r.nextBeginOffset;
      }
    }
  } finally {
    remoting.close();
  }
  return out;
}
