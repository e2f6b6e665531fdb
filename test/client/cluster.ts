/** A name server and a broker as real processes, plus topic creation through our admin client. */
import { AdminClient } from '../../client/admin-client';
import { createLogger } from '../../common/logger';
import { startBroker, type RunningBroker, waitFor } from '../broker/support';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';

export const silent = createLogger('test', 'silent');

export interface TestCluster {
  namesrv: RunningNamesrv;
  broker: RunningBroker;
  admin: AdminClient;
  /** Creates a topic on the broker and waits until the name server routes it. */
  createTopic(topic: string, queues: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(
  brokerFlags: Record<string, string | number> = {},
): Promise<TestCluster> {
  const namesrv = await startNamesrv();
  const broker = await startBroker(namesrv.addr, brokerFlags);
  const admin = new AdminClient({ namesrvAddr: namesrv.addr, logger: silent });
  return {
    namesrv,
    broker,
    admin,
    async createTopic(topic, queues) {
      await admin.createTopic(broker.addr, {
        topic,
        readQueueNums: queues,
        writeQueueNums: queues,
      });
      await waitFor(
        () =>
          admin.topicRoute(topic).then(
            () => true,
            () => false,
          ),
        10_000,
        `route of ${topic}`,
      );
    },
    async stop() {
      admin.close();
      await broker.stop();
      await namesrv.stop();
      removeDir(broker.dataDir);
      removeDir(namesrv.dataDir);
    },
  };
}
